"""Review-queue and nomination rules the whole-path test does not reach, in-process on SQLite:
claim expiry, required reasons, the rubric, priority order, declines, and who may see what."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from api.db import session_scope
from api.review.models import ReviewItem
from tests.ui.test_other_pages import client_for, mark_ready, unique, upload_clip


@pytest.fixture
def ready_clip(app_client, fixtures, tmp_path):
    """A ready clip of a fresh officer's, in the queue."""

    def make(badge: str | None = None) -> dict:
        clip = upload_clip(app_client, fixtures, tmp_path, badge or unique("b"))
        mark_ready(clip["id"])
        return clip

    return make


def set_review_item(clip_id: int, **values) -> None:
    with session_scope() as session:
        session.execute(update(ReviewItem).where(ReviewItem.clip_id == clip_id).values(**values))


def test_an_expired_claim_goes_back_to_the_queue(app, ready_clip):
    clip = ready_clip()
    first, second = client_for(app, ["reviewer"]), client_for(app, ["reviewer"])
    assert first.post(f"/api/v1/review/{clip['id']}/claim").status_code == 200
    held = second.post(f"/api/v1/review/{clip['id']}/claim")
    assert held.status_code == 409 and "is reviewing this clip" in held.json()["detail"]
    set_review_item(clip["id"], claim_expires_at=datetime.now(UTC) - timedelta(seconds=1))
    taken = second.post(f"/api/v1/review/{clip['id']}/claim")
    assert taken.status_code == 200 and taken.json()["state"] == "in_review"
    assert (
        first.post(f"/api/v1/review/{clip['id']}/decisions", json={"kind": "selected_for_training"}).status_code == 409
    )


def test_dismissing_needs_a_reason(app_client, ready_clip):
    clip = ready_clip()
    app_client.post(f"/api/v1/review/{clip['id']}/claim")
    refused = app_client.post(f"/api/v1/review/{clip['id']}/decisions", json={"kind": "dismissed"})
    assert refused.status_code == 422 and "reason" in refused.json()["detail"]
    dismissed = app_client.post(
        f"/api/v1/review/{clip['id']}/decisions", json={"kind": "dismissed", "reason": "no interaction on camera"}
    )
    assert dismissed.status_code == 201 and dismissed.json()["reason"] == "no interaction on camera"


def test_admins_add_and_retire_rubric_items(app, app_client):
    key = unique("kept_calm").replace("-", "_")
    added = app_client.put(
        f"/api/v1/review/rubric/{key}", json={"key": key, "label": "Kept a calm voice", "position": 99, "active": True}
    )
    assert added.status_code == 200, added.text
    assert key in [item["key"] for item in app_client.get("/api/v1/review/rubric").json()]
    assert (
        app_client.put(
            f"/api/v1/review/rubric/{key}", json={"key": "other", "label": "x", "position": 1, "active": True}
        ).status_code
        == 422
    )
    app_client.put(
        f"/api/v1/review/rubric/{key}", json={"key": key, "label": "Kept a calm voice", "position": 99, "active": False}
    )
    assert key not in [item["key"] for item in app_client.get("/api/v1/review/rubric").json()]
    assert key in [
        item["key"] for item in app_client.get("/api/v1/review/rubric", params={"include_inactive": True}).json()
    ]
    reviewer = client_for(app, ["reviewer"])
    assert (
        reviewer.put(
            f"/api/v1/review/rubric/{key}", json={"key": key, "label": "x", "position": 1, "active": True}
        ).status_code
        == 403
    )


