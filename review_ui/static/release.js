// The officer's release notice: consent, or object with the reason, through the JSON API.
import { api } from "/static/app.js";

const form = document.getElementById("notice-answer");
if (form) {
  const message = document.getElementById("notice-message");
  form.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-consent]");
    if (!button) return;
    const consent = button.dataset.consent === "true";
    const objection = form.elements.objection.value.trim();
    if (!consent && !objection) {
      message.textContent = "Say why you object: what in the segment should not be shown.";
      message.className = "bad";
      form.elements.objection.focus();
      return;
    }
    try {
      await api("POST", `/api/v1/release-notices/${form.dataset.noticeId}/response`, { consent, objection: consent ? null : objection });
      window.location.reload();
    } catch (error) {
      message.textContent = error.message;
      message.className = "bad";
    }
  });
}
