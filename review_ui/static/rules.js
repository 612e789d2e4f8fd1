// The recognition-rules page: the form is read into a rules file, checked by the server with the
// checks PUT makes (POST /api/v1/recognition/rules/check), each problem shown at the cue it
// concerns; a clean edit is saved with PUT /api/v1/recognition/rules.
import { api } from "/static/app.js";

const form = document.getElementById("rules-form");
const cues = document.getElementById("cues");
const message = document.getElementById("rules-message");
const settings = form?.querySelector("[data-settings]");

function say(text, bad = false) {
  message.textContent = text;
  message.className = bad ? "bad" : "good";
}

// A number where the text is one; otherwise the text itself, for the check to name.
function number(text) {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : trimmed;
}

const list = (text) => text.split(",").map((part) => part.trim()).filter(Boolean);
const field = (root, name) => root.querySelector(`[name="${name}"]`);
const text = (root, name) => field(root, name).value.trim();

function cueOf(part) {
  const cue = {
    id: text(part, "id"),
    category: text(part, "category"),
    label: text(part, "label") || undefined,
    weight: number(field(part, "weight").value),
    patterns: field(part, "patterns").value.split("\n").map((line) => line.trim()).filter(Boolean),
  };
  // Defaults are left out, as the shipped file leaves them out.
  if (!field(part, "negatable").checked) cue.negatable = false;
  if (field(part, "supporting").checked) cue.supporting = true;
  if (field(part, "speaker").value !== "officer") cue.speaker = field(part, "speaker").value;
  if (text(part, "note")) cue.note = text(part, "note");
  return cue;
}

function rulesOf() {
  const rules = { version: number(field(settings, "version").value) };
  if (text(settings, "description")) rules.description = text(settings, "description");
  if (field(settings, "syntax").value.trim()) rules.syntax = field(settings, "syntax").value.trim();
  Object.assign(rules, {
    categories: list(field(settings, "categories").value),
    suggestion_threshold: number(field(settings, "suggestion_threshold").value),
    low_confidence_probability: number(field(settings, "low_confidence_probability").value),
    evidence_scale: number(field(settings, "evidence_scale").value),
    negation: { words: list(field(settings, "negation_words").value), window: number(field(settings, "negation_window").value) },
    cues: [...cues.querySelectorAll("[data-cue]")].map(cueOf),
  });
  return rules;
}

// The form's fields that show a key of the file.
const SETTINGS_FIELDS = { negation: "negation_words", cues: null };

function clearProblems() {
  form.querySelectorAll(".problem").forEach((p) => { p.textContent = ""; p.hidden = true; });
  form.querySelectorAll("[aria-invalid]").forEach((f) => f.removeAttribute("aria-invalid"));
  form.querySelectorAll(".cue-flag").forEach((f) => { f.hidden = true; });
}

function show(where, problem, key) {
  const box = where.querySelector(".problem");
  box.textContent = box.textContent ? `${box.textContent} ${problem.message}` : problem.message;
  box.hidden = false;
  const name = key in SETTINGS_FIELDS ? SETTINGS_FIELDS[key] : key;
  const input = name && field(where, name);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", box.id);
  }
}

let problemIds = 0;

function showProblems(problems) {
  clearProblems();
  const parts = [...cues.querySelectorAll("[data-cue]")];
  let first = null;
  for (const problem of problems) {
    const where = problem.cue === null ? settings : parts[problem.cue];
    if (!where) continue;
    const box = where.querySelector(".problem");
    if (!box.id) box.id = `rule-problem-${++problemIds}`;
    show(where, problem, problem.field);
    if (where.matches("details")) {
      where.open = true;
      where.querySelector(".cue-flag").hidden = false;
    }
    first ??= box;
  }
  first?.scrollIntoView({ block: "center" });
  say(`${problems.length} problem${problems.length === 1 ? "" : "s"}: nothing was saved. Each is shown at the cue or ` +
    "setting it concerns.", true);
}

async function check(rules) {
  const verdict = await api("POST", "/api/v1/recognition/rules/check", rules);
  if (!verdict.ok) showProblems(verdict.problems);
  else clearProblems();
  return verdict;
}

document.getElementById("check-rules")?.addEventListener("click", async () => {
  try {
    const verdict = await check(rulesOf());
    if (verdict.ok) say(`The edit holds: version ${verdict.version}, ${verdict.cues} cues. Nothing is saved until you save it.`);
  } catch (error) { say(error.message, true); }
});

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const rules = rulesOf();
  const button = document.getElementById("save-rules");
  button.disabled = true;
  try {
    if (!(await check(rules)).ok) return;
    const saved = await api("PUT", "/api/v1/recognition/rules", rules);
    const inForce = document.getElementById("rules-in-force");
    inForce.textContent = `In force: version ${saved.version} · ${saved.cues} cues · digest ${saved.digest.slice(0, 12)} · ` +
      "saved just now";
    field(settings, "version").value = String(saved.version + 1);
    say(`Saved: version ${saved.version} is in force. Clips are re-scored in the background.`);
  } catch (error) { say(error.message, true); } finally { button.disabled = false; }
});

document.getElementById("add-cue")?.addEventListener("click", () => {
  const part = document.getElementById("cue-template").content.firstElementChild.cloneNode(true);
  cues.append(part);
  document.getElementById("cue-count").textContent = `(${cues.children.length})`;
  field(part, "id").focus();
});

cues?.addEventListener("click", (event) => {
  const button = event.target.closest('button[data-action="remove-cue"]');
  if (!button) return;
  const part = button.closest("[data-cue]");
  if (!confirm(`Remove the cue “${text(part, "label") || text(part, "id") || "new cue"}”? It goes once you save.`)) return;
  part.remove();
  document.getElementById("cue-count").textContent = `(${cues.children.length})`;
});

// The summary line follows the cue's id and label as they are typed.
cues?.addEventListener("input", (event) => {
  const part = event.target.closest("[data-cue]");
  if (!part || !["id", "label"].includes(event.target.name)) return;
  part.querySelector(".cue-name").textContent = text(part, "label") || text(part, "id") || "New cue";
});
