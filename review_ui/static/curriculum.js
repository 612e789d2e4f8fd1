// The curriculum page: create a course; add a lesson to a course (then open it).
import { api } from "/static/app.js";

const message = document.getElementById("curriculum-message");

function fail(error) {
  message.textContent = error.message;
  message.className = "bad";
}

document.getElementById("new-course")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  try {
    await api("POST", "/api/v1/courses", {
      title: form.elements.title.value.trim(),
      description: form.elements.description.value.trim() || null,
    });
    location.reload();
  } catch (error) { fail(error); }
});

document.querySelectorAll("form[data-new-lesson]").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const lesson = await api("POST", `/api/v1/courses/${form.dataset.newLesson}/lessons`, {
        title: form.elements.title.value.trim(),
      });
      location.assign(`/curriculum/lessons/${lesson.id}`);
    } catch (error) { fail(error); }
  });
});