def test_priority_orders_the_queue_and_next_takes_the_highest(app, app_client, ready_clip):
    division = unique("Division")
    low, high = ready_clip(), ready_clip()
    for clip, priority in ((low, 0.2), (high, 0.9)):
        app_client.post(f"/api/v1/clips/{clip['id']}/tags", json={"categories": ["life-saving"]})
        set_review_item(clip["id"], priority=priority)
        with session_scope() as session:
            from api.clips.models import Clip

            session.execute(update(Clip).where(Clip.id == clip["id"]).values(division=division))
    by_priority = app_client.get("/api/v1/review/queue", params={"division": division, "state": "queued"}).json()
    assert [item["clip_id"] for item in by_priority["items"]] == [high["id"], low["id"]]
    oldest = app_client.get("/api/v1/review/queue", params={"division": division, "order": "oldest"}).json()
    assert [item["clip_id"] for item in oldest["items"]] == [low["id"], high["id"]]


def nominate(app_client, badge: str, clip_id: int) -> dict:
    response = app_client.post(
        "/api/v1/nominations",
        json={
            "officers": [badge],
            "clips": [{"clip_id": clip_id, "moments": [{"at": 1.0, "note": "steps in"}]}],
            "narrative": "Stepped in before anyone was hurt.",
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_decline_needs_a_reason_and_a_decision_is_made_once(app, app_client, ready_clip):
    badge = unique("b")
    nomination = nominate(app_client, badge, ready_clip(badge)["id"])
    committee = client_for(app, ["committee"])
    path = f"/api/v1/nominations/{nomination['id']}/decision"
    assert committee.post(path, json={"approve": False}).status_code == 422
    first = committee.post(path, json={"approve": False, "reason": "a good stop, not yet an award"})
    assert first.status_code == 200 and first.json()["state"] == "pending"  # the quorum is two members
    assert committee.post(path, json={"approve": True, "award_name": "Act of Excellence"}).status_code == 409
    declined = client_for(app, ["committee"]).post(path, json={"approve": False, "reason": "agreed: not yet"})
    assert declined.status_code == 200 and declined.json()["state"] == "declined"
    late = client_for(app, ["committee"]).post(path, json={"approve": True, "award_name": "Act of Excellence"})
    assert late.status_code == 409
    recognition = client_for(app, ["officer"], badge=badge).get(f"/api/v1/officers/{badge}/recognition").json()
    assert [n["id"] for n in recognition["nominations"]] == [nomination["id"]] and recognition["awards"] == []


def test_who_may_see_nominations_and_clips(app, app_client, ready_clip):
    badge = unique("b")
    named, elsewhere = ready_clip(badge), ready_clip()
    nomination = nominate(app_client, badge, named["id"])
    assert client_for(app, ["officer"], badge=badge).get(f"/api/v1/nominations/{nomination['id']}").status_code == 200
    stranger = client_for(app, ["officer"], badge=unique("b"))
    assert stranger.get(f"/api/v1/nominations/{nomination['id']}").status_code == 404
    assert stranger.get(f"/api/v1/officers/{badge}/recognition").status_code == 404

    committee = client_for(app, ["committee"])
    assert committee.get(f"/api/v1/clips/{named['id']}").status_code == 200
    assert committee.get(f"/api/v1/clips/{elsewhere['id']}").status_code == 404

    trainer = client_for(app, ["trainer"])
    # One rule for nomination narratives, through either route: not for trainers.
    assert trainer.get(f"/api/v1/nominations/{nomination['id']}").status_code == 404
    history = trainer.get(f"/api/v1/officers/{badge}/recognition")
    assert history.status_code == 200 and history.json()["nominations"] == []
    assert "Stepped in" not in history.text
    assert trainer.get(f"/api/v1/clips/{elsewhere['id']}").status_code == 404
    app_client.post(f"/api/v1/review/{elsewhere['id']}/claim")
    app_client.post(f"/api/v1/review/{elsewhere['id']}/decisions", json={"kind": "selected_for_training"})
    assert trainer.get(f"/api/v1/clips/{elsewhere['id']}").status_code == 200


def test_a_clip_still_processing_cannot_be_claimed_or_decided(app_client, fixtures, tmp_path):
    clip = upload_clip(app_client, fixtures, tmp_path, unique("b"))  # no worker in-process: it stays processing
    for path, body in (
        (f"/api/v1/review/{clip['id']}/claim", None),
        (f"/api/v1/review/{clip['id']}/decisions", {"kind": "selected_for_training"}),
    ):
        refused = app_client.post(path, json=body)
        assert refused.status_code == 409 and "still processing" in refused.json()["detail"]
    mark_ready(clip["id"])
    assert app_client.post(f"/api/v1/review/{clip['id']}/claim").status_code == 200


def test_the_queue_text_filter_reads_what_is_written_about_a_clip(app, app_client, fixtures, tmp_path):
    badge, division = unique("b"), unique("Division")
    app_client.post(
        "/api/v1/officers/import",
        content=f"badge_number,name,division\n{badge},Imani Okafor,{division}\n",
        headers={"Content-Type": "text/csv"},
    )
    noted = upload_clip(app_client, fixtures, tmp_path, badge, division=division, note="offered the driver water")
    other = upload_clip(app_client, fixtures, tmp_path, badge, division=division, evidence_id=f"EV-{division}-77")

    def found(text: str) -> list[int]:
        page = app_client.get("/api/v1/review/queue", params={"division": division, "text": text}).json()
        assert page["total"] == len(page["items"]) == sum(page["counts"].values())
        return sorted(item["clip_id"] for item in page["items"])

    assert found("water") == found("wat") == [noted["id"]]  # a word, or the start of one
    assert found("okafor") == sorted([noted["id"], other["id"]])  # the officer's name, from the directory
    assert found(f"ev-{division}-77") == [other["id"]] and found("juice") == []
    assert found("!!") == sorted([noted["id"], other["id"]])  # no word: no filter


def test_a_clip_rejected_at_intake_is_not_reviewable(app_client, ready_clip):
    from api.clips.models import Clip, ClipStatus

    clip = ready_clip()
    with session_scope() as session:
        session.execute(
            update(Clip)
            .where(Clip.id == clip["id"])
            .values(status=ClipStatus.REJECTED, reason="the video stream could not be remuxed")
        )
    refused = app_client.post(f"/api/v1/review/{clip['id']}/claim")
    assert refused.status_code == 409 and "rejected at intake (the video stream could not be remuxed)" in refused.text
    selected = app_client.post(f"/api/v1/review/{clip['id']}/decisions", json={"kind": "selected_for_training"})
    assert selected.status_code == 409
    listed = app_client.get("/api/v1/review/queue", params={"badge_number": clip["badge_number"]}).json()
    assert listed["items"] == [] and listed["total"] == 0
    dismissed = app_client.post(
        f"/api/v1/review/{clip['id']}/decisions", json={"kind": "dismissed", "reason": "unplayable upload"}
    )
    assert dismissed.status_code == 201, dismissed.text


def test_a_nomination_names_only_officers_that_exist(app_client, ready_clip):
    clip = ready_clip()
    refused = app_client.post(
        "/api/v1/nominations",
        json={
            "officers": [clip["badge_number"], "99999"],
            "clips": [{"clip_id": clip["id"], "moments": []}],
            "narrative": "Stepped in before anyone was hurt.",
        },
    )
    assert refused.status_code == 422 and "no officer has badge 99999" in refused.json()["detail"]
    assert nominate(app_client, clip["badge_number"], clip["id"])["officers"]


def test_an_officer_imported_after_their_clips_is_found_by_name(app_client, fixtures, tmp_path):
    badge, division = unique("b"), unique("Division")
    clip = upload_clip(app_client, fixtures, tmp_path, badge, division=division)

    def found(text: str) -> list[int]:
        page = app_client.get("/api/v1/review/queue", params={"division": division, "text": text}).json()
        return [item["clip_id"] for item in page["items"]]

    assert found("Okonkwo") == []
    imported = app_client.post(
        "/api/v1/officers/import",
        content=f"badge_number,name,division\n{badge},Chidi Okonkwo,{division}\n",
        headers={"Content-Type": "text/csv"},
    )
    assert imported.status_code in (200, 201), imported.text
    assert found("Okonkwo") == [clip["id"]]
