import { clock } from "/static/app.js";

// Upload page: several files, each sent with XMLHttpRequest (fetch reports no upload progress),
// then followed every second until the pipeline has finished with it.
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
const form = document.getElementById("upload-form");
const list = document.getElementById("file-list");
const noFiles = document.getElementById("no-files");
const picker = document.getElementById("file-input");
const zone = document.getElementById("dropzone");
const message = document.getElementById("upload-message");
const button = document.getElementById("upload-button");
// One upload at a time: sequential uploads share a slow link best.
const PARALLEL = 1;
// A busy server answers 503 and keeps nothing of the upload: it is sent again after the server's
// Retry-After, the pause doubling each time, a few times. The same bytes sent again are recognised
// by the server (200, "duplicate"), so a retry never stores a clip twice.
const BUSY_TRIES = 5;
const entries = [];

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function say(text, bad = false) {
  message.textContent = text;
  message.className = bad ? "bad" : "muted";
}

function bytes(n) {
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function progressBar(label) {
  const fill = el("span");
  const track = el("div", { className: "progress" }, fill);
  track.setAttribute("role", "progressbar");
  track.setAttribute("aria-label", label);
  track.setAttribute("aria-valuemin", "0");
  track.setAttribute("aria-valuemax", "100");
  const percent = el("span", { textContent: "" });
  return {
    nodes: [el("span", { textContent: label }), track, percent],
    set(fraction) {
      const value = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
      fill.style.width = `${value}%`;
      track.setAttribute("aria-valuenow", String(value));
      percent.textContent = `${value}%`;
    },
  };
}

function addFiles(files) {
  for (const file of files) {
    const key = `${file.name}/${file.size}/${file.lastModified}`;
    if (entries.some((e) => e.key === key && e.state !== "refused")) continue;
    const evidence = el("input", { type: "text", maxLength: 200, placeholder: "Evidence ID", autocomplete: "off" });
    evidence.setAttribute("aria-label", `Evidence ID for ${file.name}`);
    const remove = el("button", { type: "button", className: "link", textContent: "Remove" });
    const upload = progressBar("Upload");
    const processing = progressBar("Processing");
    const state = el("div", { className: "state muted", textContent: "Ready to upload" });
    const bars = el("div", { className: "bars" }, ...upload.nodes);
    const moments = momentsEditor(file.name);
    const row = el("li", {}, el("span", { className: "name", title: file.name },
      el("strong", { textContent: file.name }), " ", el("span", { className: "muted", textContent: bytes(file.size) })),
    evidence, remove, moments.node, bars, state);
    const entry = { key, file, row, evidence, remove, moments, upload, processing, bars, stateNode: state, state: "waiting" };
    remove.addEventListener("click", () => {
      entries.splice(entries.indexOf(entry), 1);
      row.remove();
      refresh();
    });
    entries.push(entry);
    list.append(row);
  }
  refresh();
}

// "m:ss", "h:mm:ss" or plain seconds → seconds; NaN when it is none of these.
function parseTime(text) {
  const parts = text.trim().split(":");
  if (!text.trim() || parts.length > 3 || parts.some((p) => !/^\d+(\.\d+)?$/.test(p))) return NaN;
  return parts.reduce((total, part) => total * 60 + Number(part), 0);
}


// Moments the officer marks before sending (where in this file something worth seeing happens).
function momentsEditor(fileName) {
  const markers = [];
  const at = el("input", { type: "text", placeholder: "m:ss", className: "moment-at", autocomplete: "off" });
  at.setAttribute("aria-label", `Moment time in ${fileName}`);
  const note = el("input", { type: "text", placeholder: "What happens then", maxLength: 1000, className: "moment-note" });
  note.setAttribute("aria-label", `Moment note in ${fileName}`);
  const add = el("button", { type: "button", className: "link", textContent: "Add moment" });
  const problem = el("span", { className: "bad text-sm" });
  problem.setAttribute("role", "alert");
  const listed = el("ul", { className: "moments" });
  const details = el("details", { className: "moments-editor" }, el("summary", { textContent: "Moments (optional)" }),
    el("div", { className: "moment-fields" }, at, note, add), problem, listed);
  function draw() {
    listed.replaceChildren(...markers.map((marker, index) => {
      const drop = el("button", { type: "button", className: "link", textContent: "Remove" });
      drop.addEventListener("click", () => { markers.splice(index, 1); draw(); });
      return el("li", {}, el("span", { textContent: `${clock(marker.at, { tenths: false })} ${marker.note}` }), " ", drop);
    }));
    details.querySelector("summary").textContent = markers.length ? `Moments (${markers.length})` : "Moments (optional)";
  }
  function addMoment() {
    const seconds = parseTime(at.value);
    if (Number.isNaN(seconds)) {
      problem.textContent = "Give the time as m:ss (for example 1:05) or in seconds.";
      return;
    }
    problem.textContent = "";
    markers.push({ at: seconds, note: note.value.trim() });
    markers.sort((a, b) => a.at - b.at);
    at.value = "";
    note.value = "";
    draw();
    at.focus();
  }
  add.addEventListener("click", addMoment);
  for (const input of [at, note]) {
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); addMoment(); }
    });
  }
  return { node: details, markers, lock() { details.querySelectorAll("input, button").forEach((c) => { c.disabled = true; }); } };
}

