// The nomination form: find a colleague in the directory by name (GET /api/v1/nominees), say what
// happened and when, optionally a clip and a moment of it; send it to the committee
// (POST /api/v1/colleague-nominations).
import { api } from "/static/app.js";

const form = document.getElementById("nominate-form");
const search = document.getElementById("nominee-search");
const results = document.getElementById("nominee-results");
const chosen = document.getElementById("nominee-chosen");
const nominee = document.getElementById("nominee");
const message = document.getElementById("nominate-message");

function say(text, bad = false) {
  message.textContent = text;
  message.className = `form-message ${bad ? "bad" : "good"}`;
}

// "Robin Vale (E-12) · Records, civilian": the name, the badge, the division or the unit.
function describe(person) {
  const who = person.name ? `${person.name} (${person.badge_number})` : `badge ${person.badge_number}`;
  const where = [person.affiliation, person.kind === "civilian" ? "civilian" : null].filter(Boolean).join(", ");
  return where ? `${who} · ${where}` : who;
}

function choose(person) {
  nominee.value = person.badge_number;
  chosen.textContent = `Nominating ${describe(person)}`;
  chosen.hidden = false;
  results.replaceChildren();
  search.value = person.name ?? person.badge_number;
}

let asked = 0;
async function find() {
  const q = search.value.trim();
  const mine = ++asked;
  if (q.length < 2) {
    results.replaceChildren();
    return;
  }
  let found;
  try {
    found = await api("GET", `/api/v1/nominees?q=${encodeURIComponent(q)}`);
  } catch (error) {
    say(error.message, true);
    return;
  }
  if (mine !== asked) return; // a later keystroke asked again: its answer is the one to show
  if (!found.length) {
    const none = document.createElement("li");
    none.className = "muted";
    none.textContent = `Nobody in the directory matches “${q}”.`;
    results.replaceChildren(none);
    return;
  }
  results.replaceChildren(
    ...found.map((person) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "nominee";
      button.dataset.badge = person.badge_number;
      button.textContent = describe(person);
      button.addEventListener("click", () => choose(person));
      item.append(button);
      return item;
    }),
  );
}

let timer;
search.addEventListener("input", () => {
  nominee.value = "";
  chosen.hidden = true;
  clearTimeout(timer);
  timer = setTimeout(find, 200);
});

// "1:05", "1:05.5" or "65" seconds; null when empty; NaN when unreadable.
function seconds(text) {
  const value = text.trim();
  if (!value) return null;
  const match = /^(?:(\d+):)?(\d+(?:\.\d+)?)$/.exec(value);
  if (!match) return Number.NaN;
  return Number(match[1] ?? 0) * 60 + Number(match[2]);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const fields = form.elements;
  if (!nominee.value) {
    search.focus();
    return say("Choose the colleague you nominate from the directory.", true);
  }
  const narrative = fields.narrative.value.trim();
  if (!narrative) {
    fields.narrative.focus();
    return say("Say what happened.", true);
  }
  if (!fields.occurred_on.value) {
    fields.occurred_on.focus();
    return say("Say when it happened.", true);
  }
  const body = { nominee: nominee.value, narrative, occurred_on: fields.occurred_on.value };
  if (fields.category.value) body.category = fields.category.value;
  const clipId = fields.clip_id.value.trim();
  const at = seconds(fields.moment_at.value);
  if (clipId) {
    if (Number.isNaN(at)) {
      fields.moment_at.focus();
      return say("Give the moment as minutes:seconds, e.g. 1:05.", true);
    }
    const moments = at === null ? [] : [{ at, note: fields.moment_note.value.trim() }];
    body.clip = { clip_id: Number(clipId), moments };
  } else if (at !== null) {
    fields.clip_id.focus();
    return say("A moment needs its clip: give the clip number.", true);
  }
  const button = document.getElementById("nominate-send");
  button.disabled = true;
  try {
    const made = await api("POST", "/api/v1/colleague-nominations", body);
    const names = (made.people ?? []).map(describe).join(", ");
    form.reset();
    nominee.value = "";
    chosen.hidden = true;
    say(`Sent to the awards committee: nomination ${made.id} of ${names}. Thank you.`);
  } catch (error) {
    say(error.message, true);
  } finally {
    button.disabled = false;
  }
});
