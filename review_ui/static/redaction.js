// The redaction editor of one lesson item: the video with every track's box drawn over it, each
// track a lane with its keep/blur toggle, drawing a region to blur at the current time, the
// transcript with the PII words marked (press to toggle; press another word to bleep it), approval
// and a preview render. Every change goes through the JSON API, which answers the whole redaction.
import { api, clock } from "/static/app.js";

const data = JSON.parse(document.getElementById("redaction-data").textContent);
const base = `/api/v1/lessons/${data.lesson_id}/items/${data.item_id}/redaction`;
const video = document.getElementById("redaction-video");
const canvas = document.getElementById("overlay");
const lanes = document.getElementById("lanes");
const transcript = document.getElementById("transcript");
const statusLine = document.getElementById("redaction-status");
const detectorLine = document.getElementById("redaction-detector");
const message = document.getElementById("redaction-message");
const approveButton = document.getElementById("approve");
const detectButton = document.getElementById("detect");
const drawButton = document.getElementById("draw-box");
const previewForm = document.getElementById("preview-form");
const previewState = document.getElementById("preview-state");
const previewVideo = document.getElementById("preview-video");
const POLL_MS = 1000;

let redaction = data.redaction;
let drawing = false;
let dragStart = null;
let dragBox = null;
let lastDrawn = null; // the box drawn last: "Keyframe here" moves a region to it

function say(text, bad = false) {
  message.textContent = text;
  message.className = bad ? "bad" : "good";
}


async function act(method, path, body, done) {
  try {
    redaction = await api(method, base + path, body);
    render();
    if (done) say(done);
  } catch (error) {
    say(error.message, true);
  }
}

// --- the status ----------------------------------------------------------------------------

function renderStatus() {
  if (!redaction) {
    statusLine.textContent = "No redaction yet: start the detection.";
    statusLine.dataset.status = "none";
    approveButton.disabled = true;
    detectButton.textContent = "Detect faces and spoken PII";
    return;
  }
  detectButton.textContent = "Detect again";
  const d = redaction.detection;
  let text;
  if (d === "queued" || d === "running") text = `Detecting faces and spoken PII (${d})…`;
  else if (d === "failed") text = `The detection failed: ${redaction.detection_error}`;
  else if (redaction.stale) text = "The segment changed since the detection: detect again.";
  else if (redaction.status === "approved")
    text = `Approved by ${redaction.approved_by_name} (version ${redaction.approved_version}).`;
  else text = `Draft, version ${redaction.version}: waiting for approval.`;
  statusLine.textContent = text;
  statusLine.dataset.status = d === "done" ? redaction.status : d;
  approveButton.disabled = d !== "done" || redaction.status === "approved" || redaction.stale;
  detectButton.disabled = d === "queued" || d === "running";
  drawButton.disabled = d !== "done";
  const detector = redaction.detector;
  detectorLine.textContent = detector
    ? `Detector: ${detector.name} ${detector.version ?? ""} · ${redaction.tracks.length} tracks · ${
        redaction.words.filter((w) => w.bleep).length
      } word runs bleeped`
    : "";
}

// --- the lanes -----------------------------------------------------------------------------

function trackName(track) {
  return track.kind === "detected" ? `Face ${track.track_no}` : `Region: ${track.label || "drawn box"}`;
}