function refresh() {
  const waiting = entries.filter((e) => e.state === "waiting").length;
  noFiles.hidden = entries.length > 0;
  button.textContent = waiting > 1 ? `Upload ${waiting} files` : "Upload";
}

function describe(detail, status) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((d) => `${(d.loc ?? []).slice(1).join(".")}: ${d.msg}`).join("; ");
  if (status === 401) return "your session has ended: sign in again, then upload this file again";
  return `the upload was refused (${status})`;
}

function setState(entry, text, kind = "muted") {
  entry.stateNode.className = `state ${kind}`;
  entry.stateNode.replaceChildren(...(Array.isArray(text) ? text : [text]));
}

function send(entry, shared) {
  entry.state = "sending";
  entry.evidence.disabled = true;
  entry.remove.hidden = true;
  setState(entry, "Uploading…");
  const data = new FormData();
  data.append("badge_number", shared.badge_number);
  shared.categories.forEach((c) => data.append("categories", c));
  for (const name of ["recorded_at", "incident_number", "division", "note"]) {
    if (shared[name]) data.append(name, shared[name]);
  }
  if (entry.evidence.value.trim()) data.append("evidence_id", entry.evidence.value.trim());
  if (entry.moments.markers.length) data.append("markers", JSON.stringify(entry.moments.markers));
  entry.moments.lock();
  data.append("file", entry.file, entry.file.name);
  return new Promise((resolve) => attempt(entry, data, 1, resolve));
}

function busyPause(xhr, tries) {
  const asked = Number(xhr.getResponseHeader("Retry-After"));
  const seconds = Math.min(60, (asked > 0 ? asked : 2) * 2 ** (tries - 1));
  return seconds * (0.8 + Math.random() * 0.4) * 1000; // spread out the clients the server turned away together
}

function attempt(entry, data, tries, done) {
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/api/v1/clips");
  xhr.setRequestHeader("X-CSRF-Token", csrf);
  xhr.setRequestHeader("Accept", "application/json");
  xhr.responseType = "json";
  xhr.upload.addEventListener("progress", (event) => {
    if (event.lengthComputable) entry.upload.set(event.loaded / event.total);
  });
  xhr.addEventListener("load", () => {
    const body = xhr.response;
    if (xhr.status === 503 && tries < BUSY_TRIES) {
      const pause = busyPause(xhr, tries);
      entry.upload.set(0);
      setState(entry, `The server is busy; sending it again in ${Math.ceil(pause / 1000)} s…`);
      setTimeout(() => attempt(entry, data, tries + 1, done), pause);
      return;
    }
    if (xhr.status === 200 || xhr.status === 201) {
      entry.upload.set(1);
      entry.state = "sent";
      entry.bars.append(...entry.processing.nodes);
      show(entry, body);
      if (body.status === "processing") setTimeout(() => follow(entry, body.id, 0), 1000);
    } else {
      entry.state = "refused";
      setState(entry, `Refused: ${describe(body?.detail, xhr.status)}`, "bad");
    }
    done();
  });
  for (const failure of ["error", "abort", "timeout"]) {
    xhr.addEventListener(failure, () => {
      entry.state = "refused";
      setState(entry, "The connection broke off during the upload; drop the file again to retry.", "bad");
      done();
    });
  }
  xhr.send(data);
}

