"""Review states that tell the truth, explicit claims and live pages (issue 11), in a real browser
against the real `bestpart serve` with its worker.

- Opening a clip claims nothing; Start review does, Release lets it go, another reviewer sees who
  holds it.
- Nominate, then leave: nothing was recorded, so the clip is not "Nominated"; a nomination sent from
  the clip page shows its own state (pending, then awarded) to the reviewer and to the officer.
- A trainer opens the awarded clip that was also selected for training.
- A clip processing on the queue page turns ready without a reload.

Screenshots of the new states go to test-output/screenshots (the shared `screenshot` fixture)."""

import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect  # noqa: E402

from tests.accounts import bearer, fresh_copy  # noqa: E402
from tests.browser.conftest import PEOPLE  # noqa: E402
from tests.services import backend_env, provision_token, serve_process, upload, wait_settled  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PIPELINE_TIMEOUT_S = 240
PIPELINE_TIMEOUT_MS = PIPELINE_TIMEOUT_S * 1000
NARRATIVE = "Officer Reyes knelt to talk a frightened boy down from the bridge rail."
DIVISION = "Harbor"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The real service with its worker; one account per role, a second reviewer and a second
    committee member (the quorum is two); two processed clips of officer 4711's."""
    data = tmp_path_factory.mktemp("review-live")
    env = backend_env("sqlite", data)
    with serve_process(env, data / "serve.log") as (_, admin):
        tokens = {}
        for role, badge in {**PEOPLE, "reviewer2": "r-2", "committee2": "c-2"}.items():
            roles = (role.rstrip("2"),)
            tokens[role] = provision_token(env, role, roles=roles, badge=badge)
        admin.post(
            "/api/v1/officers/import",
            content="badge_number,name,division\n4711,Dana Reyes,Metro\n",
            headers={"Content-Type": "text/csv"},
        )
        folder = data / "uploads"
        folder.mkdir()
        clips = []
        for tag in ("claim", "nominate"):
            made = upload(admin, fresh_copy(FIXTURES / "silent.mkv", folder, tag), division=DIVISION)
            assert made.status_code == 201, made.text
            clips.append(made.json()["id"])
        for clip_id in clips:
            assert wait_settled(admin, clip_id, PIPELINE_TIMEOUT_S)["status"] == "ready"
        people = {
            name: httpx.Client(base_url=admin.base_url, headers=bearer(token), timeout=30)
            for name, token in tokens.items()
        }
        admin.story = {"clips": dict(zip(("claim", "nominate"), clips)), "people": people, "folder": folder}
        yield admin
        for client in people.values():
            client.close()


def review(client, clip_id: int) -> dict:
    return client.get(f"/api/v1/clips/{clip_id}/review").json()


def test_opening_claims_nothing_start_review_does_release_frees_it(live, sign_in, screenshot):
    clip_id = live.story["clips"]["claim"]
    first = sign_in("reviewer")
    first.goto(f"/clips/{clip_id}")
    start = first.locator("#claim-start button[data-action='start-review']")
    expect(start).to_be_visible()
    assert review(live, clip_id)["held_by"] is None  # opening it claimed nothing
    screenshot(first, "clip opened, not claimed")

    start.click()
    expect(first.locator("#claim-mine")).to_contain_text("You are reviewing this clip")
    expect(first.locator("#decision")).to_be_visible()
    assert review(live, clip_id)["held_by"] == "reviewer"
    screenshot(first, "clip claimed by me")

    second = sign_in("reviewer2")
    second.goto(f"/clips/{clip_id}")
    expect(second.locator("#claim-held .claim-holder")).to_have_text("reviewer")
    expect(second.locator("#decision")).to_have_count(0)
    screenshot(second, "clip held by another reviewer")
    second.goto(f"/queue?division={DIVISION}")
    expect(second.locator(f"#queue-rows tr[data-clip='{clip_id}'] .claim-holder")).to_have_text("held by reviewer")

    first.locator("#claim-mine button[data-action='release']").click()
    expect(first.locator("#claim-start button[data-action='start-review']")).to_be_visible()
    assert review(live, clip_id)["held_by"] is None
    second.goto(f"/clips/{clip_id}")
    expect(second.locator("#claim-held")).to_have_count(0)
    expect(second.locator("#claim-start")).to_be_visible()


def nominate_button(page: Page):
    return page.locator("#decision button[value='nominated']")