function laneBar(track) {
  const bar = document.createElement("div");
  bar.className = "lane-bar";
  const span = document.createElement("span");
  const length = data.out_point - data.in_point;
  const from = Math.max(0, ((track.first_time ?? data.in_point) - data.in_point) / length);
  const to = Math.min(1, ((track.last_time ?? data.out_point) - data.in_point) / length);
  span.style.left = `${from * 100}%`;
  span.style.width = `${Math.max(0.01, to - from) * 100}%`;
  span.className = track.action === "keep" ? "kept" : "blurred";
  bar.append(span);
  for (const key of track.kind === "manual" ? track.keyframes : []) {
    const mark = document.createElement("button");
    mark.type = "button";
    mark.className = "keyframe";
    mark.style.left = `${((key.t - data.in_point) / length) * 100}%`;
    mark.title = `keyframe at ${clock(key.t)}`;
    mark.setAttribute("aria-label", `Go to the keyframe at ${clock(key.t)}`);
    mark.addEventListener("click", () => (video.currentTime = key.t));
    bar.append(mark);
  }
  bar.addEventListener("click", (event) => {
    if (event.target !== bar && event.target !== span) return;
    const rect = bar.getBoundingClientRect();
    video.currentTime = data.in_point + ((event.clientX - rect.left) / rect.width) * length;
  });
  return bar;
}

function renderLanes() {
  lanes.replaceChildren();
  for (const track of redaction?.tracks ?? []) {
    const li = document.createElement("li");
    li.className = `lane ${track.action}`;
    li.dataset.trackId = track.id;
    const head = document.createElement("div");
    head.className = "lane-head";
    const name = document.createElement("strong");
    name.textContent = trackName(track);
    const when = document.createElement("span");
    when.className = "muted";
    when.textContent = ` ${clock(track.first_time ?? 0)}–${clock(track.last_time ?? 0)}`;
    head.append(name, when);
    if (track.kind === "detected") {
      const toggle = document.createElement("button");
      toggle.type = "button";
      toggle.className = "toggle";
      toggle.dataset.action = "toggle";
      toggle.setAttribute("aria-pressed", String(track.action === "blur"));
      toggle.textContent = track.action === "blur" ? "Blurred" : "Kept visible";
      toggle.addEventListener("click", () => toggleTrack(track, li));
      head.append(toggle);
      if (track.action === "keep") {
        const why = document.createElement("span");
        why.className = "muted";
        why.textContent = ` ${track.keep_reason === "consent" ? `consent: ${track.keep_note}` : "featured officer"}`;
        head.append(why);
      }
    } else {
      const key = document.createElement("button");
      key.type = "button";
      key.textContent = "Keyframe here";
      key.title = "Set this region's box at the current time to the one drawn last (or its box now)";
      key.addEventListener("click", () => keyframeHere(track));
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "Delete";
      remove.addEventListener("click", () => act("DELETE", `/tracks/${track.id}`, undefined, "Region deleted."));
      head.append(key, remove);
    }
    li.append(head, laneBar(track));
    lanes.append(li);
  }
  if (!lanes.children.length) {
    const none = document.createElement("li");
    none.className = "muted";
    none.textContent = redaction?.detection === "done" ? "No faces found, no regions drawn." : "Not detected yet.";
    lanes.append(none);
  }
}

function toggleTrack(track, li) {
  if (track.action === "keep") {
    act("PATCH", `/tracks/${track.id}`, { action: "blur" }, `${trackName(track)} is blurred.`);
    return;
  }
  // Keeping a face visible needs a reason, and for consent its record.
  let form = li.querySelector("form.keep");
  if (form) return form.querySelector("select").focus();
  form = document.createElement("form");
  form.className = "keep inline";
  form.innerHTML = `
    <label>Why keep this face visible?
      <select name="keep_reason" required>
        <option value="featured_officer">The featured officer</option>
        <option value="consent">A community member who consented</option>
      </select></label>
    <label>Consent record <input name="keep_note" maxlength="2000" placeholder="who, how, where it is kept"></label>
    <button type="submit" class="primary">Keep visible</button>
    <button type="button" data-action="cancel">Cancel</button>`;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const fields = new FormData(form);
    act(
      "PATCH",
      `/tracks/${track.id}`,
      { action: "keep", keep_reason: fields.get("keep_reason"), keep_note: fields.get("keep_note") || null },
      `${trackName(track)} is kept visible.`,
    );
  });
  form.querySelector("[data-action=cancel]").addEventListener("click", () => form.remove());
  li.append(form);
  form.querySelector("select").focus();
}

// --- the overlay ---------------------------------------------------------------------------

