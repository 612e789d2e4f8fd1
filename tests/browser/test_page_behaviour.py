"""What the upload page's script does, seen from a real browser against the real `bestpart serve`
(not read from its source): it sends the page's CSRF token with the upload, shows the upload's
progress as the bytes go, then follows the clip with the server until the pipeline is done with it."""

import re
from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import Route, expect  # noqa: E402

SILENT = Path(__file__).resolve().parents[1] / "fixtures" / "silent.mkv"
PADDING = 1024 * 1024  # bytes added to the clip, so that it takes a few seconds at UPLOAD_RATE
UPLOAD_RATE = 256 * 1024  # bytes a second: the browser's uplink, throttled through the DevTools protocol
WAIT_MS = 30_000  # for what follows the upload on a busy machine (expect's own default is 5 s)

# Every value the page gives the upload's progress bar, as it gives it.
RECORD_PROGRESS = """() => {
  window.uploadProgress = [];
  new MutationObserver((changes) => {
    for (const change of changes) {
      const bar = change.target;
      if (bar.getAttribute("aria-label") === "Upload" && change.attributeName === "aria-valuenow") {
        window.uploadProgress.push(Number(bar.getAttribute("aria-valuenow")));
      }
    }
  }).observe(document.getElementById("file-list"), { subtree: true, attributes: true });
}"""


def test_an_upload_carries_the_csrf_token_shows_its_progress_and_follows_the_clip(sign_in, tmp_path):
    clip = tmp_path / "page-behaviour.mkv"
    clip.write_bytes(SILENT.read_bytes() + b"\0" * PADDING)  # new bytes: a new clip
    page = sign_in("officer")
    page.goto("/upload")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token

    followed = []

    def ready_when_followed(route: Route) -> None:
        """The server's real answer about the clip, said to be ready (the pipeline would take minutes)."""
        answer = route.fetch()
        clip = answer.json()
        followed.append(clip["id"])
        route.fulfill(response=answer, json={**clip, "status": "ready", "progress": 1.0})

    page.route(re.compile(r"/api/v1/clips/\d+$"), ready_when_followed)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": UPLOAD_RATE},
    )

    page.set_input_files("#file-input", str(clip))
    expect(page.locator("#file-list li")).to_have_count(1)
    page.evaluate(RECORD_PROGRESS)
    page.check("input[name=categories][value=life-saving]")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/api/v1/clips")) as sent:
        page.click("#upload-button")
    upload = sent.value
    assert upload.header_value("x-csrf-token") == token, "the upload carries the page's CSRF token"
    assert upload.response().status == 201, upload.response().text()  # and the server took it

    state = page.locator("#file-list .state")
    expect(state).to_contain_text(re.compile(r"Clip \d+ is ready"), timeout=WAIT_MS)
    clip_id = int(re.search(r"Clip (\d+)", state.inner_text()).group(1))
    assert upload.response().json()["id"] == clip_id
    assert followed and set(followed) == {clip_id}, "the page asked the server about its clip, and no other"
    expect(state.get_by_role("link", name="Open it")).to_have_attribute("href", f"/clips/{clip_id}")

    bar = page.get_by_role("progressbar", name="Upload")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    seen = page.evaluate("window.uploadProgress")
    assert [value for value in seen if 0 < value < 100], f"no progress shown while the bytes went: {seen}"
    assert seen == sorted(seen), f"the progress went backwards: {seen}"
    expect(page.get_by_role("progressbar", name="Processing")).to_have_attribute("aria-valuenow", "100")
