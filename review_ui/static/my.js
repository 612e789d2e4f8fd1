// My footage: add a tag (categories, a moment, a note) and answer the review team's questions.
import { api, clock } from "/static/app.js";

// "75", "75.5", "1:15" or "1:02:03" → seconds; "" → null; anything else → NaN.
export function seconds(text) {
  const value = text.trim();
  if (!value) return null;
  if (!/^\d+(\.\d+)?$|^\d+(:[0-5]?\d){1,2}(\.\d+)?$/.test(value)) return NaN;
  return value.split(":").reduce((total, part) => total * 60 + Number(part), 0);
}

function report(form, text, bad = false) {
  const node = form.querySelector(".form-message");
  node.textContent = text;
  node.className = `form-message ${bad ? "bad" : "good"}`;
}

async function addTag(form) {
  const categories = [...form.querySelectorAll('input[name="categories"]:checked')].map((i) => i.value);
  const at = seconds(form.elements.at.value);
  const markerNote = form.elements.marker_note.value.trim();
  const note = form.elements.note.value.trim();
  if (!categories.length) return report(form, "Choose at least one category.", true);
  if (Number.isNaN(at)) return report(form, "Give the moment in seconds (75) or minutes:seconds (1:15).", true);
  if (at === null && markerNote) return report(form, "Give the moment the note is about.", true);
  const body = { categories, markers: at === null ? [] : [{ at, note: markerNote }], note: note || null };
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api("POST", `/api/v1/clips/${form.dataset.clip}/tags`, body);
    const item = document.createElement("li");
    const moment = at === null ? "" : ` · ${clock(at, { tenths: false })}${markerNote ? ` ${markerNote}` : ""}`;
    item.textContent = `${categories.join(", ")}${moment}${note ? ` — “${note}”` : ""} (just now)`;
    form.closest(".clip").querySelector("[data-tags]").append(item);
    form.reset();
    report(form, "Tag added.");
  } catch (error) {
    report(form, error.message, true);
  } finally {
    button.disabled = false;
  }
}

async function reply(form) {
  const text = form.elements.text.value.trim();
  if (!text) return report(form, "Write your answer first.", true);
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api("POST", `/api/v1/clips/${form.dataset.clip}/replies`, { text });
    const done = document.createElement("p");
    done.className = "good";
    done.setAttribute("role", "status");
    done.textContent = "Answer sent; the clip is back in the review queue.";
    form.replaceWith(done);
  } catch (error) {
    report(form, error.message, true);
    button.disabled = false;
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.matches(".tag-form")) { event.preventDefault(); addTag(form); }
  if (form.matches(".reply-form")) { event.preventDefault(); reply(form); }
});

// /my?clip=ID&at=SECONDS (a link from the player) opens that clip's tag form at that moment.
const wanted = new URLSearchParams(location.search);
const target = wanted.get("clip") && document.getElementById(`add-tag-${wanted.get("clip")}`);
if (target) {
  target.open = true;
  if (wanted.get("at")) target.querySelector('input[name="at"]').value = wanted.get("at");
  target.scrollIntoView({ block: "center" });
  target.querySelector('input[name="categories"]')?.focus();
}

// Clips still processing: their progress and ETA kept current; once one is done the page is read
// again (the link, the tag form and the review column come with it), unless a form is being filled.
export function etaText(seconds) {
  if (seconds == null) return "estimating…";
  return seconds < 60 ? `about ${Math.max(1, Math.round(seconds))} s` : `about ${Math.round(seconds / 60)} min`;
}

const busyForm = () => [...document.querySelectorAll("form textarea, form input[type=text]")].some((f) => f.value);

async function follow() {
  const items = [...document.querySelectorAll('li.clip[data-status="processing"]')];
  if (!items.length) return;
  let found = [];
  try {
    found = await api("GET", `/api/v1/review/progress?${items.map((li) => `ids=${li.dataset.clip}`).join("&")}`);
  } catch { /* a missed beat */ }
  let finished = false;
  for (const clip of found) {
    const item = document.getElementById(`clip-${clip.clip_id}`);
    if (!item) continue;
    if (clip.status !== "processing") {
      finished = true;
      item.dataset.status = clip.status;
      const pill = item.querySelector('[data-live="status"]');
      pill.textContent = clip.status;
      pill.className = `pill ${clip.status}`;
      item.querySelector(".inline-progress")?.remove();
      item.querySelector('[data-live="eta"]')?.remove();
      continue;
    }
    const percent = Math.round(clip.progress * 100);
    item.querySelector(".inline-progress")?.setAttribute("aria-valuenow", String(percent));
    const eta = item.querySelector('[data-live="eta"]');
    if (eta) eta.textContent = `${percent} % · ready in ${etaText(clip.eta_seconds)}`;
  }
  if (finished && !busyForm()) {
    location.reload();
    return;
  }
  setTimeout(follow, document.hidden ? 5000 : 2000);
}

setTimeout(follow, 2000);