function boxAt(track, t) {
  const keys = track.keyframes;
  if (!keys.length || t < keys[0].t - 0.05 || t > keys[keys.length - 1].t + 0.05) return null;
  let i = keys.findIndex((k) => k.t >= t);
  if (i <= 0) return (i === 0 ? keys[0] : keys[keys.length - 1]).box;
  const a = keys[i - 1], b = keys[i];
  const share = (t - a.t) / (b.t - a.t || 1);
  // Detected tracks are sampled every few frames: a gap longer than half a second is no box.
  if (track.kind === "detected" && b.t - a.t > 0.5) return null;
  return a.box.map((v, n) => v + (b.box[n] - v) * share);
}

function scale() {
  const width = redaction?.width || video.videoWidth || 1;
  return canvas.width / width;
}

function drawOverlay() {
  const rect = video.getBoundingClientRect();
  if (canvas.width !== Math.round(rect.width) || canvas.height !== Math.round(rect.height)) {
    canvas.width = Math.round(rect.width);
    canvas.height = Math.round(rect.height);
  }
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const k = scale();
  for (const track of redaction?.tracks ?? []) {
    const box = boxAt(track, video.currentTime);
    if (!box) continue;
    ctx.lineWidth = 2;
    ctx.strokeStyle = track.action === "keep" ? "#1a7f37" : track.kind === "manual" ? "#b35900" : "#cf222e";
    ctx.setLineDash(track.action === "keep" ? [6, 4] : []);
    ctx.strokeRect(box[0] * k, box[1] * k, box[2] * k, box[3] * k);
    ctx.fillStyle = ctx.strokeStyle;
    ctx.font = "12px sans-serif";
    ctx.fillText(trackName(track), box[0] * k + 2, Math.max(12, box[1] * k - 3));
  }
  if (dragBox) {
    ctx.setLineDash([4, 3]);
    ctx.strokeStyle = "#0969da";
    ctx.strokeRect(dragBox[0] * k, dragBox[1] * k, dragBox[2] * k, dragBox[3] * k);
  }
  requestAnimationFrame(drawOverlay);
}

// --- drawing a region ----------------------------------------------------------------------

function pointer(event) {
  const rect = canvas.getBoundingClientRect();
  const k = scale();
  return [(event.clientX - rect.left) / k, (event.clientY - rect.top) / k];
}

function setDrawing(on) {
  drawing = on;
  drawButton.setAttribute("aria-pressed", String(on));
  canvas.classList.toggle("drawing", on);
  if (on) video.pause();
}

drawButton.addEventListener("click", () => setDrawing(!drawing));
canvas.addEventListener("pointerdown", (event) => {
  if (!drawing) return;
  dragStart = pointer(event);
  canvas.setPointerCapture(event.pointerId);
});
canvas.addEventListener("pointermove", (event) => {
  if (!dragStart) return;
  const [x, y] = pointer(event);
  dragBox = [Math.min(x, dragStart[0]), Math.min(y, dragStart[1]), Math.abs(x - dragStart[0]), Math.abs(y - dragStart[1])];
});
canvas.addEventListener("pointerup", async () => {
  if (!dragStart) return;
  dragStart = null;
  const box = dragBox;
  setDrawing(false);
  if (!box || box[2] < 4 || box[3] < 4) {
    dragBox = null;
    return say("Drag over the video to draw the region.", true);
  }
  const t = Math.min(Math.max(video.currentTime, data.in_point), data.out_point);
  await act("POST", "/tracks", { label: null, keyframes: [{ t, box }] }, `Region added at ${clock(t)}.`);
  dragBox = null;
  lastDrawn = box;
});

function keyframeHere(track) {
  const t = Math.min(Math.max(video.currentTime, data.in_point), data.out_point);
  const box = lastDrawn ?? boxAt(track, t) ?? track.keyframes[track.keyframes.length - 1].box;
  act("POST", `/tracks/${track.id}/keyframes`, { keyframes: [{ t, box }] }, `Keyframe set at ${clock(t)}.`);
}

