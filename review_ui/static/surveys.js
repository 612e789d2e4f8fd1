// Survey imports: the chosen CSV goes to the API as it is; the page then shows the new import.
import { csrf } from "/static/app.js";

const form = document.getElementById("survey-import");
const picker = document.getElementById("survey-file");
const message = document.getElementById("survey-message");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = picker.files[0];
  if (!file) return;
  message.className = "muted";
  message.textContent = `Importing ${file.name}…`;
  const response = await fetch(`/api/v1/surveys/import?filename=${encodeURIComponent(file.name)}`, {
    method: "POST",
    headers: { "Content-Type": "text/csv", "X-CSRF-Token": csrf },
    body: file,
  }).catch(() => null);
  const body = await response?.json().catch(() => null);
  if (!response?.ok) {
    message.className = "bad";
    message.textContent = `Not imported: ${body?.detail ?? "the server could not be reached"}`;
    return;
  }
  window.location.assign(`/admin/surveys?imported=${body.id}`);
});
