// The lesson player: a published lesson's redacted segments in order in one <video>, each with its
// captions track and its annotations shown at their moment. What was played (video.played, per
// segment) is reported to the view as it plays, on each segment change, and when the page is left.
import { api, csrf } from "/static/app.js";

const data = JSON.parse(document.getElementById("player-data").textContent);
const video = document.getElementById("lesson-video");
const nowText = document.getElementById("watch-now");
const noteText = document.getElementById("watch-note");
const saved = document.getElementById("watch-saved");
const NOTE_SECONDS = 4;
const REPORT_EVERY_MS = 3000;

let current = -1;
let straight = false;
const played = new Map(); // item id → [[start, end], ...] already reported or pending

function rangesOfCurrent() {
  const segment = data.segments[current];
  if (!segment) return [];
  const found = [];
  for (let i = 0; i < video.played.length; i++) {
    const start = video.played.start(i), end = video.played.end(i);
    if (end > start) found.push([segment.item_id, Math.round(start * 1000) / 1000, Math.round(end * 1000) / 1000]);
  }
  return found;
}

let lastSent = "";
async function report(keepalive = false) {
  const ranges = rangesOfCurrent();
  const key = JSON.stringify(ranges);
  if (!ranges.length || key === lastSent) return;
  lastSent = key;
  const url = `/api/v1/lesson-views/${data.view_id}/ranges`;
  if (keepalive) {
    fetch(url, { method: "POST", keepalive: true, headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify({ ranges }) });
    return;
  }
  try {
    const view = await api("POST", url, { ranges });
    saved.textContent = `Watched ${Math.round(view.watched_seconds * 10) / 10} s of ${Math.round(view.lesson_seconds * 10) / 10} s`;
    saved.dataset.watched = String(view.watched_seconds);
  } catch (error) {
    lastSent = "";
    saved.textContent = `Could not record what was watched: ${error.message}`;
  }
}

function mark() {
  for (const li of document.querySelectorAll("li.segment")) {
    li.classList.toggle("playing", Number(li.dataset.itemId) === data.segments[current]?.item_id);
  }
}

async function load(index, autoplay) {
  const segment = data.segments[index];
  if (!segment) return;
  if (current >= 0) await report();
  current = index;
  lastSent = "";
  for (const track of [...video.querySelectorAll("track")]) track.remove();
  video.src = segment.video_url;
  const track = document.createElement("track");
  Object.assign(track, { kind: "captions", srclang: "en", label: "Captions", src: segment.captions_url, default: true });
  video.appendChild(track);
  nowText.textContent = `Segment ${index + 1} of ${data.segments.length}: ${segment.title || "Segment " + (index + 1)}`;
  noteText.textContent = "";
  mark();
  if (autoplay) video.play().catch(() => {});
}

video.addEventListener("timeupdate", () => {
  const segment = data.segments[current];
  if (!segment) return;
  const note = segment.annotations.filter((n) => n.offset <= video.currentTime && video.currentTime < n.offset + NOTE_SECONDS).pop();
  noteText.textContent = note ? note.text : "";
});

video.addEventListener("ended", async () => {
  await report();
  if (straight && current + 1 < data.segments.length) load(current + 1, true);
  else {
    straight = false;
    nowText.textContent = "The end of the lesson.";
    nowText.dataset.ended = "true";
  }
});
video.addEventListener("pause", () => report());

document.getElementById("watch-play")?.addEventListener("click", () => { straight = true; load(0, true); });
document.getElementById("watch-next")?.addEventListener("click", () => load(Math.min(current + 1, data.segments.length - 1), true));
document.getElementById("watch-previous")?.addEventListener("click", () => load(Math.max(current - 1, 0), true));
setInterval(() => { if (!video.paused) report(); }, REPORT_EVERY_MS);
window.addEventListener("pagehide", () => report(true));

if (data.segments.length) load(0, false);
