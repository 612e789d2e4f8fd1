"""The review pages: the queue and the clip page.

In-process (the session app, no worker: clips stay processing) for the queue's filters, counts and
progress, claims (taken by Start review, never by opening a page) and who sees which control; against the real `bestpart serve` with
a worker for a processed clip: player, captions, sprite timeline, transcript words, lessons.
"""

import re
import uuid

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from api.clips.models import Clip, ClipStatus, Stage
from api.db import session_scope
from tests.accounts import bearer, fresh_copy, make_user
from tests.html import one, page, text, texts
from tests.services import backend_env, provision_token, running_service, upload, wait_settled

DECISION_BUTTONS = ("Select for training", "Nominate", "Dismiss", "Needs info")


def queue_rows(soup) -> list[int]:
    return [int(row["data-clip"]) for row in soup.select("#queue-rows tr[data-clip]")]


def count(soup, state: str) -> int:
    return int(text(one(soup, f'.queue-counts .count[data-state="{state}"]')))


def decision_buttons(soup) -> list[str]:
    """The buttons anywhere on the page that make a review decision."""
    return [label for label in texts(soup, "button") if label in DECISION_BUTTONS]


def words(soup) -> list[tuple[float, float, str]]:
    """The transcript's words: (start, end, the word)."""
    return [(float(w["data-start"]), float(w["data-end"]), text(w)) for w in soup.select("#transcript span.word")]


def banners(soup) -> list[str]:
    return texts(soup, ".clip-banner")


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
    everything = page(everything)
    assert sorted(queue_rows(everything)) == sorted([life["id"], talk["id"]])
    assert count(everything, "queued") == 2 and count(everything, "in_review") == 0

    queue = page(app_client.get("/queue", params={"division": division, "category": "life-saving"}))
    assert queue_rows(queue) == [life["id"]]
    assert count(queue, "queued") == 1
    row = one(queue, f'#queue-rows tr[data-clip="{life["id"]}"]')
    assert one(row, '[role="progressbar"]')["aria-valuenow"] == "40" and "processing 40 %" in text(row)
    assert "life-saving" in texts(row, ".pill")
    assert "2026-11-20" in texts(row, "time") and "<1 min" in texts(row, "time")

    def rows_for(**params) -> list[int]:
        return queue_rows(page(app_client.get("/queue", params={"division": division, **params})))

    assert rows_for(badge_number="5150") == [talk["id"]]
    assert rows_for(text=f"ev-{division}-2") == [talk["id"]]
    assert rows_for(date_from="2026-11-01", date_to="2026-11-30") == [life["id"]]
    none_in_review = page(app_client.get("/queue", params={"division": division, "state": "in_review"}))
    assert queue_rows(none_in_review) == [] and "No clips match" in text(one(none_in_review, ".queue-summary"))
    assert count(none_in_review, "queued") == 2  # counts per state ignore the state filter

    wrong = app_client.get("/queue", params={"division": division, "state": "lost", "date_from": "yesterday"})
    assert wrong.status_code == 200
    wrong = page(wrong)
    problems = texts(wrong, '[role="alert"]')
    assert len(problems) == 2 and all(problem.endswith("ignored") for problem in problems), problems
    assert sorted(queue_rows(wrong)) == sorted([life["id"], talk["id"]])
    assert one(queue, "button#next-clip") and one(queue, 'script[src="/static/queue.js"]')


def test_queue_pages_fifty_at_a_time(app_client, fixtures, tmp_path):
    division = f"Pages-{uuid.uuid4().hex[:8]}"
    ids = [
        upload(app_client, fresh_copy(fixtures / "silent.mkv", tmp_path, f"page-{n}"), division=division).json()["id"]
        for n in range(52)
    ]
    first = page(app_client.get("/queue", params={"division": division, "order": "oldest"}))
    second = page(app_client.get("/queue", params={"division": division, "order": "oldest", "page": "2"}))
    assert queue_rows(first) == ids[:50] and queue_rows(second) == ids[50:]
    assert text(one(first, ".queue-summary")).startswith("1–50 of 52 ")
    assert "Page 1 of 2" in texts(first, ".queue-pages span")
    assert first.select('.queue-pages a[rel="next"]') and not first.select('.queue-pages a[rel="prev"]')
    assert second.select('.queue-pages a[rel="prev"]') and not second.select('.queue-pages a[rel="next"]')


def test_queue_is_for_the_review_team(app):
    _, token = make_user(roles=["officer"], badge=f"q-{uuid.uuid4().hex[:6]}")
    refused = TestClient(app, headers=bearer(token)).get("/queue")
    assert refused.status_code == 403 and "this needs the role" in text(page(refused))


