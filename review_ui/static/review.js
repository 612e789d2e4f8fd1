// The clip review page: player and timeline (sprite previews, markers, in/out marks), the
// transcript (click a word to seek, the spoken word lit, search), keyboard shortcuts, and the
// actions: start review (a claim) and release, decision, nomination, add to lesson. Every action
// goes through the JSON API. While the clip is processing its progress and ETA are kept current;
// while the reviewer holds it the claim is renewed as long as they are at work on the page.
//
// Keys: Space play/pause · j back 10 s · k pause · l forward 10 s · ←/→ 5 s · [ ] in/out ·
// / search the transcript · ? the list. (j/k/l seek rather than change speed as NLEs do: a
// reviewer wants to hear again what was said, not to shuttle.)
import { api, clock } from "/static/app.js";

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

const page = $("#clip-page");
const clipId = Number(page.dataset.clip);
const video = $("#video");
const timeline = $("#timeline");
const track = timeline && $(".tl-track", timeline);

// --- time -------------------------------------------------------------------------------------

export { clock };  // the pages' one formatter (app.js), as the clip page has always exported it

/** "1:23.5", "83.5" or "1:02:03" -> seconds; NaN when it is not a time. */
export function parseClock(text) {
  if (!/^\d+(?::\d{1,2})*(?:\.\d+)?$/.test(text)) return NaN;
  return text.split(":").reduce((total, part) => total * 60 + Number(part), 0);
}

const clamp = (value, low, high) => Math.min(Math.max(value, low), high);
const percent = (fraction) => `${(clamp(fraction, 0, 1) * 100).toFixed(3)}%`;

function duration() {
  if (video && Number.isFinite(video.duration) && video.duration > 0) return video.duration;
  return Number(timeline?.dataset.duration) || 0;
}

const now = () => (video ? video.currentTime : 0);

function seek(seconds) {
  if (!video || !Number.isFinite(seconds)) return;
  video.currentTime = clamp(seconds, 0, duration() || seconds);
  update();
}

const skip = (delta) => seek(now() + delta);

function togglePlay() {
  if (!video) return;
  if (video.paused || video.ended) video.play().catch(() => {});
  else video.pause();
}

// --- timeline ---------------------------------------------------------------------------------

function placeTimeline() {
  const total = duration();
  if (!timeline || !total) return;
  for (const tick of $$(".tl-marker", timeline)) tick.style.left = percent(Number(tick.dataset.at) / total);
  for (const span of $$(".tl-span", timeline)) {
    const start = Number(span.dataset.start), end = Number(span.dataset.end);
    span.style.left = percent(start / total);
    span.style.width = percent(Math.max(end - start, total * 0.004) / total);
  }
  timeline.setAttribute("aria-valuemax", total.toFixed(1));
  drawMarks();
}

function drawPlayhead(t) {
  if (!timeline) return;
  const where = percent(duration() ? t / duration() : 0);
  $(".tl-played", timeline).style.width = where;
  $(".tl-head", timeline).style.left = where;
  timeline.setAttribute("aria-valuenow", t.toFixed(1));
  timeline.setAttribute("aria-valuetext", clock(t));
  const display = $("#clock");
  if (display) display.textContent = clock(t);
}

function timeAt(event) {
  const box = track.getBoundingClientRect();
  return clamp((event.clientX - box.left) / box.width, 0, 1) * duration();
}

/** thumbnails.vtt -> [{from, to, url, x, y, w, h}]: each cue names a tile of the sprite. */
export function parseThumbnails(text, base) {
  const cues = [];
  for (const block of text.replace(/\r/g, "").split(/\n{2,}/)) {
    const lines = block.split("\n");
    const at = lines.findIndex((line) => line.includes("-->"));
    if (at < 0 || !lines[at + 1]) continue;
    const [from, to] = lines[at].split("-->").map((part) => vttSeconds(part.trim().split(/\s+/)[0]));
    const [url, fragment] = lines[at + 1].trim().split("#xywh=");
    if (!fragment) continue;
    const [x, y, w, h] = fragment.split(",").map(Number);
    cues.push({ from, to, url: new URL(url, base).href, x, y, w, h });
  }
  return cues;
}

