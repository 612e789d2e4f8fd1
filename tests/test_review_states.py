"""A clip's review state derived from the records (issue 11, "States that never drift from the
truth"), in-process on SQLite: a nominate decision exists only with its nomination, made in the
same action; a nomination's own outcome shows on the clip; selecting for training and nominating
both hold, and trainers see every selected clip, nominated or awarded; rejected and failed clips
are intake problems, not reviews; survey compliments filter and rank the queue; the live pages'
progress endpoint gives an ETA from the measured real-time factor."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import update

from api.clips.models import Clip, ClipStatus, Stage, StageState
from api.core.types import utcnow
from api.db import session_scope
from api.review.models import DecisionKind, ReviewItem, ReviewState
from tests.html import one, page, text, texts
from tests.ui.test_other_pages import client_for, mark_ready, unique, upload_clip


@pytest.fixture
def ready_clip(app_client, fixtures, tmp_path):
    def make(badge: str | None = None, **fields) -> dict:
        clip = upload_clip(app_client, fixtures, tmp_path, badge or unique("b"), **fields)
        mark_ready(clip["id"])
        return clip

    return make


def nominate(client, clip: dict, officers=None, narrative="Calm and kind with a frightened driver."):
    return client.post(
        f"/api/v1/review/{clip['id']}/decisions",
        json={
            "kind": "nominated",
            "rubric": {"showed_empathy": True},
            "nomination": {
                "officers": officers or [clip["badge_number"]],
                "moments": [{"at": 1.0, "note": "kneels to talk"}],
                "narrative": narrative,
            },
        },
    )


def review_of(client, clip_id: int) -> dict:
    return client.get(f"/api/v1/clips/{clip_id}/review").json()


def vote_twice(app, nomination_id: int, approve: bool) -> None:
    for _ in range(2):  # the default quorum is two members
        member = client_for(app, ["committee"])
        body = {"approve": True} if approve else {"approve": False, "reason": "not above the usual standard"}
        assert member.post(f"/api/v1/nominations/{nomination_id}/votes", json=body).status_code == 200


# --- the rule itself ----------------------------------------------------------------------------


def decision(id_: int, kind: DecisionKind):
    return SimpleNamespace(id=id_, kind=kind)


@pytest.mark.parametrize(
    "kinds, answered, claimed, nominated, state",
    [
        ([], set(), False, False, ReviewState.QUEUED),
        ([], set(), True, False, ReviewState.IN_REVIEW),
        ([DecisionKind.NOMINATE], set(), False, False, ReviewState.QUEUED),  # no nomination: no nominee
        ([DecisionKind.NOMINATE], set(), False, True, ReviewState.NOMINATED),
        (
            [DecisionKind.SELECT_FOR_TRAINING, DecisionKind.NOMINATE],
            set(),
            False,
            True,
            ReviewState.SELECTED_FOR_TRAINING,
        ),
        (
            [DecisionKind.NOMINATE, DecisionKind.SELECT_FOR_TRAINING],
            set(),
            False,
            True,
            ReviewState.SELECTED_FOR_TRAINING,
        ),
        ([DecisionKind.SELECT_FOR_TRAINING, DecisionKind.DISMISS], set(), False, False, ReviewState.DISMISSED),
        ([DecisionKind.NEEDS_INFO], set(), False, False, ReviewState.NEEDS_INFO),
        ([DecisionKind.NEEDS_INFO], {1}, False, False, ReviewState.QUEUED),  # answered: back in the queue
        ([DecisionKind.NEEDS_INFO], {1}, True, False, ReviewState.IN_REVIEW),
        (
            [DecisionKind.DISMISS, DecisionKind.SELECT_FOR_TRAINING],
            set(),
            False,
            False,
            ReviewState.SELECTED_FOR_TRAINING,
        ),
    ],
)
def test_the_state_follows_from_the_records(kinds, answered, claimed, nominated, state):
    from api.review.service import derive_state

    decisions = [decision(n + 1, kind) for n, kind in enumerate(kinds)]
    assert derive_state(decisions, answered, claimed, nominated) == state


# --- nominating is one action --------------------------------------------------------------------


def test_a_nominate_decision_is_recorded_only_with_its_nomination(app_client, ready_clip):
    clip = ready_clip()
    bare = app_client.post(f"/api/v1/review/{clip['id']}/decisions", json={"kind": "nominated"})
    assert bare.status_code == 422 and "nomination" in bare.json()["detail"]
    unknown = nominate(app_client, clip, officers=["99999"])
    assert unknown.status_code == 422 and "99999" in unknown.json()["detail"]
    standing = review_of(app_client, clip["id"])
    assert standing["decisions"] == [] and standing["nomination"] is None  # neither was recorded
    assert standing["state"] == "queued"

    made = nominate(app_client, clip)
    assert made.status_code == 201, made.text
    standing = review_of(app_client, clip["id"])
    assert standing["state"] == "nominated" and [d["kind"] for d in standing["decisions"]] == ["nominated"]
    assert standing["nomination"] == {"id": made.json()["nomination_id"], "outcome": "pending", "award_name": None}
    again = nominate(app_client, clip)  # a second nomination while the first is pending: refused
    assert again.status_code == 409 and "yet to decide" in again.json()["detail"]
    assert len(review_of(app_client, clip["id"])["decisions"]) == 1
    nomination = app_client.get(f"/api/v1/nominations/{made.json()['nomination_id']}").json()
    assert [c["clip_id"] for c in nomination["clips"]] == [clip["id"]]
    assert nomination["clips"][0]["moments"] == [{"at": 1.0, "note": "kneels to talk"}]


def test_a_nominations_own_outcome_shows_on_the_clip(app, app_client, ready_clip):
    division = unique("Division")
    declined, awarded = ready_clip(division=division), ready_clip(division=division)
    ids = {}
    for clip in (declined, awarded):
        made = nominate(app_client, clip)
        assert made.status_code == 201, made.text
        ids[clip["id"]] = made.json()["nomination_id"]
    vote_twice(app, ids[declined["id"]], approve=False)
    vote_twice(app, ids[awarded["id"]], approve=True)

    assert review_of(app_client, declined["id"])["nomination"]["outcome"] == "declined"
    assert review_of(app_client, awarded["id"])["nomination"]["outcome"] == "awarded"
    for clip, label in ((declined, "Nomination declined"), (awarded, "Awarded")):
        shown = page(app_client.get(f"/clips/{clip['id']}"))
        assert text(one(shown, ".clip-facts .pill.state")) == label  # not "Nominated"
    queue = page(app_client.get("/queue", params={"division": division}))
    labels = {int(row["data-clip"]): text(one(row, ".pill.state")) for row in queue.select("#queue-rows tr")}
    assert labels == {declined["id"]: "Nomination declined", awarded["id"]: "Awarded"}

    officer = client_for(app, ["officer"], badge=awarded["badge_number"])
    mine = page(officer.get("/my"))
    assert "Awarded an Act of Excellence" in text(one(mine, f"#clip-{awarded['id']} .review-state"))


def test_selecting_and_nominating_both_hold_and_trainers_see_the_awarded_clip(app, app_client, ready_clip):
    clip = ready_clip()
    trainer = client_for(app, ["trainer"])
    selected = app_client.post(f"/api/v1/review/{clip['id']}/decisions", json={"kind": "selected_for_training"})
    assert selected.status_code == 201
    made = nominate(app_client, clip)
    assert made.status_code == 201, made.text
    vote_twice(app, made.json()["nomination_id"], approve=True)

    standing = review_of(app_client, clip["id"])
    assert standing["selected_for_training"] is True and standing["nomination"]["outcome"] == "awarded"
    assert standing["state"] == "selected_for_training"
    assert trainer.get(f"/api/v1/clips/{clip['id']}").status_code == 200
    shown = trainer.get(f"/clips/{clip['id']}")
    assert shown.status_code == 200
    shown = page(shown)
    assert one(shown, "form#add-to-lesson")
    assert {"Selected for training", "Awarded"} <= set(texts(shown, ".clip-facts .pill"))

    # A dismissal withdraws the selection: trainers no longer see it.
    app_client.post(f"/api/v1/review/{clip['id']}/decisions", json={"kind": "dismissed", "reason": "wrong clip"})
    assert trainer.get(f"/api/v1/clips/{clip['id']}").status_code == 404


def test_the_nomination_in_the_clip_page_flow_goes_in_one_call(app_client, ready_clip):
    """The page's Nominate button opens the form and records nothing; Send posts the decision with
    the nomination (review.js); the page says what the API recorded."""
    clip = ready_clip()
    assert app_client.post(f"/api/v1/review/{clip['id']}/claim").status_code == 200
    shown = page(app_client.get(f"/clips/{clip['id']}"))
    assert one(shown, "#nomination-section").has_attr("hidden")
    assert "Cancel: do not nominate" in texts(shown, "#nomination button")
    assert "Next clip without nominating" not in texts(shown, "button")


# --- intake problems -------------------------------------------------------------------------------


def test_rejected_and_failed_clips_are_intake_problems_for_admins_and_their_officer(app, app_client, ready_clip):
    badge = unique("b")
    rejected, failed = ready_clip(badge), ready_clip(badge)
    with session_scope() as session:
        session.execute(
            update(Clip).where(Clip.id == rejected["id"]).values(status=ClipStatus.REJECTED, reason="no video stream")
        )
        session.execute(
            update(Clip).where(Clip.id == failed["id"]).values(status=ClipStatus.FAILED, reason="disk full")
        )
    officer, other, reviewer = (
        client_for(app, ["officer"], badge=badge),
        client_for(app, ["officer"], badge=unique("b")),
        client_for(app, ["reviewer"]),
    )

    listed = {p["clip_id"]: p for p in app_client.get("/api/v1/review/intake-problems").json()}
    assert listed[rejected["id"]]["reason"] == "no video stream" and listed[failed["id"]]["status"] == "failed"
    assert "upload that file" in listed[rejected["id"]]["what_to_do"]
    assert "fault on our side" in listed[failed["id"]]["what_to_do"]
    assert {p["clip_id"] for p in officer.get("/api/v1/review/intake-problems").json()} == {
        rejected["id"],
        failed["id"],
    }
    assert other.get("/api/v1/review/intake-problems").json() == []
    assert reviewer.get("/api/v1/review/intake-problems").json() == []

    for client in (app_client, reviewer):  # not reviewable, by anyone
        assert client.post(f"/api/v1/review/{rejected['id']}/claim").status_code == 409
        assert (
            client.post(
                f"/api/v1/review/{rejected['id']}/decisions", json={"kind": "selected_for_training"}
            ).status_code
            == 409
        )
    assert review_of(app_client, rejected["id"])["reviewable"] is False

    mine = page(officer.get("/my"))
    section = one(mine, "#intake-problems")
    assert "no video stream" in text(section) and "What to do" in text(section)
    queue = page(app_client.get("/queue"))
    assert f"Clip {rejected['id']}" in text(one(queue, "#intake-problems"))
    assert not page(reviewer.get("/queue")).select("#intake-problems")  # admins only
    clip_page = page(app_client.get(f"/clips/{rejected['id']}"))
    assert "What to do" in text(one(clip_page, ".intake-problem"))
    assert "Start review" not in texts(clip_page, "button") and not clip_page.select("#decision")


# --- surveys: compliments filter and rank the queue; responses on the clip page ------------------


def import_surveys(client, rows: list[str]) -> None:
    data = "survey_id,incident_number,date,division,score,comment,badge\n" + "\n".join(rows) + "\n"
    response = client.post(
        f"/api/v1/surveys/import?filename={unique('s')}.csv", content=data, headers={"Content-Type": "text/csv"}
    )
    assert response.status_code in (200, 201), response.text


def test_compliments_filter_and_rank_the_queue_and_show_on_the_clip(app_client, ready_clip):
    division, badge = unique("Division"), unique("b")
    praised_incident, other_incident = unique("INC"), unique("INC")
    plain = ready_clip(badge, division=division, incident_number=other_incident)
    praised = ready_clip(badge, division=division, incident_number=praised_incident)
    with session_scope() as session:  # the plain clip scores higher with the recognizer
        session.execute(update(ReviewItem).where(ReviewItem.clip_id == plain["id"]).values(priority=0.9))
        session.execute(update(ReviewItem).where(ReviewItem.clip_id == praised["id"]).values(priority=0.1))
    import_surveys(
        app_client,
        [
            f'{unique("sv")},{praised_incident},2026-11-02,{division},5,"She listened and got my son home.",{badge}',
            f"{unique('sv')},{other_incident},2026-11-03,{division},2,,{badge}",
        ],
    )

    def listed(**params) -> list[int]:
        found = app_client.get("/api/v1/review/queue", params={"division": division, **params}).json()
        return [item["clip_id"] for item in found["items"]]

    assert listed() == [praised["id"], plain["id"]]  # the compliment first, over a higher score
    assert listed(order="oldest") == [plain["id"], praised["id"]]
    assert listed(compliment="true") == [praised["id"]]
    queue = page(app_client.get("/queue", params={"division": division, "compliment": "1"}))
    assert [int(row["data-clip"]) for row in queue.select("#queue-rows tr")] == [praised["id"]]
    assert one(queue, "#q-compliment").has_attr("checked")
    assert "Compliment" in texts(queue, "#queue-rows .pill")

    shown = page(app_client.get(f"/clips/{praised['id']}"))
    survey = one(shown, ".surveys .survey")
    assert text(one(survey, ".survey-score")) == "5 of 5"
    assert "She listened and got my son home." in text(one(survey, ".survey-comment"))
    assert "In the person's own words" in text(one(survey, ".survey-comment footer"))


# --- live pages: progress and an ETA from the measured real-time factor --------------------------


def test_progress_gives_an_eta_from_the_measured_real_time_factor(app, app_client, fixtures, tmp_path):
    badge = unique("b")
    done = upload_clip(app_client, fixtures, tmp_path, badge)
    going = upload_clip(app_client, fixtures, tmp_path, badge)
    now = utcnow()
    with session_scope() as session:
        # A finished clip of 100 s whose every stage took 10 s: a real-time factor of 0.1 for each.
        session.execute(
            update(Clip).where(Clip.id == done["id"]).values(status=ClipStatus.READY, media_info={"duration": 100.0})
        )
        session.execute(
            update(Stage)
            .where(Stage.clip_id == done["id"])
            .values(state=StageState.DONE, progress=1.0, started_at=now - timedelta(seconds=10), finished_at=now)
        )
        # A 50 s clip, probed; its transcript half done: ~2.5 s of transcript, then the recognizer's 5 s.
        session.execute(update(Clip).where(Clip.id == going["id"]).values(media_info={"duration": 50.0}))
        session.execute(
            update(Stage)
            .where(Stage.clip_id == going["id"], Stage.name.in_(["probe", "thumbnails", "proxy"]))
            .values(state=StageState.DONE, progress=1.0, started_at=now, finished_at=now)
        )
        session.execute(
            update(Stage)
            .where(Stage.clip_id == going["id"], Stage.name == "transcript")
            .values(state=StageState.RUNNING, progress=0.5, started_at=now)
        )
    found = app_client.get("/api/v1/review/progress", params={"ids": [going["id"], done["id"]]}).json()
    by_id = {p["clip_id"]: p for p in found}
    assert by_id[going["id"]]["status"] == "processing" and by_id[done["id"]]["eta_seconds"] is None
    eta = by_id[going["id"]]["eta_seconds"]
    assert eta is not None and 5.0 < eta < 10.0, eta  # 2.5 s + 5 s with the factors measured here
    assert {s["name"]: s["state"] for s in by_id[going["id"]]["stages"]}["transcript"] == "running"

    stranger = client_for(app, ["officer"], badge=unique("b"))
    assert stranger.get("/api/v1/review/progress", params={"ids": [going["id"]]}).json() == []
    own = client_for(app, ["officer"], badge=badge)
    assert [p["clip_id"] for p in own.get("/api/v1/review/progress", params={"ids": [going["id"]]}).json()] == [
        going["id"]
    ]
    mine = page(own.get("/my"))
    assert "ready in about" in text(one(mine, f'#clip-{going["id"]} [data-live="eta"]'))


def test_the_queue_rows_partial_is_the_queue_pages_rows(app_client, fixtures, tmp_path):
    division = unique("Division")
    clip = upload_clip(app_client, fixtures, tmp_path, unique("b"), division=division)
    rows = app_client.get("/queue/rows", params={"division": division})
    assert rows.status_code == 200 and rows.headers["X-Queue-Total"] == "1"
    assert '"queued": 1' in rows.headers["X-Queue-Counts"]
    row = one(page(rows), f'tr[data-clip="{clip["id"]}"]')
    assert row["data-status"] == "processing" and "ready in" in text(row)
    mark_ready(clip["id"])
    again = page(app_client.get("/queue/rows", params={"division": division}))
    assert one(again, f'tr[data-clip="{clip["id"]}"]')["data-status"] == "ready"
