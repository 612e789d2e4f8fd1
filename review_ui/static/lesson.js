// The lesson page: play the items straight through in one <video>, reorder, edit in/out and
// annotations, annotate the moment on screen, remove, and export with progress and a download.
// Every change goes through the JSON API; the item list is then re-rendered by the server.
import { api } from "/static/app.js";

const lessonId = document.getElementById("lesson").dataset.lessonId;
const list = document.getElementById("lesson-items");
const video = document.getElementById("player");
const nowPlaying = document.getElementById("now-playing");
const overlay = document.getElementById("note-overlay");
const message = document.getElementById("lesson-message");
const exportButton = document.getElementById("export-start");
const playButton = document.getElementById("play-lesson");
const NOTE_SECONDS = 4; // how long an annotation stays on screen

let items = readItems();
let current = -1; // index of the item in the player
let straight = false; // at an out point, go on to the next item
let loads = 0; // the latest load wins when items are skipped through quickly
let exporting = false;

function readItems() {
  return JSON.parse(document.getElementById("lesson-items-data").textContent);
}

function say(text, bad = false) {
  message.textContent = text;
  message.className = bad ? "bad" : "good";
}

const itemUrl = (item) => `/api/v1/lessons/${lessonId}/items/${item.id}`;
const tenths = (seconds) => Math.round(seconds * 10) / 10;

async function refresh(focus) {
  const playingId = items[current]?.id;
  const response = await fetch(`/curriculum/lessons/${lessonId}/items`);
  if (!response.ok) throw new Error(`could not reload the items (${response.status})`);
  list.innerHTML = await response.text();
  items = readItems();
  current = items.findIndex((item) => item.id === playingId);
  playButton.disabled = items.length === 0;
  exportButton.disabled = exporting || items.length === 0;
  showPlaying();
  if (focus) list.querySelector(`li[data-item-id="${focus.id}"] [data-action="${focus.action}"]:not(:disabled)`)?.focus();
}

// --- the player --------------------------------------------------------------------------------

function playable(index, step) {
  while (items[index] && !items[index].available) index += step;
  return index;
}

function load(index, from) {
  const item = items[index];
  if (!item) return end();
  current = index;
  const ticket = ++loads;
  const start = () => {
    if (ticket !== loads) return;
    video.currentTime = from ?? item.in_point;
    video.play().catch(() => {}); // autoplay refused: the controls are there
  };
  if (video.dataset.src === item.proxy_url && video.readyState >= 1) start();
  else {
    video.dataset.src = item.proxy_url;
    video.src = item.proxy_url;
    video.addEventListener("loadedmetadata", start, { once: true });
  }
  showPlaying();
}

function end() {
  straight = false;
  video.pause();
  nowPlaying.textContent = "End of the lesson.";
  overlay.textContent = "";
}

function showPlaying() {
  const item = items[current];
  list.querySelectorAll("li[data-item-id]").forEach((li) => {
    li.classList.toggle("playing", Number(li.dataset.itemId) === item?.id);
  });
  if (item) {
    nowPlaying.textContent = `Item ${item.number} of ${items.length}: ${item.title || item.clip_label} ` +
      `(${item.in_clock} → ${item.out_clock})`;
  }
}

video.addEventListener("timeupdate", () => {
  const item = items[current];
  if (!item || video.seeking || video.readyState < 1 || video.dataset.src !== item.proxy_url) return;
  const t = video.currentTime;
  const note = item.annotations.filter((n) => n.at <= t && t < n.at + NOTE_SECONDS).pop();
  overlay.textContent = note ? note.text : "";
  if (straight && t >= item.out_point) {
    const next = playable(current + 1, 1);
    if (next < items.length) load(next);
    else end();
  }
});

playButton.addEventListener("click", () => {
  straight = true;
  load(playable(0, 1));
});
document.getElementById("next-item").addEventListener("click", () => {
  straight = true;
  load(playable(current + 1, 1));
});
document.getElementById("previous-item").addEventListener("click", () => {
  straight = true;
  load(playable(Math.max(current - 1, 0), -1));
});

document.getElementById("annotate").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const item = items[current];
  if (!item) return say("Play the lesson first: the note goes on the item on screen, at the moment shown.", true);
  const at = Math.min(Math.max(tenths(video.currentTime), item.in_point), item.out_point);
  const annotations = [...item.annotations.map(({ at, text }) => ({ at, text })),
    { at, text: form.elements.text.value.trim() }];
  try {
    await api("PATCH", itemUrl(item), { annotations });
    form.reset();
    await refresh();
    say(`Note added to item ${item.number} at ${at} s.`);
  } catch (error) { say(error.message, true); }
});

// --- the item list -----------------------------------------------------------------------------

function noteRow(at) {
  const row = document.createElement("div");
  row.className = "annotation-row";
  row.innerHTML = '<input name="at" type="number" step="any" min="0" aria-label="At (seconds)">' +
    '<input name="text" maxlength="2000" aria-label="Note"><button type="button" data-action="drop-note">Remove</button>';
  row.querySelector("[name=at]").value = at;
  return row;
}