const vttSeconds = (text) => text.split(":").reduce((total, part) => total * 60 + Number(part), 0);

let thumbnails = [];

async function loadThumbnails() {
  const src = timeline?.dataset.thumbnails;
  if (!src) return;
  try {
    const response = await fetch(src);
    if (response.ok) thumbnails = parseThumbnails(await response.text(), new URL(src, location.href));
  } catch { /* no previews: the timeline still works */ }
}

function showPreview(event) {
  const preview = $(".tl-preview", timeline), thumb = $(".tl-thumb", timeline);
  const t = timeAt(event);
  const last = thumbnails.at(-1);
  const cue = thumbnails.find((c) => t >= c.from && t < c.to) ?? (last && t >= last.from ? last : null);
  thumb.hidden = !cue;
  if (cue) {
    Object.assign(thumb.style, { width: `${cue.w}px`, height: `${cue.h}px`, backgroundImage: `url("${cue.url}")`,
                                 backgroundPosition: `-${cue.x}px -${cue.y}px` });
  }
  $(".tl-time", timeline).textContent = clock(t);
  preview.hidden = false;
  const box = track.getBoundingClientRect();
  const width = preview.offsetWidth;
  preview.style.left = `${clamp(event.clientX - box.left - width / 2, 0, Math.max(0, box.width - width))}px`;
}

if (timeline && video) {
  timeline.addEventListener("pointermove", (event) => {
    showPreview(event);
    if (event.buttons === 1 && timeline.hasPointerCapture(event.pointerId)) seek(timeAt(event));  // scrubbing
  });
  timeline.addEventListener("pointerleave", () => { $(".tl-preview", timeline).hidden = true; });
  timeline.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    timeline.setPointerCapture(event.pointerId);
    const tick = event.target.closest(".tl-marker");
    seek(tick ? Number(tick.dataset.at) : timeAt(event));
  });
  loadThumbnails();
}

// --- marks (in / out) -------------------------------------------------------------------------

const marks = { in: null, out: null };

function setMark(which, seconds) {
  marks[which] = seconds == null ? null : Math.round(seconds * 1000) / 1000;
  if (marks.in != null && marks.out != null && marks.out <= marks.in) marks[which === "in" ? "out" : "in"] = null;
  drawMarks();
  refreshMoments();
}

function drawMarks() {
  for (const which of ["in", "out"]) {
    for (const label of $$(`[data-mark="${which}"]`)) label.textContent = clock(marks[which] ?? NaN);
  }
  if (!timeline) return;
  const total = duration();
  for (const [which, tick] of [["in", $(".tl-in", timeline)], ["out", $(".tl-out", timeline)]]) {
    tick.hidden = marks[which] == null || !total;
    if (!tick.hidden) tick.style.left = percent(marks[which] / total);
  }
  const range = $(".tl-range", timeline);
  range.hidden = marks.in == null || marks.out == null || !total;
  if (!range.hidden) {
    range.style.left = percent(marks.in / total);
    range.style.width = percent((marks.out - marks.in) / total);
  }
}

// --- transcript -------------------------------------------------------------------------------

const transcript = $("#transcript");
const words = $$(".word", transcript);
const starts = words.map((w) => Number(w.dataset.start));
const ends = words.map((w) => Number(w.dataset.end));
let lit = -1;
let scrolledByHand = 0;

/** The index of the word being spoken at t (a short pause keeps the last word lit), or -1. */
function wordAt(t) {
  let low = 0, high = starts.length - 1, found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (starts[middle] <= t) { found = middle; low = middle + 1; } else high = middle - 1;
  }
  return found >= 0 && t <= ends[found] + 0.3 ? found : -1;
}

function lightWord(t) {
  const index = wordAt(t);
  if (index === lit) return;
  words[lit]?.classList.remove("current");
  lit = index;
  if (index < 0) return;
  words[index].classList.add("current");
  if (video && !video.paused && performance.now() - scrolledByHand > 4000) keepVisible(words[index]);
}

