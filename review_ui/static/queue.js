// The review queue: "Next clip" claims the best ready clip and opens it. Keys: n next clip, / search.
import { api } from "/static/app.js";

const button = document.getElementById("next-clip");
const note = document.getElementById("queue-note");
const text = document.getElementById("q-text");

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
