"""The redaction editor in a real browser against the real `bestpart serve` and its worker.

A clip with a moving face is uploaded and processed by the pipeline, selected for training; a
trainer puts a segment of it in a lesson; the detection runs in the live worker; the trainer opens
the editor, sees the face as a track, keeps it visible with a recorded consent and blurs it again,
is refused approving her own work, and an administrator approves it.
"""

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

from tests.browser.conftest import assert_accessible  # noqa: E402
from tests.redaction.test_lesson_redaction import make_face_clip  # noqa: E402
from tests.services import upload, wait_settled  # noqa: E402

PIPELINE_TIMEOUT = 240
DETECTION_TIMEOUT_MS = 180_000

SETUP = """async ([clipId]) => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const call = async (url, body) => {
    const r = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
                                body: JSON.stringify(body)});
    if (!r.ok) throw new Error(url + " " + r.status + " " + await r.text());
    return r.json();
  };
  const course = await call("/api/v1/courses", {title: "Faces in the field"});
  const lesson = await call(`/api/v1/courses/${course.id}/lessons`, {title: "Keeping consent"});
  const item = await call(`/api/v1/lessons/${lesson.id}/items`,
                          {clip_id: clipId, in_point: 0.2, out_point: 1.9, title: "The greeting"});
  return [lesson.id, item.id];
}"""


@pytest.fixture(scope="module")
def face_clip(live, tmp_path_factory):
    path = tmp_path_factory.mktemp("editor") / "face.mp4"
    make_face_clip(path)
    response = upload(live, path, evidence_id="EV-REDACT-UI-1")
    assert response.status_code == 201, response.text
    clip = wait_settled(live, response.json()["id"], timeout=PIPELINE_TIMEOUT)
    assert clip["status"] == "ready", clip
    assert live.post(f"/api/v1/review/{clip['id']}/claim").status_code == 200
    selected = live.post(f"/api/v1/review/{clip['id']}/decisions", json={"kind": "selected_for_training"})
    assert selected.status_code == 201, selected.text
    return clip


def test_the_editor_shows_the_track_toggles_it_and_a_second_person_approves(sign_in, face_clip, screenshot):
    trainer = sign_in("trainer")
    trainer.goto("/curriculum")
    lesson_id, item_id = trainer.evaluate(SETUP, [face_clip["id"]])
    editor = f"/curriculum/lessons/{lesson_id}/items/{item_id}/redaction"

    trainer.goto(f"/curriculum/lessons/{lesson_id}")
    expect(trainer.locator(".redaction-state a")).to_have_attribute("href", editor)
    trainer.goto(editor)
    status = trainer.locator("#redaction-status")
    expect(status).to_contain_text("Draft", timeout=DETECTION_TIMEOUT_MS)  # the live worker's detection
    lane = trainer.locator("#lanes li.lane").filter(has_text="Face 1")
    expect(lane).to_have_count(1)
    toggle = lane.locator("button[data-action=toggle]")
    expect(toggle).to_have_text("Blurred")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    screenshot(trainer, "redaction editor detected")

    # Keep the face visible: a reason is asked for, and for consent its record.
    toggle.click()
    form = lane.locator("form.keep")
    form.locator("select").select_option("consent")
    form.locator("input[name=keep_note]").fill("signed release, 2026-11-20, kept in file TR-7")
    form.locator("button[type=submit]").click()
    kept = trainer.locator("#lanes li.lane").filter(has_text="Face 1").locator("button[data-action=toggle]")
    expect(kept).to_have_text("Kept visible")
    expect(trainer.locator("#lanes li.lane").filter(has_text="Face 1")).to_contain_text("consent: signed release")
    kept.click()  # and back to blurred
    expect(kept).to_have_text("Blurred")
    expect(status).to_contain_text("version 3")
    assert_accessible(trainer, "redaction editor")

    # The trainer who prepared it may not approve it herself.
    trainer.click("#approve")
    expect(trainer.locator("#redaction-message")).to_contain_text("second person")
    expect(status).to_contain_text("Draft")

    admin = sign_in("tester")
    admin.goto(editor)
    expect(admin.locator("#redaction-status")).to_contain_text("Draft, version 3")
    admin.click("#approve")
    expect(admin.locator("#redaction-status")).to_contain_text("Approved by tester (version 3)")
    screenshot(admin, "redaction editor approved")

    trainer.goto(f"/curriculum/lessons/{lesson_id}")
    expect(trainer.locator(".redaction-state")).to_contain_text("approved")
