"""The review pages: the queue and the clip page.

In-process (the session app, no worker: clips stay processing) for the queue's filters, counts and
progress, the claim on opening and who sees which control; against the real `bestpart serve` with
a worker for a processed clip: player, captions, sprite timeline, transcript words, lessons.
"""

import re
import uuid
from html import unescape

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from api.clips.models import Clip, ClipStatus, Stage
from api.db import session_scope
from tests.accounts import bearer, fresh_copy, make_user
from tests.services import backend_env, provision_token, running_service, upload, wait_settled

DECISION_BUTTONS = ("Select for training", "Nominate", "Dismiss", "Needs info")
WORD = re.compile(r'<span class="word[^"]*" data-start="([\d.]+)" data-end="([\d.]+)"[^>]*>([^<]+)</span>')


def queue_rows(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-clip="(\d+)"', html)]


def count(html: str, state: str) -> int:
    return int(re.search(rf'data-state="{state}">(\d+)<', html).group(1))


def buttons(html: str) -> list[str]:
    return [unescape(b).strip() for b in re.findall(r"<button[^>]*>([^<]*)", html)]


def decision_buttons(html: str) -> list[str]:
    return [b for b in buttons(html) if b in DECISION_BUTTONS]


def set_progress(clip_id: int, progress: float) -> None:
    with session_scope() as session:
        session.execute(update(Stage).where(Stage.clip_id == clip_id).values(progress=progress))


def mark_ready(clip_id: int) -> None:
    """A clip the pipeline finished without media (what the in-process app, with no worker, cannot do)."""
    with session_scope() as session:
        session.execute(update(Clip).where(Clip.id == clip_id).values(status=ClipStatus.READY))


# --- in-process -------------------------------------------------------------------------------


def test_anonymous_queue_goes_to_sign_in(anonymous):
    response = anonymous.get("/queue", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/queue"


def test_queue_filters_counts_and_progress(app_client, fixtures, tmp_path):
    division = f"Queue-{uuid.uuid4().hex[:8]}"
    life = upload(
        app_client,
        fresh_copy(fixtures / "silent.mkv", tmp_path, "queue-life"),
        division=division,
        categories="life-saving",
        evidence_id=f"EV-{division}-1",
        recorded_at="2026-11-20T21:14:00Z",
    ).json()
    talk = upload(
        app_client,
        fresh_copy(fixtures / "silent.mkv", tmp_path, "queue-talk"),
        division=division,
        categories="community-engagement",
        evidence_id=f"EV-{division}-2",
        badge_number="5150",
        recorded_at="2026-10-02T08:00:00Z",
    ).json()
    set_progress(life["id"], 0.4)

    # A plain GET form sends every field, the empty ones too.
    everything = app_client.get(
        "/queue",
        params={
            "division": division,
            "state": "",
            "category": "",
            "text": "",
            "badge_number": "",
            "date_from": "",
            "date_to": "",
        },
    )
    assert everything.status_code == 200
    assert sorted(queue_rows(everything.text)) == sorted([life["id"], talk["id"]])
    assert count(everything.text, "queued") == 2 and count(everything.text, "in_review") == 0

    page = app_client.get("/queue", params={"division": division, "category": "life-saving"}).text
    assert queue_rows(page) == [life["id"]]
    assert count(page, "queued") == 1
    row = page[page.index(f'<tr data-clip="{life["id"]}"') :]
    row = unescape(row[: row.index("</tr>")])
    assert 'role="progressbar"' in row and 'aria-valuenow="40"' in row and "processing 40 %" in row
    assert "life-saving" in row and "2026-11-20" in row and "<1 min" in row

    assert queue_rows(app_client.get("/queue", params={"division": division, "badge_number": "5150"}).text) == [
        talk["id"]
    ]
    assert queue_rows(app_client.get("/queue", params={"division": division, "text": f"ev-{division}-2"}).text) == [
        talk["id"]
    ]
    dated = app_client.get("/queue", params={"division": division, "date_from": "2026-11-01", "date_to": "2026-11-30"})
    assert queue_rows(dated.text) == [life["id"]]
    none_in_review = app_client.get("/queue", params={"division": division, "state": "in_review"}).text
    assert queue_rows(none_in_review) == [] and "No clips match" in none_in_review
    assert count(none_in_review, "queued") == 2  # counts per state ignore the state filter

    wrong = app_client.get("/queue", params={"division": division, "state": "lost", "date_from": "yesterday"})
    assert wrong.status_code == 200 and "ignored" in wrong.text
    assert sorted(queue_rows(wrong.text)) == sorted([life["id"], talk["id"]])
    assert 'id="next-clip"' in page and "/static/queue.js" in page


def test_queue_pages_fifty_at_a_time(app_client, fixtures, tmp_path):
    division = f"Pages-{uuid.uuid4().hex[:8]}"
    ids = [
        upload(app_client, fresh_copy(fixtures / "silent.mkv", tmp_path, f"page-{n}"), division=division).json()["id"]
        for n in range(52)
    ]
    first = app_client.get("/queue", params={"division": division, "order": "oldest"}).text
    second = app_client.get("/queue", params={"division": division, "order": "oldest", "page": "2"}).text
    assert queue_rows(first) == ids[:50] and queue_rows(second) == ids[50:]
    assert "1–50 of 52" in first and "Page 1 of 2" in first and 'rel="next"' in first
    assert 'rel="prev"' in second and 'rel="next"' not in second


def test_queue_is_for_the_review_team(app):
    _, token = make_user(roles=["officer"], badge=f"q-{uuid.uuid4().hex[:6]}")
    refused = TestClient(app, headers=bearer(token)).get("/queue")
    assert refused.status_code == 403 and "this needs the role" in refused.text


def test_opening_a_clip_claims_it_and_others_read_only(app, fixtures, tmp_path):
    badge = f"c-{uuid.uuid4().hex[:6]}"
    _, officer_token = make_user(roles=["officer"], badge=badge)
    first_name = f"first-{badge}"
    _, first_token = make_user(first_name, roles=["reviewer"])
    _, second_token = make_user(roles=["reviewer"])
    officer, first, second = (TestClient(app, headers=bearer(t)) for t in (officer_token, first_token, second_token))
    clip_id = upload(officer, fresh_copy(fixtures / "silent.mkv", tmp_path, "claim"), badge_number=badge).json()["id"]

    processing = first.get(f"/clips/{clip_id}")
    assert processing.status_code == 200 and "Still processing" in processing.text
    assert decision_buttons(processing.text) == []  # nothing to decide on before it can be watched
    assert first.get(f"/api/v1/clips/{clip_id}/review").json()["item"]["state"] == "queued"

    mark_ready(clip_id)
    mine = first.get(f"/clips/{clip_id}")
    assert mine.status_code == 200 and decision_buttons(mine.text) == list(DECISION_BUTTONS)
    item = first.get(f"/api/v1/clips/{clip_id}/review").json()["item"]
    assert item["state"] == "in_review" and item["claimed_by_name"] == first_name
    assert 'name="rubric" value="introduced_self"' in mine.text and 'id="nomination"' in mine.text

    theirs = second.get(f"/clips/{clip_id}")
    assert theirs.status_code == 200
    assert f"{first_name} is reviewing this clip" in theirs.text
    assert decision_buttons(theirs.text) == [] and 'id="nomination"' not in theirs.text

    own = officer.get(f"/clips/{clip_id}")
    assert own.status_code == 200 and decision_buttons(own.text) == []
    assert 'id="decision"' not in own.text and 'id="nomination"' not in own.text and "Add to lesson" not in own.text
    stranger = TestClient(app, headers=bearer(make_user(roles=["officer"], badge="c-other")[1]))
    assert stranger.get(f"/clips/{clip_id}").status_code == 404


# --- against the real service, with a processed clip ------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory, fixtures):
    """`bestpart serve` with its worker; the speech fixture uploaded by its officer and processed."""
    data = tmp_path_factory.mktemp("review-pages")
    env = backend_env("sqlite", data)
    with running_service(env, data / "serve.log") as admin:
        tokens = {
            role: provision_token(env, f"{role}-pages", roles=(role,), badge=badge)
            for role, badge in (("officer", "5150"), ("reviewer", "r-pages"), ("trainer", "t-pages"))
        }
        people = {
            role: httpx.Client(base_url=admin.base_url, headers=bearer(token), timeout=30)
            for role, token in tokens.items()
        }
        clip = upload(
            people["officer"],
            fixtures / "speech.mp4",
            badge_number="5150",
            division="Metro",
            markers='[{"at": 3.5, "note": "introduces himself"}]',
        ).json()
        assert wait_settled(admin, clip["id"], timeout=240)["status"] == "ready"
        yield admin, people, clip["id"]
        for client in people.values():
            client.close()


def test_clip_page_player_transcript_and_panel(served, speech_text):
    admin, people, clip_id = served
    page = admin.get(f"/clips/{clip_id}")  # the admin is also a reviewer: opening claims the clip
    assert page.status_code == 200
    html = page.text
    media = f"/api/v1/clips/{clip_id}/media"
    assert re.search(rf'<video id="video"[^>]* src="{media}/proxy.mp4"', html)
    assert re.search(rf'<video id="video"[^>]* poster="{media}/poster.jpg"', html)
    assert re.search(rf'<track kind="captions" src="{media}/captions.vtt"[^>]* default>', html)
    assert f'data-thumbnails="{media}/thumbnails.vtt"' in html
    assert 'class="tl-tick tl-marker" data-at="3.5"' in html
    for name in ("proxy.mp4", "poster.jpg", "captions.vtt"):
        assert admin.get(f"{media}/{name}").status_code == 200, name
    assert "#xywh=" in admin.get(f"{media}/thumbnails.vtt").text

    words = WORD.findall(html)
    assert len(words) >= 20
    times = [(float(start), float(end)) for start, end, _ in words]
    assert all(end >= start for start, end in times)
    assert [start for start, _ in times] == sorted(start for start, _ in times)
    heard = {re.sub(r"\W", "", unescape(text)).lower() for _, _, text in words}
    spoken = {re.sub(r"\W", "", w).lower() for w in speech_text.split()}
    assert len(heard & spoken) >= len(spoken) // 2, heard

    assert decision_buttons(html) == list(DECISION_BUTTONS)
    review = admin.get(f"/api/v1/clips/{clip_id}/review").json()
    assert review["item"]["state"] == "in_review" and review["item"]["claimed_by_name"] == "tester"

    other = people["reviewer"].get(f"/clips/{clip_id}").text
    assert "tester is reviewing this clip" in other and decision_buttons(other) == []

    own = people["officer"].get(f"/clips/{clip_id}")
    assert own.status_code == 200 and WORD.search(own.text) and '<video id="video"' in own.text
    assert decision_buttons(own.text) == [] and 'id="decision"' not in own.text


def test_add_to_lesson_for_trainers_once_selected(served):
    admin, people, clip_id = served
    assert people["trainer"].get(f"/clips/{clip_id}").status_code == 404  # not selected for training yet
    decided = admin.post(
        f"/api/v1/review/{clip_id}/decisions",
        json={"kind": "selected_for_training", "rubric": {"showed_empathy": True}, "notes": "calm"},
    )
    assert decided.status_code == 201, decided.text
    course = admin.post("/api/v1/courses", json={"title": "Traffic stops"}).json()
    lesson = admin.post(f"/api/v1/courses/{course['id']}/lessons", json={"title": "Opening the contact"}).json()

    trainer = people["trainer"].get(f"/clips/{clip_id}").text
    assert 'id="add-to-lesson"' in trainer and f'<option value="{lesson["id"]}">Opening the contact</option>' in trainer
    assert decision_buttons(trainer) == [] and 'id="nomination"' not in trainer

    reviewer = people["reviewer"].get(f"/clips/{clip_id}").text
    assert 'id="add-to-lesson"' not in reviewer
    assert decision_buttons(reviewer) == list(DECISION_BUTTONS)  # decided, so free to revise
    assert "Selected for training</strong> by tester" in reviewer and "Showed empathy" in reviewer