function show(entry, clip) {
  entry.processing.set(clip.status === "processing" ? clip.progress : 1);
  const stages = el("span", { className: "stages" }, ...(clip.stages ?? []).map((stage) => el("span", {
    className: `pill ${stage.state}`,
    textContent: stage.state === "running" ? `${stage.name} ${Math.round(stage.progress * 100)}%` : `${stage.name} ${stage.state}`,
  })));
  const dup = clip.duplicate ? ` These bytes were already here as clip ${clip.id}; your tags were added to it.` : "";
  if (clip.status === "processing") {
    setState(entry, [`Clip ${clip.id}: processing.${dup}`, stages]);
  } else if (clip.status === "ready") {
    entry.state = "finished";
    setState(entry, [`Clip ${clip.id} is ready.${dup} `, el("a", { href: `/clips/${clip.id}`, textContent: "Open it" }),
      " · ", el("a", { href: "/my", textContent: "My footage" })], "good");
  } else {
    entry.state = "finished";
    const what = clip.status === "rejected" ? "was rejected" : "could not be processed (a problem on our side, not with your file)";
    setState(entry, `Clip ${clip.id} ${what}: ${clip.reason ?? "no reason was given"}`, "bad");
  }
}

async function follow(entry, id, misses) {
  try {
    const response = await fetch(`/api/v1/clips/${id}`, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(String(response.status));
    const clip = await response.json();
    show(entry, clip);
    if (clip.status === "processing") setTimeout(() => follow(entry, id, 0), 1000);
  } catch (error) {
    if (misses >= 2) setState(entry, `Clip ${id}: lost contact with the server (${error.message}); still trying…`, "bad");
    setTimeout(() => follow(entry, id, misses + 1), Math.min(10000, 1000 * 2 ** misses));
  }
}

async function pool(items, limit, work) {
  const queue = [...items];
  const runners = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    while (queue.length) await work(queue.shift());
  });
  await Promise.all(runners);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const badge = form.elements.badge_number.value.trim();
  const categories = [...form.querySelectorAll('input[name="categories"]:checked')].map((i) => i.value);
  const waiting = entries.filter((e) => e.state === "waiting");
  if (!waiting.length) return say("Add at least one file first.", true);
  if (!badge) return say("Enter the badge number of the officer who recorded the footage.", true);
  if (!categories.length) return say("Choose at least one category.", true);
  const recorded = form.elements.recorded_at.value;
  const shared = {
    badge_number: badge,
    categories,
    recorded_at: recorded ? new Date(recorded).toISOString() : "",
    incident_number: form.elements.incident_number.value.trim(),
    division: form.elements.division.value.trim(),
    note: form.elements.note.value.trim(),
  };
  button.disabled = true;
  say(`Uploading ${waiting.length} file${waiting.length > 1 ? "s" : ""}…`);
  await pool(waiting, PARALLEL, (entry) => send(entry, shared));
  button.disabled = false;
  const refused = waiting.filter((e) => e.state === "refused").length;
  say(refused ? `${refused} of ${waiting.length} refused; see the reasons beside them.` : "All files arrived.", refused > 0);
  refresh();
});

picker.addEventListener("change", () => { addFiles(picker.files); picker.value = ""; });
for (const name of ["dragenter", "dragover"]) {
  zone.addEventListener(name, (event) => { event.preventDefault(); zone.classList.add("over"); });
}
for (const name of ["dragleave", "drop"]) {
  zone.addEventListener(name, () => zone.classList.remove("over"));
}
zone.addEventListener("drop", (event) => {
  event.preventDefault();
  addFiles(event.dataTransfer.files);
});
// A file dropped beside the zone would make the browser navigate away to play it.
window.addEventListener("dragover", (event) => event.preventDefault());
window.addEventListener("drop", (event) => event.preventDefault());
window.addEventListener("beforeunload", (event) => {
  if (entries.some((e) => e.state === "sending")) event.preventDefault();
});
refresh();
