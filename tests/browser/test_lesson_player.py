"""The governed release and the lesson player in a real browser against the real `bestpart serve`
and its worker.

A clip with a moving face, recorded by the officer (badge 4711), is processed by the pipeline and
selected for training; a trainer puts a segment of it in a lesson; the live worker detects; an
administrator approves the redaction; the trainer notifies the featured officer (the live worker
renders the segment redacted); the officer watches the redacted segment on the notice page and
agrees; the trainer publishes; a reviewer (any employee) watches the lesson on the player page,
and the view with the ranges played is recorded and audited.
"""

import time

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

from tests.browser.conftest import assert_accessible  # noqa: E402
from tests.redaction.test_lesson_redaction import make_face_clip  # noqa: E402
from tests.services import upload, wait_settled  # noqa: E402

PIPELINE_TIMEOUT = 240
JOB_TIMEOUT = 180
IN, OUT = 0.2, 1.9

SETUP = """async ([clipId, inPoint, outPoint]) => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const call = async (url, body) => {
    const r = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
                                body: JSON.stringify(body)});
    if (!r.ok) throw new Error(url + " " + r.status + " " + await r.text());
    return r.json();
  };
  const course = await call("/api/v1/courses", {title: "Community contact"});
  const lesson = await call(`/api/v1/courses/${course.id}/lessons`, {title: "A calm greeting"});
  const item = await call(`/api/v1/lessons/${lesson.id}/items`,
                          {clip_id: clipId, in_point: inPoint, out_point: outPoint, title: "The greeting",
                           annotations: [{at: 0.5, text: "Introduces himself first"}]});
  return [lesson.id, item.id];
}"""


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"{what} after {timeout} s")


@pytest.fixture(scope="module")
def face_clip(live, tmp_path_factory):
    path = tmp_path_factory.mktemp("player") / "face.mp4"
    make_face_clip(path)
    response = upload(live, path, evidence_id="EV-PLAYER-1")
    assert response.status_code == 201, response.text
    clip = wait_settled(live, response.json()["id"], timeout=PIPELINE_TIMEOUT)
    assert clip["status"] == "ready", clip
    assert live.post(f"/api/v1/review/{clip['id']}/claim").status_code == 200
    selected = live.post(f"/api/v1/review/{clip['id']}/decisions", json={"kind": "selected_for_training"})
    assert selected.status_code == 201, selected.text
    return clip


def test_a_trainee_watches_a_published_lesson_and_the_view_is_recorded(sign_in, live, face_clip, screenshot):
    trainer = sign_in("trainer")
    trainer.goto("/curriculum")
    lesson_id, item_id = trainer.evaluate(SETUP, [face_clip["id"], IN, OUT])
    redaction = f"/api/v1/lessons/{lesson_id}/items/{item_id}/redaction"
    done = wait_for(
        lambda: (r := live.get(redaction).json()).get("detection") == "done" and r,
        JOB_TIMEOUT,
        "the live worker's detection is not done",
    )
    approved = live.post(redaction + "/approve", json={"version": done["version"]})
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text

    # The trainer notifies the featured officer; the worker renders the segment redacted.
    trainer.goto(f"/curriculum/lessons/{lesson_id}")
    expect(trainer.locator("#release-state")).to_contain_text("Not published")
    expect(trainer.locator("#release-publish")).to_be_disabled()
    trainer.click("#release-request")
    expect(trainer.locator("#release-notices")).to_contain_text("pending")
    release = f"/api/v1/lessons/{lesson_id}/release"
    status = wait_for(
        lambda: (r := live.get(release).json())["items"][0]["render_state"] == "done" and r,
        JOB_TIMEOUT,
        "the release render is not done",
    )
    (notice,) = status["notices"]
    assert notice["badge_number"] == "4711"

    # The officer sees the redacted segment and agrees.
    officer = sign_in("officer")
    officer.goto(notice["page_url"])
    clip_video = officer.locator("video.notice-video")
    expect(clip_video).to_have_count(1)
    officer.wait_for_function("document.querySelector('video.notice-video').readyState >= 1")
    assert_accessible(officer, "release notice")
    screenshot(officer, "release notice for the officer")
    officer.click("button[data-consent=true]")
    expect(officer.locator("#notice-state")).to_contain_text("You agreed")

    trainer.reload()
    expect(trainer.locator("#release-publish")).to_be_enabled()
    trainer.click("#release-publish")
    expect(trainer.locator("#release-state")).to_contain_text("Published")

    # Any employee watches it: a reviewer, from the lessons list.
    trainee = sign_in("reviewer")
    trainee.goto("/lessons")
    trainee.click(f"a[href='/lessons/{lesson_id}/watch']")
    expect(trainee.locator("h1")).to_have_text("A calm greeting")
    expect(trainee.locator("li.segment")).to_have_count(1)
    assert_accessible(trainee, "lesson player")
    trainee.click("#watch-play")
    expect(trainee.locator("#watch-note")).to_have_text("Introduces himself first", timeout=15_000)
    expect(trainee.locator("#watch-now")).to_have_attribute("data-ended", "true", timeout=30_000)
    expect(trainee.locator("#watch-saved")).to_contain_text("Watched", timeout=15_000)
    screenshot(trainee, "lesson player")

    views = live.get(f"/api/v1/lessons/{lesson_id}/views").json()
    watched = [v for v in views if v["user_name"] == "reviewer"]
    assert len(watched) == 1, views
    (view,) = watched
    assert view["ranges"] and all(r[0] == item_id for r in view["ranges"])
    assert view["watched_seconds"] >= 0.9 * (OUT - IN) - 0.1, view
    assert view["lesson_seconds"] == pytest.approx(OUT - IN, abs=0.1)
    audited = live.get("/api/v1/audit", params={"action": "lesson.view", "object_id": str(lesson_id)}).json()
    assert [e["details"]["view"] for e in audited] == [view["id"]]
