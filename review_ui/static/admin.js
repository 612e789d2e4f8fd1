// The admin pages: users and roles, API tokens, the rubric (admin page); chain verification
// (audit page). Changes go through the JSON API; the changed section is re-rendered by the server.
import { api, csrf } from "/static/app.js";

const message = document.getElementById("admin-message");

function say(text, bad = false) {
  if (!message) return;
  message.textContent = text;
  message.className = bad ? "bad" : "good";
}

async function reload(name) {
  const response = await fetch(`/admin/fragments/${name}${location.search}`);
  if (!response.ok) throw new Error(`could not reload the ${name} (${response.status})`);
  document.getElementById(`admin-${name}`).innerHTML = await response.text();
}

// --- users -------------------------------------------------------------------------------------

const users = document.getElementById("admin-users");

users?.addEventListener("change", async (event) => {
  const box = event.target.closest('input[name="role"]');
  if (!box) return;
  const row = box.closest("tr");
  const roles = [...row.querySelectorAll('input[name="role"]:checked')].map((x) => x.value);
  if (roles.length === 0) {
    box.checked = true;
    return say(`${row.dataset.username} needs at least one role; disable the account instead.`, true);
  }
  try {
    await api("PATCH", `/api/v1/users/${row.dataset.userId}`, { roles });
    say(`${row.dataset.username} now has the roles: ${roles.join(", ")}.`);
  } catch (error) {
    box.checked = !box.checked;
    say(error.message, true);
  }
});

// "Dana Reyes (4711), Metro": the person of the directory an account is.
function personText(person) {
  const where = person.affiliation ? `, ${person.affiliation}` : "";
  return `${person.name} (${person.badge_number})${where}${person.kind === "civilian" ? ", civilian" : ""}`;
}

function linkedText(user) {
  if (user.officer) return `${user.username} is ${personText(user.officer)}.`;
  if (user.badge_number) {
    return `${user.username}: badge ${user.badge_number} is not in the officer directory, so the account is ` +
      "linked to nobody until an import adds it.";
  }
  return `${user.username} has no badge: linked to nobody.`;
}

async function linkOfficer(row, badge) {
  try {
    const user = await api("PUT", `/api/v1/users/${row.dataset.userId}/officer`, { badge_number: badge });
    await reload("users");
    say(linkedText(user));
  } catch (error) { say(error.message, true); }
}

users?.addEventListener("submit", (event) => {
  const form = event.target.closest("form.link-form");
  if (!form) return;
  event.preventDefault();
  linkOfficer(form.closest("tr"), form.elements.badge_number.value.trim() || null);
});

users?.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  if (button.dataset.action === "unlink") {
    const row = button.closest("tr");
    if (confirm(`Take the badge off ${row.dataset.username}? Their footage stays filed under the badge.`)) {
      await linkOfficer(row, null);
    }
    return;
  }
  const row = button.closest("tr");
  const url = `/api/v1/users/${row.dataset.userId}`;
  const action = button.dataset.action;
  try {
    if (action === "unlock") await api("POST", `${url}/unlock`);
    else if (action === "disable" && !confirm(`Disable ${row.dataset.username}? Their sessions end at once.`)) return;
    else await api("PATCH", url, { active: action === "enable" });
    await reload("users");
    say(`${row.dataset.username}: ${action === "unlock" ? "unlocked" : action + "d"}.`);
  } catch (error) { say(error.message, true); }
});

document.getElementById("new-user")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const field = (name) => form.elements[name].value.trim() || null;
  const roles = [...form.querySelectorAll('input[name="roles"]:checked')].map((x) => x.value);
  if (roles.length === 0) return say("Give the new user at least one role.", true);
  try {
    const user = await api("POST", "/api/v1/users", {
      username: field("username"), display_name: field("display_name"), badge_number: field("badge_number"),
      password: form.elements.password.value, roles,
    });
    form.reset();
    await reload("users");
    say(`User ${user.username} created. ${linkedText(user)} Give them the password through a safe channel; ` +
      "they choose their own at the first sign-in.", !user.officer && Boolean(user.badge_number));
  } catch (error) { say(error.message, true); }
});

// --- the officer directory ---------------------------------------------------------------------

document.getElementById("directory-import")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const file = form.elements.csv.files[0];
  const box = document.getElementById("directory-result");
  if (!file) return;
  const response = await fetch("/api/v1/officers/import", {
    method: "POST", headers: { "Content-Type": "text/csv", "X-CSRF-Token": csrf }, body: await file.text(),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) return say(typeof data?.detail === "string" ? data.detail : `import failed (${response.status})`, true);
  const lines = [`${data.imported} ${data.imported === 1 ? "person" : "people"} imported.`];
  if (data.linked.length) lines.push(`Accounts linked: ${data.linked.join(", ")}.`);
  lines.push(...data.problems);
  box.replaceChildren(...lines.map((text) => Object.assign(document.createElement("p"), { textContent: text })));
  box.className = data.problems.length ? "card bad" : "card good";
  box.hidden = false;
  form.reset();
  await reload("users");
});