list.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  const li = button?.closest("li[data-item-id]");
  if (!li) return;
  const index = items.findIndex((item) => item.id === Number(li.dataset.itemId));
  const item = items[index];
  const form = li.querySelector("form.edit");
  const action = button.dataset.action;
  const onScreen = video.dataset.src === item.proxy_url && items[current]?.clip_id === item.clip_id;
  try {
    if (action === "play") {
      straight = true;
      load(index);
    } else if (action === "seek") {
      straight = true;
      load(index, Number(button.dataset.at));
    } else if (action === "up" || action === "down") {
      const ids = items.map((x) => x.id);
      const other = index + (action === "up" ? -1 : 1);
      [ids[index], ids[other]] = [ids[other], ids[index]];
      await api("POST", `/api/v1/lessons/${lessonId}/items/reorder`, { item_ids: ids });
      await refresh({ id: item.id, action });
    } else if (action === "remove") {
      if (!confirm(`Remove item ${item.number} (${item.title || item.clip_label}) from the lesson?`)) return;
      await api("DELETE", itemUrl(item));
      await refresh();
      say(`Item ${item.number} removed.`);
    } else if (action === "edit") {
      form.hidden = !form.hidden;
      li.querySelector('[data-action="edit"]').setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) form.elements.title.focus();
    } else if (action === "add-note") {
      const row = noteRow(onScreen ? tenths(video.currentTime) : item.in_point);
      form.querySelector(".annotation-rows").append(row);
      row.querySelector("[name=text]").focus();
    } else if (action === "drop-note") {
      button.closest(".annotation-row").remove();
    } else if (action === "mark-in" || action === "mark-out") {
      if (!onScreen) return say(`Play item ${item.number} first, then stop at the moment you want.`, true);
      form.elements[action === "mark-in" ? "in_point" : "out_point"].value = tenths(video.currentTime);
    }
  } catch (error) { say(error.message, true); }
});

list.addEventListener("submit", async (event) => {
  const form = event.target.closest("form.edit");
  if (!form) return;
  event.preventDefault();
  const item = items.find((x) => x.id === Number(form.closest("li[data-item-id]").dataset.itemId));
  const annotations = [...form.querySelectorAll(".annotation-row")]
    .map((row) => ({ at: Number(row.querySelector("[name=at]").value), text: row.querySelector("[name=text]").value.trim() }))
    .filter((note) => note.text);
  try {
    await api("PATCH", itemUrl(item), {
      title: form.elements.title.value.trim() || null,
      in_point: Number(form.elements.in_point.value),
      out_point: Number(form.elements.out_point.value),
      annotations,
    });
    await refresh();
    say(`Item ${item.number} saved.`);
  } catch (error) { say(error.message, true); }
});

// --- export ------------------------------------------------------------------------------------

const exportStatus = document.getElementById("export-status");
const exportText = document.getElementById("export-text");

function showExport(exported) {
  const percent = Math.round(exported.progress * 100);
  exportStatus.hidden = false;
  exportStatus.querySelector(".progress > span").style.width = `${percent}%`;
  exportStatus.querySelector(".progress").setAttribute("aria-valuenow", String(percent));
  exportText.className = "";
  if (exported.state === "done") {
    const link = document.createElement("a");
    link.href = exported.download_url;
    link.textContent = `Download the export (${(exported.size_bytes / 1048576).toFixed(1)} MB)`;
    exportText.replaceChildren(link);
  } else if (exported.state === "failed") {
    exportText.textContent = `The export failed: ${exported.error}`;
    exportText.className = "bad";
  } else {
    exportText.textContent = exported.state === "queued" ? "Waiting for a worker…" : `Cutting the segments… ${percent}%`;
  }
}

async function follow(exportId) {
  exporting = exportButton.disabled = true;
  try {
    for (;;) {
      const exported = await api("GET", `/api/v1/exports/${exportId}`);
      showExport(exported);
      if (exported.state === "done" || exported.state === "failed") break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  } catch (error) {
    say(error.message, true);
  } finally {
    exporting = false;
    exportButton.disabled = items.length === 0;
  }
}

exportButton.addEventListener("click", async () => {
  try {
    const burn = document.getElementById("export-burn")?.checked ?? false;
    const started = await api("POST", `/api/v1/lessons/${lessonId}/exports`, { burn_captions: burn });
    showExport(started);
    follow(started.id);
  } catch (error) { say(error.message, true); }
});

if (exportStatus.dataset.following) follow(exportStatus.dataset.following);

// --- the release: notify the featured officers, publish, a lead's decision -----------------------

const releaseCard = document.getElementById("release");
async function releaseAction(method, url, body) {
  try {
    await api(method, url, body);
    window.location.reload();
  } catch (error) { say(error.message, true); }
}
document.getElementById("release-request")?.addEventListener("click", () => releaseAction("POST", `/api/v1/lessons/${lessonId}/release`));
document.getElementById("release-publish")?.addEventListener("click", () => releaseAction("POST", `/api/v1/lessons/${lessonId}/publish`));
document.getElementById("release-unpublish")?.addEventListener("click", () => releaseAction("POST", `/api/v1/lessons/${lessonId}/unpublish`));
releaseCard?.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-decision]");
  if (!button) return;
  const form = button.closest("form");
  const note = form.elements.note.value.trim();
  if (!note) { say("Say why: the decision is recorded with the objection.", true); form.elements.note.focus(); return; }
  const noticeId = button.closest("li[data-notice-id]").dataset.noticeId;
  releaseAction("POST", `/api/v1/lessons/${lessonId}/release/notices/${noticeId}/decision`, { decision: button.dataset.decision, note });
});
