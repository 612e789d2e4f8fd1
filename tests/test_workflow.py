"""The whole path through the real service: an officer's clip is reviewed, the officer nominated,
the committee approves, the officer sees the award; every step is in an intact audit trail."""

import httpx
import pytest

from tests.services import backend_env, provision_token, running_service, upload, wait_settled


@pytest.fixture(scope="module", params=["sqlite", "postgres+redis"])
def service(request, tmp_path_factory):
    data = tmp_path_factory.mktemp("workflow")
    env = backend_env(request.param, data)
    with running_service(env, data / "serve.log") as admin:
        people = {
            role: provision_token(env, f"{role}1", roles=(role,), badge=badge)
            for role, badge in (("officer", "4711"), ("reviewer", "r1"), ("committee", "c1"))
        }
        people["committee2"] = provision_token(env, "committee2", roles=("committee",), badge="c2")
        clients = {
            role: httpx.Client(base_url=admin.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
            for role, token in people.items()
        }
        yield admin, clients


def test_review_nomination_award_path(service, fixtures):
    admin, people = service
    officer, reviewer, committee = people["officer"], people["reviewer"], people["committee"]
    imported = admin.post(
        "/api/v1/officers/import",
        content="badge_number,name,division\n4711,Dana Reyes,Metro\n",
        headers={"Content-Type": "text/csv"},
    )
    assert imported.json()["imported"] == 1 and imported.json()["problems"] == []

    clip = upload(officer, fixtures / "speech.mp4", badge_number="4711", division="Metro").json()
    assert wait_settled(officer, clip["id"])["status"] == "ready"
    tagged = officer.post(
        f"/api/v1/clips/{clip['id']}/tags",
        json={"categories": ["community-engagement"], "markers": [{"at": 9.5, "note": "reassures"}]},
    )
    assert tagged.status_code == 201 and "community-engagement" in tagged.json()["categories"]

    queue = reviewer.get("/api/v1/review/queue", params={"category": "de-escalation"}).json()
    assert [i["clip_id"] for i in queue["items"]] == [clip["id"]] and queue["counts"]["queued"] == 1
    claimed = reviewer.post("/api/v1/review/next").json()
    assert claimed["clip_id"] == clip["id"] and claimed["state"] == "in_review"
    assert (
        admin.post(f"/api/v1/review/{clip['id']}/decisions", json={"kind": "dismissed", "reason": "x"}).status_code
        == 409
    )

    no_reason = reviewer.post(f"/api/v1/review/{clip['id']}/decisions", json={"kind": "needs_info"})
    assert no_reason.status_code == 422 and "question" in no_reason.json()["detail"]
    asked = reviewer.post(
        f"/api/v1/review/{clip['id']}/decisions", json={"kind": "needs_info", "reason": "Who called the medic?"}
    )
    assert asked.status_code == 201
    assert (
        officer.post(f"/api/v1/clips/{clip['id']}/replies", json={"text": "Dispatch did, at my request."}).status_code
        == 201
    )

    reviewer.post(f"/api/v1/review/{clip['id']}/claim")
    rubric = {"introduced_self": True, "showed_empathy": True, "offered_resources": True}
    # One action: the nominate decision and its nomination, in one transaction.
    nominated = reviewer.post(
        f"/api/v1/review/{clip['id']}/decisions",
        json={
            "kind": "nominated",
            "rubric": rubric,
            "notes": "textbook",
            "nomination": {
                "officers": ["4711"],
                "moments": [{"at": 3.0, "note": "introduces himself"}],
                "narrative": "Calm, kind and clear with a frightened driver.",
            },
        },
    ).json()
    assert nominated["revises_id"] == asked.json()["id"] and nominated["nomination_id"]
    nomination = reviewer.get(f"/api/v1/nominations/{nominated['nomination_id']}").json()
    assert nomination["state"] == "pending"

    pending = committee.get("/api/v1/nominations", params={"state": "pending"}).json()
    assert [n["id"] for n in pending] == [nomination["id"]]
    assert committee.get(f"/api/v1/clips/{clip['id']}").status_code == 200  # the committee sees nominated clips
    declined_without_reason = committee.post(
        f"/api/v1/nominations/{nomination['id']}/decision", json={"approve": False}
    )
    assert declined_without_reason.status_code == 422
    first_vote = committee.post(
        f"/api/v1/nominations/{nomination['id']}/decision",
        json={"approve": True, "award_name": "Act of Excellence", "awarded_on": "2026-11-20"},
    )
    assert first_vote.json()["state"] == "pending"  # the quorum is two members
    approved = people["committee2"].post(f"/api/v1/nominations/{nomination['id']}/votes", json={"approve": True})
    assert approved.json()["state"] == "approved", approved.text
    standing = officer.get(f"/api/v1/clips/{clip['id']}/review").json()
    assert standing["nomination"]["outcome"] == "awarded" and standing["state"] == "nominated"

    mine = officer.get("/api/v1/officers/4711/recognition").json()
    assert [a["award_name"] for a in mine["awards"]] == ["Act of Excellence"]
    assert mine["officer_name"] == "Dana Reyes" and mine["awards"][0]["division"] == "Metro"
    history = officer.get(f"/api/v1/clips/{clip['id']}/review").json()
    assert [d["kind"] for d in history["decisions"]] == ["needs_info", "nominated"]
    assert history["replies"][0]["text"].startswith("Dispatch")
    assert officer.get("/api/v1/officers/r1/recognition").status_code == 404

    stats = admin.get("/api/v1/stats").json()
    assert stats["awards_per_month"] == {"2026-11": 1}
    assert stats["decisions"]["taken"] == {"needs_info": 1, "nominated": 1}
    assert stats["by_division"]["Metro"] == {"tags": 2, "awards": 1}
    assert sum(stats["tags_per_month"][next(iter(stats["tags_per_month"]))].values()) == 2

    actions = {e["action"] for e in admin.get("/api/v1/audit", params={"limit": 1000}).json()}
    assert {
        "clip.upload",
        "clip.tag",
        "review.claim",
        "review.decide",
        "review.reply",
        "nomination.create",
        "nomination.decide",
        "award.create",
        "clip.view",
    } <= actions
    assert admin.get("/api/v1/audit/verify").json()["intact"] is True
