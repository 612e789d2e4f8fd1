// The change-password page: the new password goes to the API, which says why it refuses one.
import { api } from "/static/app.js";

document.getElementById("password-form")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const message = document.getElementById("password-message");
  try {
    await api("POST", "/api/v1/auth/password", {
      current_password: document.getElementById("current").value,
      new_password: document.getElementById("new").value,
    });
    location.href = "/";
  } catch (error) {
    message.textContent = error.message;
    message.className = "bad";
  }
});
