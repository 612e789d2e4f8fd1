// The inbox page: mark one or all read through the API; following a link marks it read first.
import { api } from "/static/app.js";
import { showUnread } from "/static/unread.js";

async function markRead(ids) {
  const { unread } = await api("POST", "/api/v1/notifications/read", ids ? { ids } : {});
  showUnread(unread);
  const text = document.querySelector("[data-unread-text]");
  if (text) text.textContent = `${unread} unread`;
  return unread;
}

function settle(item) {
  item.classList.remove("unread");
  item.querySelector("[data-mark-read]")?.remove();
}

document.querySelector(".notifications")?.addEventListener("click", async (event) => {
  const item = event.target.closest(".notification");
  if (!item) return;
  if (event.target.matches("[data-mark-read]")) {
    await markRead([Number(item.dataset.id)]);
    settle(item);
  } else if (event.target.closest("a") && item.classList.contains("unread")) {
    event.preventDefault();
    await markRead([Number(item.dataset.id)]).catch(() => null);
    window.location.assign(event.target.closest("a").href);
  }
});

document.querySelector("[data-mark-all]")?.addEventListener("click", async (event) => {
  await markRead(null);
  document.querySelectorAll(".notification.unread").forEach(settle);
  event.target.remove();
});
