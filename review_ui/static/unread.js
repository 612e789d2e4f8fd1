// The header's inbox badge: how many notifications are unread, asked for again every half minute
// and whenever the tab comes back into view, so it stays current without a reload.
const link = document.querySelector("a.inbox");
const badge = link?.querySelector(".badge");
const EVERY_MS = 30_000;

export function showUnread(count) {
  if (!badge) return;
  badge.textContent = count > 99 ? "99+" : String(count);
  badge.hidden = count === 0;
  link.setAttribute("aria-label", count ? `Inbox, ${count} unread` : "Inbox");
}

async function refresh() {
  if (!link || document.hidden) return;
  const response = await fetch("/api/v1/notifications/unread").catch(() => null);
  if (response?.ok) showUnread((await response.json()).unread);
}

if (link) {
  refresh();
  setInterval(refresh, EVERY_MS);
  document.addEventListener("visibilitychange", refresh);
}