/** Scroll the transcript (only the transcript, never the page) so that the word shows. */
function keepVisible(word) {
  const top = word.offsetTop, bottom = top + word.offsetHeight;
  if (top < transcript.scrollTop || bottom > transcript.scrollTop + transcript.clientHeight) {
    transcript.scrollTop = Math.max(0, top - transcript.clientHeight / 3);
  }
}

for (const kind of ["wheel", "touchmove"]) {
  transcript.addEventListener(kind, () => { scrolledByHand = performance.now(); }, { passive: true });
}

page.addEventListener("click", (event) => {
  const word = event.target.closest(".word");
  const target = word ? word.dataset.start : event.target.closest("[data-seek]")?.dataset.seek;
  if (target !== undefined) seek(Number(target));
});

// From the keyboard: Tab reaches the transcript once (a roving tabindex, not one stop per word),
// arrows move word by word (Home/End: first/last), Enter or Space seeks to the focused word.
const WORD_MOVES = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
words.forEach((word, i) => {
  word.tabIndex = i === 0 ? 0 : -1;
  word.setAttribute("role", "button");
});

function focusWord(index) {
  const word = words[clamp(index, 0, words.length - 1)];
  for (const other of $$('.word[tabindex="0"]', transcript)) other.tabIndex = -1;
  word.tabIndex = 0;
  word.focus();
}

transcript?.addEventListener("keydown", (event) => {
  const index = words.indexOf(event.target);
  if (index < 0 || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key in WORD_MOVES) focusWord(index + WORD_MOVES[event.key]);
  else if (event.key === "Home" || event.key === "End") focusWord(event.key === "Home" ? 0 : words.length - 1);
  else if (event.key === "Enter" || event.key === " ") seek(starts[index]);
  else return;
  event.preventDefault();  // the page's own shortcuts do not also act on it
});

// Search: the words as one normalized string, with where each word starts in it, so that a
// phrase across several words is found as easily as one word.
const normalize = (text) => text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
  .replace(/[^\p{L}\p{N}\s]+/gu, "").replace(/\s+/g, " ").trim();
let spoken = "";
const offsets = words.map((word) => {
  const at = spoken.length;
  const text = normalize(word.textContent);
  if (text) spoken += `${text} `;
  return at;
});

function wordStartingBefore(charIndex) {
  let low = 0, high = offsets.length - 1, found = 0;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (offsets[middle] <= charIndex) { found = middle; low = middle + 1; } else high = middle - 1;
  }
  return found;
}

const search = $("#transcript-search");
const searchCount = $("#search-count");
let matches = [];  // [first word, last word]
let active = -1;

function find(query) {
  for (const word of $$(".word.match", transcript)) word.classList.remove("match", "match-active");
  matches = [];
  active = -1;
  const needle = normalize(query);
  if (needle) {
    for (let at = spoken.indexOf(needle); at >= 0; at = spoken.indexOf(needle, at + needle.length)) {
      matches.push([wordStartingBefore(at), wordStartingBefore(at + needle.length - 1)]);
    }
  }
  for (const [first, last] of matches) for (let i = first; i <= last; i++) words[i].classList.add("match");
  searchCount.textContent = !needle ? "" : matches.length ? `${matches.length} found` : "no match";
}

function jump(step) {
  if (!matches.length) return;
  for (const word of $$(".word.match-active", transcript)) word.classList.remove("match-active");
  active = (active + step + matches.length) % matches.length;
  const [first, last] = matches[active];
  for (let i = first; i <= last; i++) words[i].classList.add("match-active");
  keepVisible(words[first]);
  seek(starts[first]);
  searchCount.textContent = `${active + 1} of ${matches.length}`;
}

search?.addEventListener("input", () => find(search.value));
search?.addEventListener("keydown", (event) => {
  if (event.key === "Enter") { event.preventDefault(); jump(event.shiftKey ? -1 : 1); }
  if (event.key === "Escape") { search.value = ""; find(""); search.blur(); }
});