// --- the transcript ------------------------------------------------------------------------

function runOf(word) {
  return (redaction?.words ?? []).find(
    (w) => w.segment === word.segment && w.first_word <= word.index && word.index <= w.last_word,
  );
}

function renderTranscript() {
  transcript.replaceChildren();
  let speaker = null;
  let line = null;
  for (const word of data.words) {
    if (word.speaker !== speaker || !line) {
      speaker = word.speaker;
      line = document.createElement("p");
      const who = document.createElement("span");
      who.className = "speaker";
      who.textContent = `${speaker ?? "speaker"}: `;
      line.append(who);
      transcript.append(line);
    }
    const run = runOf(word);
    const button = document.createElement("button");
    button.type = "button";
    button.className = `word${run ? " pii" : ""}${run?.bleep ? " bleep" : ""}`;
    button.textContent = word.word;
    button.dataset.segment = word.segment;
    button.dataset.index = word.index;
    if (run) {
      button.setAttribute("aria-pressed", String(run.bleep));
      button.title = `${run.kind} (${run.origin}): ${run.bleep ? "bleeped" : "kept"}`;
    }
    button.addEventListener("click", () => {
      video.currentTime = word.start;
      if (run) act("PATCH", `/words/${run.id}`, { bleep: !run.bleep }, `"${run.text}" ${run.bleep ? "kept" : "bleeped"}.`);
      else
        act("POST", "/words", { segment: word.segment, first_word: word.index, last_word: word.index }, `"${word.word}" bleeped.`);
    });
    line.append(button, " ");
  }
  if (!data.words.length) transcript.textContent = "No words in this segment.";
}

// --- approval, detection, preview ----------------------------------------------------------

approveButton.addEventListener("click", () =>
  act("POST", "/approve", { version: redaction.version }, "Approved: the lesson may export this item."),
);
detectButton.addEventListener("click", async () => {
  await act("POST", "/detect", undefined, "Detection queued.");
  poll();
});

previewForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const fields = new FormData(previewForm);
  await act("POST", "/preview", { start: Number(fields.get("start")), seconds: Number(fields.get("seconds")) });
  previewState.textContent = "Rendering the preview…";
  poll();
});

function renderPreview() {
  const state = redaction?.preview_state;
  if (state === "done" && redaction.preview_url) {
    previewState.textContent = `Preview of ${clock(redaction.preview_start)}–${clock(redaction.preview_end)} (version ${redaction.preview_version}).`;
    const src = `${redaction.preview_url}?v=${redaction.preview_version}-${redaction.preview_start}`;
    if (previewVideo.getAttribute("src") !== src) previewVideo.src = src;
    previewVideo.hidden = false;
  } else if (state === "failed") previewState.textContent = `The preview failed: ${redaction.preview_error}`;
  else if (state) previewState.textContent = "Rendering the preview…";
}

function render() {
  renderStatus();
  renderLanes();
  renderTranscript();
  renderPreview();
}

let polling = false;
async function poll() {
  if (polling) return;
  polling = true;
  try {
    while (true) {
      const busy = (s) => s === "queued" || s === "running";
      if (redaction && !busy(redaction.detection) && !busy(redaction.preview_state)) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      try {
        redaction = await api("GET", base);
      } catch (error) {
        if (!redaction) break; // none yet: the button starts one
      }
      render();
    }
  } finally {
    polling = false;
  }
}

video.src = data.proxy_url;
video.addEventListener("loadedmetadata", () => {
  if (video.currentTime < data.in_point) video.currentTime = data.in_point;
});
video.addEventListener("timeupdate", () => {
  if (video.currentTime > data.out_point) video.pause();
});
previewForm.elements.start.value = data.in_point;
video.addEventListener("seeked", () => (previewForm.elements.start.value = Math.round(video.currentTime * 10) / 10));
render();
requestAnimationFrame(drawOverlay);
if (redaction) poll();
