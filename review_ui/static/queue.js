// The review queue: "Next clip" claims the best ready clip and opens it. Keys: n next clip, / search.
// The rows stay current without a reload: /queue/rows (the same query) is polled, often while a
// clip is processing, now and then otherwise, so progress, claims and clips that finish
// processing show as they happen.
import { api } from "/static/app.js";

const button = document.getElementById("next-clip");
const note = document.getElementById("queue-note");
const text = document.getElementById("q-text");
const rows = document.getElementById("queue-rows");
const table = rows?.closest("table");

async function nextClip() {
  if (button.disabled) return;
  button.disabled = true;
  note.classList.remove("bad");
  note.textContent = "Finding the next clip…";
  try {
    const item = await api("POST", "/api/v1/review/next");  // null: 204, nothing is waiting
    if (item) {
      location.assign(`/clips/${item.clip_id}`);
      return;
    }
    note.textContent = "The queue is empty: no ready clip is waiting.";
  } catch (error) {
    note.textContent = error.message;
    note.classList.add("bad");
  }
  button.disabled = false;
}

button.addEventListener("click", nextClip);

const typing = (el) => el instanceof HTMLElement
  && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  if (event.key === "n") {
    event.preventDefault();
    nextClip();
  } else if (event.key === "/") {
    event.preventDefault();
    text.focus();
    text.select();
  }
});

// --- live rows ----------------------------------------------------------------------------------

const FAST_MS = 1500;  // while a clip is processing
const SLOW_MS = 8000;  // otherwise: new clips, claims, decisions by others

const processingNow = () => Boolean(rows?.querySelector('tr[data-status="processing"]'));

async function refresh() {
  let response = null;
  try {
    response = await fetch(`/queue/rows${location.search}`, { headers: { Accept: "text/html" } });
  } catch { /* offline for a moment: the next beat tries again */ }
  if (response?.ok) {
    const html = await response.text();
    if (rows.innerHTML.trim() !== html.trim()) rows.innerHTML = html;
    table.hidden = !rows.querySelector("tr");
    const counts = JSON.parse(response.headers.get("X-Queue-Counts") || "{}");
    for (const cell of document.querySelectorAll(".queue-counts .count[data-state]")) {
      cell.textContent = String(counts[cell.dataset.state] ?? 0);
    }
    const summary = document.getElementById("queue-total");
    const total = Number(response.headers.get("X-Queue-Total") || 0);
    if (summary) {
      const first = Number(summary.dataset.first), size = Number(summary.dataset.pageSize);
      summary.textContent = total >= first
        ? `${first}–${Math.min(first + size - 1, total)} of ${total}` : "No clips match these filters.";
    }
    const all = document.querySelector(".queue-counts a:first-child .count");
    if (all) all.textContent = String(Object.values(counts).reduce((a, b) => a + b, 0));
  }
  setTimeout(refresh, document.hidden ? SLOW_MS : processingNow() ? FAST_MS : SLOW_MS);
}

if (rows) setTimeout(refresh, processingNow() ? FAST_MS : SLOW_MS);