def test_opening_a_clip_claims_nothing_start_review_does_and_others_read_only(app, fixtures, tmp_path):
    badge = f"c-{uuid.uuid4().hex[:6]}"
    _, officer_token = make_user(roles=["officer"], badge=badge)
    first_name = f"first-{badge}"
    _, first_token = make_user(first_name, roles=["reviewer"])
    _, second_token = make_user(roles=["reviewer"])
    officer, first, second = (TestClient(app, headers=bearer(t)) for t in (officer_token, first_token, second_token))
    clip_id = upload(officer, fresh_copy(fixtures / "silent.mkv", tmp_path, "claim"), badge_number=badge).json()["id"]

    processing = first.get(f"/clips/{clip_id}")
    assert processing.status_code == 200
    processing = page(processing)
    assert any(banner.startswith("Still processing") for banner in banners(processing))
    assert decision_buttons(processing) == []  # nothing to decide on before it can be watched
    assert first.get(f"/api/v1/clips/{clip_id}/review").json()["item"]["state"] == "queued"

    mark_ready(clip_id)
    opened = page(first.get(f"/clips/{clip_id}"))
    assert "Start review" in texts(opened, "button") and decision_buttons(opened) == list(DECISION_BUTTONS)
    item = first.get(f"/api/v1/clips/{clip_id}/review").json()["item"]
    assert item["state"] == "queued" and item["claimed_by_name"] is None  # opening claimed nothing

    assert first.post(f"/api/v1/review/{clip_id}/claim").status_code == 200  # Start review
    mine = first.get(f"/clips/{clip_id}")
    assert mine.status_code == 200
    mine = page(mine)
    assert decision_buttons(mine) == list(DECISION_BUTTONS) and "Release" in texts(mine, "button")
    item = first.get(f"/api/v1/clips/{clip_id}/review").json()["item"]
    assert item["state"] == "in_review" and item["claimed_by_name"] == first_name
    assert one(mine, '#decision input[type=checkbox][name="rubric"][value="introduced_self"]')
    assert one(mine, "form#nomination")

    theirs = second.get(f"/clips/{clip_id}")
    assert theirs.status_code == 200
    theirs = page(theirs)
    assert any(banner.startswith(f"{first_name} is reviewing this clip") for banner in banners(theirs))
    assert decision_buttons(theirs) == [] and not theirs.select("#nomination")

    own = officer.get(f"/clips/{clip_id}")
    assert own.status_code == 200
    own = page(own)
    assert decision_buttons(own) == [] and not own.select("#decision") and not own.select("#nomination")
    assert not own.select("#add-to-lesson") and "Add to lesson" not in text(own)
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
    response = admin.get(f"/clips/{clip_id}")  # opening claims nothing, for an admin either
    assert response.status_code == 200
    clip = page(response)
    media = f"/api/v1/clips/{clip_id}/media"
    video = one(clip, "video#video")
    assert video["src"] == f"{media}/proxy.mp4" and video["poster"] == f"{media}/poster.jpg"
    captions = one(video, 'track[kind="captions"]')
    assert captions["src"] == f"{media}/captions.vtt" and captions.has_attr("default")
    assert one(clip, "#timeline")["data-thumbnails"] == f"{media}/thumbnails.vtt"
    assert [tick["data-at"] for tick in clip.select("#timeline .tl-tick.tl-marker")] == ["3.5"]
    for name in ("proxy.mp4", "poster.jpg", "captions.vtt"):
        assert admin.get(f"{media}/{name}").status_code == 200, name
    assert "#xywh=" in admin.get(f"{media}/thumbnails.vtt").text

    said = words(clip)
    assert len(said) >= 20
    times = [(start, end) for start, end, _ in said]
    assert all(end >= start for start, end in times)
    assert [start for start, _ in times] == sorted(start for start, _ in times)
    heard = {re.sub(r"\W", "", word).lower() for _, _, word in said}
    spoken = {re.sub(r"\W", "", w).lower() for w in speech_text.split()}
    assert len(heard & spoken) >= len(spoken) // 2, heard

    assert "Start review" in texts(clip, "button")
    review = admin.get(f"/api/v1/clips/{clip_id}/review").json()
    assert review["item"]["state"] == "queued" and review["held_by"] is None
    assert admin.post(f"/api/v1/review/{clip_id}/claim").status_code == 200  # Start review
    assert decision_buttons(page(admin.get(f"/clips/{clip_id}"))) == list(DECISION_BUTTONS)
    review = admin.get(f"/api/v1/clips/{clip_id}/review").json()
    assert review["item"]["state"] == "in_review" and review["held_by"] == "tester"

    other = page(people["reviewer"].get(f"/clips/{clip_id}"))
    assert any(banner.startswith("tester is reviewing this clip") for banner in banners(other))
    assert decision_buttons(other) == []

    own = people["officer"].get(f"/clips/{clip_id}")
    assert own.status_code == 200
    own = page(own)
    assert words(own) and one(own, "video#video")
    assert decision_buttons(own) == [] and not own.select("#decision")


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

    trainer = page(people["trainer"].get(f"/clips/{clip_id}"))
    offered = one(trainer, f'form#add-to-lesson select[name="lesson"] option[value="{lesson["id"]}"]')
    assert text(offered) == "Opening the contact"
    assert decision_buttons(trainer) == [] and not trainer.select("#nomination")

    reviewer = page(people["reviewer"].get(f"/clips/{clip_id}"))
    assert not reviewer.select("#add-to-lesson")
    assert decision_buttons(reviewer) == list(DECISION_BUTTONS)  # decided, so free to revise
    history = [
        text(entry)
        for entry in reviewer.select(".history .history-item")
        if text(one(entry, "p > strong")) == "Selected for training"
    ]
    assert len(history) == 1 and "Selected for training by tester" in history[0] and "Showed empathy" in history[0]