// A secret shown once (a token, a reset link), with Copy and "I have stored it".
function showSecret(box, introText, secret) {
  const intro = document.createElement("p");
  intro.textContent = introText;
  const code = document.createElement("code");
  code.textContent = secret;
  const copy = document.createElement("button");
  copy.type = "button";
  copy.textContent = "Copy";
  copy.addEventListener("click", async () => {
    await navigator.clipboard?.writeText(secret);
    copy.textContent = "Copied";
  });
  const done = document.createElement("button");
  done.type = "button";
  done.textContent = "I have stored it";
  done.addEventListener("click", () => { box.replaceChildren(); box.hidden = true; });
  box.replaceChildren(intro, code, copy, " ", done);
  box.hidden = false;
}

// --- password resets ---------------------------------------------------------------------------

document.getElementById("reset-password")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const username = form.elements.username.value.trim();
  try {
    const found = (await api("GET", "/api/v1/users")).find((u) => u.username.toLowerCase() === username.toLowerCase());
    if (!found) return say(`There is no user named ${username}.`, true);
    const reset = await api("POST", `/api/v1/users/${found.id}/reset`);
    form.reset();
    const link = new URL(reset.path, location.origin).href;
    showSecret(document.getElementById("reset-secret"),
      `The reset link for ${found.username}, valid until ${new Date(reset.expires_at).toLocaleString()}. ` +
      "Copy it now: it is not shown again, and it works once.", link);
  } catch (error) { say(error.message, true); }
});

// --- tokens ------------------------------------------------------------------------------------

const tokenForm = document.getElementById("new-token");
const secretBox = document.getElementById("token-secret");

function showKind() {
  const kind = tokenForm.elements.kind.value;
  tokenForm.querySelectorAll("[data-kind]").forEach((part) => { part.hidden = part.dataset.kind !== kind; });
  tokenForm.elements.username.required = kind === "personal";
}

tokenForm?.addEventListener("change", showKind);
if (tokenForm) showKind();

tokenForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = tokenForm.elements;
  const body = { name: form.name.value.trim() };
  if (form.kind.value === "personal") body.username = form.username.value.trim();
  else body.scope = form.scope.value;
  if (form.expires_in_days.value) body.expires_in_days = Number(form.expires_in_days.value);
  try {
    const made = await api("POST", "/api/v1/tokens", body);
    tokenForm.reset();
    showKind();
    const until = made.expires_at ? ` It expires ${new Date(made.expires_at).toLocaleString()}.` : "";
    showSecret(secretBox, `The secret of “${made.name}”. Copy it now: it is not shown again.${until}`, made.token);
    await reload("tokens");
  } catch (error) { say(error.message, true); }
});

document.getElementById("admin-tokens")?.addEventListener("click", async (event) => {
  const button = event.target.closest('button[data-action="revoke"]');
  if (!button) return;
  const row = button.closest("tr");
  if (!confirm(`Revoke the token “${row.dataset.tokenName}”? Whatever uses it stops working at once.`)) return;
  try {
    await api("DELETE", `/api/v1/tokens/${row.dataset.tokenId}`);
    await reload("tokens");
    say(`Token “${row.dataset.tokenName}” revoked.`);
  } catch (error) { say(error.message, true); }
});

// --- rubric ------------------------------------------------------------------------------------

document.getElementById("admin-rubric")?.addEventListener("submit", async (event) => {
  const form = event.target.closest("form.rubric-row");
  if (!form) return;
  event.preventDefault();
  const key = form.dataset.key ?? form.elements.key.value.trim();
  const body = {
    key, label: form.elements.label.value.trim(),
    position: Number(form.elements.position.value || 0), active: form.elements.active.checked,
  };
  try {
    await api("PUT", `/api/v1/review/rubric/${encodeURIComponent(key)}`, body);
    if (form.dataset.new) await reload("rubric");
    say(`Rubric item ${key} saved.`);
  } catch (error) { say(error.message, true); }
});

// --- audit: verify the chain -------------------------------------------------------------------

document.getElementById("verify-chain")?.addEventListener("click", async (event) => {
  const button = event.currentTarget;
  const result = document.getElementById("verify-result");
  const problems = document.getElementById("verify-problems");
  button.disabled = true;
  result.textContent = "Verifying…";
  result.className = "muted";
  try {
    const verdict = await api("GET", "/api/v1/audit/verify");
    result.textContent = verdict.intact
      ? `Intact: all ${verdict.records} records follow one another, unaltered.`
      : `Not intact: ${verdict.problems.length} problem${verdict.problems.length === 1 ? "" : "s"} in ${verdict.records} records.`;
    result.className = verdict.intact ? "good" : "bad";
    problems.replaceChildren(...verdict.problems.map((text) => {
      const item = document.createElement("li");
      item.textContent = text;
      return item;
    }));
    problems.hidden = verdict.intact;
  } catch (error) {
    result.textContent = error.message;
    result.className = "bad";
  } finally {
    button.disabled = false;
  }
});