// --- playback ---------------------------------------------------------------------------------

function update() {
  const t = now();
  drawPlayhead(t);
  lightWord(t);
}

function frame() {
  update();
  if (video && !video.paused && !video.ended) requestAnimationFrame(frame);
}

if (video) {
  video.addEventListener("play", () => requestAnimationFrame(frame));
  for (const kind of ["timeupdate", "seeked", "pause"]) video.addEventListener(kind, update);
  video.addEventListener("loadedmetadata", placeTimeline);
  // Links from nominations and My footage open the clip at a moment: /clips/7?t=12.5
  const start = Number(new URLSearchParams(location.search).get("t"));
  if (start > 0) video.addEventListener("loadedmetadata", () => { video.currentTime = start; }, { once: true });
}
placeTimeline();

// --- keyboard ---------------------------------------------------------------------------------

const shortcuts = $("#shortcuts");

function toggleShortcuts() {
  if (shortcuts.open) shortcuts.close();
  else shortcuts.showModal();
}

const KEYS = {
  " ": togglePlay,
  k: () => video?.pause(),
  j: () => skip(-10),
  l: () => skip(10),
  ArrowLeft: () => skip(-5),
  ArrowRight: () => skip(5),
  "[": () => video && setMark("in", now()),
  "]": () => video && setMark("out", now()),
  "/": () => { search?.focus(); search?.select(); },
  "?": toggleShortcuts,
};

const typing = (el) => el instanceof HTMLElement
  && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  if (shortcuts.open) {  // the list is up: only ? and Escape (closing it at once) count
    if (key === "?" || key === "Escape") {
      event.preventDefault();
      shortcuts.close();
    }
    return;
  }
  // Space on a focused button presses the button, as everywhere else; on the focused player its
  // own controls already toggle playback (handling it here too would toggle it twice).
  if (key === " " && event.target.closest?.("button, a, summary, [role=button], video")) return;
  const action = KEYS[key];
  if (!action) return;
  event.preventDefault();
  action();
});

// --- actions ----------------------------------------------------------------------------------

function say(element, text, bad = false) {
  if (!element) return;
  element.textContent = text;
  element.classList.toggle("bad", bad);
}

function busy(form, on) {
  for (const button of $$("button", form)) button.disabled = on;
}

/** After a decision: claim the next clip and open it, or go back to the queue when none waits. */
async function nextClip() {
  let next = null;
  try {
    next = await api("POST", "/api/v1/review/next");
  } catch { /* the queue page says what is wrong */ }
  location.assign(next ? `/clips/${next.clip_id}` : "/queue?empty=1");
}

for (const button of $$('[data-action="next"]')) button.addEventListener("click", nextClip);
$('[data-action="shortcuts"]')?.addEventListener("click", toggleShortcuts);
$('[data-action="mark-in"]')?.addEventListener("click", () => setMark("in", now()));
$('[data-action="mark-out"]')?.addEventListener("click", () => setMark("out", now()));
$('[data-action="clear-marks"]')?.addEventListener("click", () => { setMark("in", null); setMark("out", null); });
// The recording officer tags the moment on screen: My footage opens the tag form at that time.
$('[data-action="tag-moment"]')?.addEventListener("click", (event) => {
  event.currentTarget.href = `/my?clip=${page.dataset.clip}&at=${now().toFixed(1)}`;
});

const REASON_NEEDED = {
  dismissed: "Write why this clip is dismissed.",
  needs_info: "Write the question for the officer.",
};
const decision = $("#decision");

