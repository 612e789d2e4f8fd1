"""Claims on clips (issue 11): only a reviewer claims, and only on an explicit action (Next clip,
Start review); opening a clip claims nothing, for an admin either; a claim is released by its
holder (or an admin), renewed by the open page's heartbeat, lapses without it, and others see who
holds it. In-process on SQLite, through the API and the pages."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from api.db import session_scope
from api.review.models import ReviewItem
from tests.accounts import bearer, make_user
from tests.html import one, page, text, texts
from tests.ui.test_other_pages import client_for, mark_ready, unique, upload_clip


@pytest.fixture
def ready_clip(app_client, fixtures, tmp_path):
    def make() -> dict:
        clip = upload_clip(app_client, fixtures, tmp_path, unique("b"))
        mark_ready(clip["id"])
        return clip

    return make


def named_reviewer(app, roles=("reviewer",)):
    from fastapi.testclient import TestClient

    name = unique("rev")
    _, token = make_user(name, roles=list(roles))
    return name, TestClient(app, headers=bearer(token))


def standing(client, clip_id: int) -> dict:
    return client.get(f"/api/v1/clips/{clip_id}/review").json()


def expire(clip_id: int) -> None:
    with session_scope() as session:
        session.execute(
            update(ReviewItem)
            .where(ReviewItem.clip_id == clip_id)
            .values(claim_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def test_opening_a_clip_claims_nothing(app, app_client, ready_clip):
    clip = ready_clip()
    _, reviewer = named_reviewer(app)
    for client in (reviewer, app_client):  # a reviewer, and an admin (the session's own client)
        opened = client.get(f"/clips/{clip['id']}")
        assert opened.status_code == 200
        assert "Start review" in texts(page(opened), "button")
    after = standing(app_client, clip["id"])
    assert after["state"] == "queued" and after["held_by"] is None and after["item"]["claimed_by_name"] is None
    claims = app_client.get(
        "/api/v1/audit", params={"action": "review.claim", "object_type": "clip", "object_id": str(clip["id"])}
    ).json()
    assert claims == []


def test_only_a_reviewer_claims(app, ready_clip):
    clip = ready_clip()
    for roles in (["officer"], ["trainer"], ["committee"]):
        assert client_for(app, roles).post(f"/api/v1/review/{clip['id']}/claim").status_code == 403
    trainer_page = page(client_for(app, ["trainer"]).get(f"/clips/{clip['id']}"))
    assert "Start review" not in texts(trainer_page, "button")


def test_start_review_claims_and_others_see_who_holds_it(app, ready_clip):
    clip = ready_clip()
    first_name, first = named_reviewer(app)
    _, second = named_reviewer(app)
    claimed = first.post(f"/api/v1/review/{clip['id']}/claim")
    assert claimed.status_code == 200 and claimed.json()["claimed_by_name"] == first_name

    assert standing(second, clip["id"])["held_by"] == first_name
    theirs = page(second.get(f"/clips/{clip['id']}"))
    assert text(one(theirs, "#claim-held .claim-holder")) == first_name
    assert not theirs.select("#decision") and "Start review" not in texts(theirs, "button")
    queue = page(second.get("/queue", params={"badge_number": clip["badge_number"]}))
    assert text(one(queue, f'#queue-rows tr[data-clip="{clip["id"]}"] .claim-holder')) == f"held by {first_name}"
    refused = second.post(f"/api/v1/review/{clip['id']}/claim")
    assert refused.status_code == 409 and first_name in refused.json()["detail"]

    mine = page(first.get(f"/clips/{clip['id']}"))
    assert one(mine, "#claim-mine") and "Release" in texts(mine, "button") and one(mine, "form#decision")
    assert one(mine, "#clip-page")["data-renew-every"].isdigit()


def test_a_claim_is_released_by_its_holder_or_an_admin(app, app_client, ready_clip):
    clip = ready_clip()
    first_name, first = named_reviewer(app)
    _, second = named_reviewer(app)
    assert first.post(f"/api/v1/review/{clip['id']}/claim").status_code == 200
    refused = second.delete(f"/api/v1/review/{clip['id']}/claim")
    assert refused.status_code == 403 and first_name in refused.json()["detail"]
    released = first.delete(f"/api/v1/review/{clip['id']}/claim")
    assert released.status_code == 200 and released.json()["state"] == "queued"
    assert released.json()["claimed_by_name"] is None
    assert second.post(f"/api/v1/review/{clip['id']}/claim").status_code == 200  # free for the next one

    forced = app_client.delete(f"/api/v1/review/{clip['id']}/claim")  # an admin lets anyone's go
    assert forced.status_code == 200 and forced.json()["state"] == "queued"
    events = app_client.get(
        "/api/v1/audit", params={"action": "review.release", "object_type": "clip", "object_id": str(clip["id"])}
    ).json()
    assert len(events) == 2
    assert first.delete(f"/api/v1/review/{clip['id']}/claim").status_code == 200  # nobody holds it: no change


def test_the_open_page_renews_a_claim_which_lapses_without_it(app, ready_clip):
    clip = ready_clip()
    _, first = named_reviewer(app)
    _, second = named_reviewer(app)
    taken = first.post(f"/api/v1/review/{clip['id']}/claim").json()
    renewed = first.post(f"/api/v1/review/{clip['id']}/claim/renew")
    assert renewed.status_code == 200 and renewed.json()["claim_expires_at"] >= taken["claim_expires_at"]
    assert second.post(f"/api/v1/review/{clip['id']}/claim/renew").status_code == 409  # not theirs

    expire(clip["id"])  # no heartbeat for review_claim_minutes
    lapsed = first.post(f"/api/v1/review/{clip['id']}/claim/renew")
    assert lapsed.status_code == 409 and "lapsed or was released" in lapsed.json()["detail"]
    assert standing(second, clip["id"])["held_by"] is None
    assert second.post(f"/api/v1/review/{clip['id']}/claim").status_code == 200


def test_next_clip_claims_and_a_decision_lets_go(app, ready_clip):
    _, reviewer = named_reviewer(app)
    clip = ready_clip()
    taken = reviewer.post("/api/v1/review/next")
    assert taken.status_code == 200 and taken.json()["state"] == "in_review"
    held = taken.json()["clip_id"]
    decided = reviewer.post(f"/api/v1/review/{held}/decisions", json={"kind": "selected_for_training"})
    assert decided.status_code == 201
    after = standing(reviewer, held)
    assert after["held_by"] is None and after["state"] == "selected_for_training"
    assert clip["id"]  # (the clip made above is one of those Next clip may pick)
