// Shared by every page: JSON calls to the API with the session's CSRF token.
const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const detail = data?.detail;
    throw new Error(typeof detail === "string" ? detail : `request failed (${response.status})`);
  }
  return data;
}

export { csrf };

/** 83.46 -> "1:23.5", or "1:23" without tenths; 3725 -> "1:02:05.0". The pages' one time
 * formatter, twin of review_ui/pages.py `clock` (the server writes the same). */
export function clock(seconds, { tenths = true } = {}) {
  if (!Number.isFinite(seconds)) return "–";
  const count = tenths ? Math.round(Math.max(0, seconds) * 10) : Math.floor(Math.max(0, seconds)) * 10;
  const whole = Math.floor(count / 10);
  const h = Math.floor(whole / 3600), m = Math.floor(whole / 60) % 60, s = whole % 60;
  const text = h ? `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}` : `${m}:${String(s).padStart(2, "0")}`;
  return tenths ? `${text}.${count % 10}` : text;
}

// Progress fills take their width from aria-valuenow: the Content-Security-Policy allows no style
// attributes in markup, and rows that arrive later (queue refresh, partials) are painted too.
function paintProgress(root) {
  for (const bar of root.querySelectorAll?.(".progress[aria-valuenow]") ?? []) {
    const fill = bar.querySelector(":scope > span");
    if (fill) fill.style.width = `${Number(bar.getAttribute("aria-valuenow")) || 0}%`;
  }
}
paintProgress(document);
new MutationObserver((changes) => {
  for (const change of changes) {
    if (change.type === "attributes") paintProgress(change.target.parentElement ?? document);
    for (const node of change.addedNodes) if (node.nodeType === 1) paintProgress(node.parentElement ?? node);
  }
}).observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ["aria-valuenow"] });