decision?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const kind = event.submitter?.value;
  if (!kind) return;  // Enter in a field does not decide anything
  const { reason, notes } = decision.elements;
  reason.setCustomValidity(REASON_NEEDED[kind] && !reason.value.trim() ? REASON_NEEDED[kind] : "");
  if (!reason.reportValidity()) {
    reason.focus();
    return;
  }
  const status = $("#decision-status");
  if (kind === "nominated") {  // nothing is recorded until the nomination goes with it
    say(status, "Write the nomination below: the decision is recorded when you send it.");
    openNomination();
    return;
  }
  busy(decision, true);
  say(status, "Saving…");
  try {
    await api("POST", `/api/v1/review/${clipId}/decisions`,
              { kind, ...decisionFields(), reason: reason.value.trim() || null });
  } catch (error) {
    say(status, error.message, true);
    busy(decision, false);
    return;
  }
  say(status, "Saved. Opening the next clip…");
  await nextClip();
});

/** The rubric and notes of the decision panel, as the decision takes them. */
function decisionFields() {
  const rubric = Object.fromEntries($$('input[name="rubric"]', decision).map((box) => [box.value, box.checked]));
  return { rubric, notes: decision.elements.notes.value.trim() || null };
}
decision?.elements.reason.addEventListener("input", (event) => event.target.setCustomValidity(""));

// --- nomination -------------------------------------------------------------------------------

const nomination = $("#nomination");
const moments = nomination?.elements.moments;

function openNomination() {
  const section = $("#nomination-section");
  section.hidden = false;
  section.scrollIntoView({ block: "start", behavior: "smooth" });
  nomination.elements.narrative.focus({ preventScroll: true });
}

/** The moments start as the officer's markers and the marked in point, in time order, until edited. */
function refreshMoments() {
  if (!moments || moments.dataset.edited) return;
  const lines = moments.dataset.base.split("\n").filter(Boolean);
  if (marks.in != null) lines.push(`${clock(marks.in)} marked in point`);
  moments.value = lines.map((line) => [parseClock(line.split(" ")[0]), line])
    .sort((a, b) => a[0] - b[0]).map(([, line]) => line).join("\n");
}

moments?.addEventListener("input", () => { moments.dataset.edited = "yes"; });

$('[data-action="cancel-nomination"]')?.addEventListener("click", () => {
  $("#nomination-section").hidden = true;
  say($("#decision-status"), "Not nominated: nothing was recorded.");
  decision?.querySelector('button[value="nominated"]')?.focus();
});

/** "1:23.5 offers water" lines -> [{at: 83.5, note: "offers water"}]. */
export function parseMoments(text) {
  return text.split("\n").map((line) => line.trim()).filter(Boolean).map((line, n) => {
    const [first, ...rest] = line.split(/\s+/);
    const at = parseClock(first);
    if (!Number.isFinite(at)) {
      throw new Error(`Moment ${n + 1} must start with a time such as 1:23.5 (it starts with “${first}”).`);
    }
    return { at, note: rest.join(" ").replace(/^[-–—]\s*/, "") };
  });
}

nomination?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const status = $("#nomination-status");
  const { officers, narrative } = nomination.elements;
  if (!nomination.reportValidity()) return;
  let found;
  try {
    found = parseMoments(moments.value);
  } catch (error) {
    say(status, error.message, true);
    moments.focus();
    return;
  }
  busy(nomination, true);
  say(status, "Sending…");
  try {
    await api("POST", `/api/v1/review/${clipId}/decisions`, {
      kind: "nominated",
      ...decisionFields(),
      nomination: {
        officers: officers.value.split(/[\s,;]+/).filter(Boolean),
        moments: found,
        narrative: narrative.value.trim(),
      },
    });
  } catch (error) {
    say(status, error.message, true);
    busy(nomination, false);
    return;
  }
  say(status, "Nomination sent to the committee. Opening the next clip…");
  await nextClip();
});

// --- add to lesson (trainers) -----------------------------------------------------------------

const lessonForm = $("#add-to-lesson");

lessonForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const status = $("#lesson-status");
  const { lesson, title } = lessonForm.elements;
  if (marks.in == null || marks.out == null) {
    say(status, "Mark the segment first: [ at its start, ] at its end.", true);
    return;
  }
  busy(lessonForm, true);
  try {
    const item = await api("POST", `/api/v1/lessons/${lesson.value}/items`, {
      clip_id: clipId, in_point: marks.in, out_point: marks.out, title: title.value.trim() || null,
    });
    const name = lesson.selectedOptions[0]?.textContent ?? "the lesson";
    say(status, `Added ${clock(item.in_point)}–${clock(item.out_point)} to “${name}” as item ${item.position + 1}.`);
  } catch (error) {
    say(status, error.message, true);
  } finally {
    busy(lessonForm, false);
  }
});