def test_nominate_then_leave_shows_the_true_state(live, sign_in, screenshot):
    clip_id = live.story["clips"]["nominate"]
    reviewer = sign_in("reviewer")
    reviewer.goto(f"/clips/{clip_id}")
    nominate_button(reviewer).click()
    expect(reviewer.locator("#nomination-section")).to_be_visible()
    reviewer.goto(f"/queue?division={DIVISION}")  # ... and leave without sending it
    expect(reviewer.locator(f"#queue-rows tr[data-clip='{clip_id}']")).to_have_attribute("data-state", "queued")
    assert review(live, clip_id)["decisions"] == []

    officer = sign_in("officer")
    officer.goto("/my")
    expect(officer.locator(f"#clip-{clip_id} .review-state")).to_contain_text("Waiting for review")
    expect(officer.locator(f"#clip-{clip_id}")).not_to_contain_text("Nominated")

    # Now nominate for real: the decision and the nomination go in one call.
    reviewer.goto(f"/clips/{clip_id}")
    nominate_button(reviewer).click()
    reviewer.fill("#nominate-narrative", NARRATIVE)
    screenshot(reviewer, "nomination form on the clip page")
    reviewer.locator("#nomination button[type=submit]").click()
    reviewer.wait_for_url(lambda url: urlsplit(url).path != f"/clips/{clip_id}")  # the next clip, claimed by Next
    assert urlsplit(reviewer.url).path.startswith("/clips/")
    expect(reviewer.locator("#claim-mine")).to_be_visible()
    reviewer.locator("#claim-mine button[data-action='release']").click()  # not now: let it go
    expect(reviewer.locator("#claim-start")).to_be_visible()

    reviewer.goto(f"/clips/{clip_id}")
    expect(reviewer.locator(".clip-facts .pill.state")).to_have_text("Nomination pending")
    expect(reviewer.locator(".clip-nomination")).to_contain_text("Nomination pending")
    screenshot(reviewer, "clip with its nomination pending")
    officer.goto("/my")
    expect(officer.locator(f"#clip-{clip_id} .review-state")).to_contain_text("the committee has not decided yet")
    expect(officer.locator("#my-nominations + table")).to_contain_text("pending")

    nomination_id = review(live, clip_id)["nomination"]["id"]
    for member in ("committee", "committee2"):
        voted = live.story["people"][member].post(f"/api/v1/nominations/{nomination_id}/votes", json={"approve": True})
        assert voted.status_code == 200, voted.text
    reviewer.goto(f"/clips/{clip_id}")
    expect(reviewer.locator(".clip-facts .pill.state")).to_have_text("Awarded")
    screenshot(reviewer, "clip awarded")
    officer.goto("/my")
    expect(officer.locator(f"#clip-{clip_id} .review-state")).to_contain_text("Awarded an Act of Excellence")
    screenshot(officer, "my footage awarded clip")
    live.story["awarded"] = clip_id


def test_a_trainer_opens_an_awarded_clip_selected_for_training(live, sign_in, screenshot):
    clip_id = live.story.get("awarded")
    if clip_id is None:
        pytest.skip("the nomination act did not get as far as an award")
    reviewer = sign_in("reviewer")
    reviewer.goto(f"/clips/{clip_id}")
    reviewer.locator("#decision button[value='selected_for_training']").click()
    reviewer.wait_for_url(lambda url: urlsplit(url).path != f"/clips/{clip_id}")
    standing = review(live, clip_id)
    assert standing["selected_for_training"] and standing["nomination"]["outcome"] == "awarded"

    trainer = sign_in("trainer")
    response = trainer.goto(f"/clips/{clip_id}")
    assert response.status == 200
    expect(trainer.locator("#add-to-lesson")).to_be_visible()
    expect(trainer.locator(".clip-facts")).to_contain_text("Selected for training")
    expect(trainer.locator(".clip-facts")).to_contain_text("Awarded")
    screenshot(trainer, "trainer on an awarded clip selected for training")


def _long_clip(folder: Path) -> Path:
    """The speech fixture played eight times over: long enough (transcription takes some seconds)
    that the queue page sees it processing before it is ready, on a fast machine too."""
    from media.ffmpeg import ffmpeg_exe

    looped = folder / "live-long.mp4"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-stream_loop",
            "7",
            "-i",
            str(FIXTURES / "speech.mp4"),
            "-c",
            "copy",
            str(looped),
        ],
        check=True,
        timeout=60,
    )
    return looped


def test_a_processing_clip_turns_ready_on_the_queue_page_without_a_reload(live, sign_in, screenshot):
    division = "Lakeside"
    page = sign_in("reviewer2")
    page.goto(f"/queue?division={division}")
    expect(page.locator(".queue-summary")).to_contain_text("No clips match")
    page.evaluate("window.sameDocument = true")  # gone if the page were loaded again

    made = upload(live, _long_clip(live.story["folder"]), division=division)
    assert made.status_code == 201, made.text
    row = page.locator(f"#queue-rows tr[data-clip='{made.json()['id']}']")
    expect(row).to_be_visible(timeout=30_000)  # a new clip appears by itself
    expect(page.locator("#queue-total")).to_have_text("1–1 of 1")
    expect(row).to_have_attribute("data-status", "processing")
    expect(row.locator(".queue-progress")).to_contain_text("ready in")
    screenshot(page, "queue with a clip processing live")
    expect(row).to_have_attribute("data-status", "ready", timeout=PIPELINE_TIMEOUT_MS)
    expect(row.locator(".queue-progress")).to_have_count(0)
    assert page.evaluate("window.sameDocument === true"), "the page was reloaded"
    screenshot(page, "queue after the clip turned ready")
