"""The upload page sends a clip again when the server answers 503 (busy), after its Retry-After."""

import re
from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import Route, expect  # noqa: E402

SILENT = Path(__file__).resolve().parents[1] / "fixtures" / "silent.mkv"


def test_a_busy_answer_is_retried_and_the_clip_lands(sign_in, tmp_path):
    clip = tmp_path / "busy-retry.mkv"
    clip.write_bytes(SILENT.read_bytes() + b"busy-retry")  # new bytes: a new clip
    page = sign_in("officer")
    posts = []

    def busy_once(route: Route) -> None:
        posts.append(route.request.method)
        if len(posts) == 1:  # the first try is turned away, as an overloaded server does
            route.fulfill(
                status=503,
                headers={"Retry-After": "1", "Content-Type": "application/json"},
                body='{"detail": "the database is busy right now and nothing was saved"}',
            )
        else:
            route.continue_()

    page.route("**/api/v1/clips", busy_once)
    page.goto("/upload")
    page.set_input_files("#file-input", str(clip))
    expect(page.locator("#file-list li")).to_have_count(1)
    page.check("input[name=categories][value=de-escalation]")
    page.click("#upload-button")
    state = page.locator("#file-list .state")
    expect(state).to_contain_text("The server is busy; sending it again")
    expect(state).to_contain_text(re.compile(r"Clip \d+"), timeout=30_000)
    assert "Refused" not in state.inner_text()
    assert posts == ["POST", "POST"], "sent twice: the busy answer, then the retry"