// --- speakers: a reviewer corrects who spoke a turn ------------------------------------------------

for (const select of $$(".speaker-select", transcript)) {
  let previous = select.value;
  select.addEventListener("change", async () => {
    const speaker = select.value;
    select.disabled = true;
    try {
      const segments = select.dataset.segments.split(",").map(Number);
      await api("PUT", `/api/v1/clips/${clipId}/transcript/speakers`, { segments, speaker });
      select.closest(".turn").dataset.speaker = speaker;
      select.closest(".turn").classList.toggle("turn-officer", speaker === "officer");
      select.closest(".turn-speaker").querySelector(".speaker-unsure")?.remove();
      select.title = "Saved: the clip is scored again";
      previous = speaker;
    } catch (error) {
      select.value = previous;
      select.title = error.message;
      alert(`The speaker was not changed: ${error.message}`);
    } finally {
      select.disabled = false;
    }
  });
}

// --- the claim: start review, release, renewed while the reviewer is at work ------------------------

async function claimAction(method, url, button) {
  const status = $("#claim-status");
  button.disabled = true;
  try {
    await api(method, url);
    location.reload();  // the page as it now stands: the decision panel, or the clip let go
  } catch (error) {
    say(status ?? $("#decision-status"), error.message, true);
    button.disabled = false;
  }
}

$('[data-action="start-review"]')?.addEventListener("click", (event) => {
  claimAction("POST", `/api/v1/review/${clipId}/claim`, event.currentTarget);
});
$('[data-action="release"]')?.addEventListener("click", (event) => {
  claimAction("DELETE", `/api/v1/review/${clipId}/claim`, event.currentTarget);
});

const renewEvery = Number(page.dataset.renewEvery) * 1000;
if (renewEvery > 0) {
  // Renewed only when the reviewer did something since the last beat (a key, the pointer, the
  // video playing): a page left open on an empty desk lets the claim lapse.
  let active = true;
  for (const kind of ["pointerdown", "keydown", "input", "scroll"]) {
    document.addEventListener(kind, () => { active = true; }, { passive: true, capture: true });
  }
  const beat = setInterval(async () => {
    if (!active && (!video || video.paused)) return;
    active = false;
    try {
      await api("POST", `/api/v1/review/${clipId}/claim/renew`);
    } catch (error) {
      clearInterval(beat);
      say($("#claim-status"), `${error.message}. Reload the page to start the review again.`, true);
    }
  }, renewEvery);
}

// --- processing: progress, stages and ETA kept current; the page reloads once it is ready --------

const processing = $("#processing");

export function etaText(seconds) {
  if (seconds == null) return "estimating…";
  return seconds < 60 ? `about ${Math.max(1, Math.round(seconds))} s` : `about ${Math.round(seconds / 60)} min`;
}

async function followProcessing() {
  let found = null;
  try {
    [found] = await api("GET", `/api/v1/review/progress?ids=${clipId}`);
  } catch { /* a missed beat: try again at the next */ }
  if (found && found.status !== "processing") {
    location.reload();  // ready (or not): the player, the transcript and the panel come with the page
    return;
  }
  if (found) {
    const percent = Math.round(found.progress * 100);
    $(".progress", processing).setAttribute("aria-valuenow", String(percent));
    $('[data-live="percent"]', processing).textContent = `${percent} %`;
    $('[data-live="eta"]', processing).textContent = etaText(found.eta_seconds);
    $('[data-live="stages"]', processing).textContent = found.stages.map((s) => `${s.name} ${s.state}`).join(" · ");
  }
  setTimeout(followProcessing, document.hidden ? 5000 : 1500);
}

if (processing) setTimeout(followProcessing, 1500);
