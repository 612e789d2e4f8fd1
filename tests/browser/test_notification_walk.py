"""Needs-info through the inbox, in a real browser: the reviewer asks, the officer's header badge
counts it, the notification leads to the question on My footage, the answer reaches the reviewer's
inbox and the clip is back in the queue."""

import re
from pathlib import Path

import pytest

from tests.services import upload, wait_settled

pytest.importorskip("playwright")
from playwright.sync_api import expect  # noqa: E402

from tests.browser.conftest import assert_accessible  # noqa: E402

SILENT = Path(__file__).resolve().parents[1] / "fixtures" / "silent.mkv"
QUESTION = "Who called it in, and was the man already calm when you arrived?"
ANSWER = "Dispatch did; he was shouting until I sat down with him."


@pytest.fixture(scope="module")
def clip_id(live, tmp_path_factory):
    path = tmp_path_factory.mktemp("notify") / "needs-info.mkv"
    path.write_bytes(SILENT.read_bytes() + b"notification-walk")  # new bytes: a new clip
    response = upload(live, path, evidence_id="EV-NOTIFY-1")
    assert response.status_code == 201, response.text
    assert wait_settled(live, response.json()["id"], timeout=240)["status"] == "ready"
    return response.json()["id"]


def test_a_question_and_its_answer_arrive_in_each_inbox(sign_in, clip_id, screenshot):
    reviewer = sign_in("reviewer")
    reviewer.goto(f"/clips/{clip_id}")
    reviewer.fill("#reason", QUESTION)
    reviewer.locator("#decision button:text-is('Needs info')").click()
    reviewer.wait_for_url(re.compile(r"/queue"))

    officer = sign_in("officer")
    badge = officer.locator("header a.inbox .badge")
    expect(badge).to_have_text("1")
    officer.locator("header a.inbox").click()
    officer.wait_for_url("**/inbox")
    note = officer.locator(".notification.unread a")
    expect(note).to_have_text(f"The review team asks about clip {clip_id}: {QUESTION}")
    assert_accessible(officer, "inbox")
    screenshot(officer, "inbox with a question")
    note.click()
    officer.wait_for_url(f"**/my#clip-{clip_id}")
    expect(badge).to_be_hidden()  # read on the way
    card = officer.locator(f"#clip-{clip_id}")
    expect(card.locator("[data-question]")).to_contain_text(QUESTION)
    card.locator("textarea[name=text]").fill(ANSWER)
    card.locator("button:text-is('Send answer')").click()
    expect(card.locator("p.good[role=status]")).to_contain_text("Answer sent")

    reviewer.goto("/inbox")
    answered = reviewer.locator(".notification.unread a")
    expect(answered).to_have_text(f"The officer answered your question about clip {clip_id}: {ANSWER}")
    expect(reviewer.locator("header a.inbox .badge")).to_have_text("1")
    reviewer.locator("button:text-is('Mark all read')").click()
    expect(reviewer.locator("header a.inbox .badge")).to_be_hidden()
    expect(reviewer.locator(".notification.unread")).to_have_count(0)
    reviewer.goto("/queue?state=queued")
    expect(reviewer.locator(f"#queue-rows tr[data-clip='{clip_id}']")).to_have_count(1)  # back in the queue
