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
