"""Paging and totals in the API: the awards record, nominations, the audit log, my clips, users and
tokens page with `limit`/`offset` (the total in X-Total-Count), the audit log by key (`before`, the
next key in X-Next-Before). Each list is still a plain JSON list, so older clients read it as
before. The pages read the same service functions, so their totals agree with the API's."""

import uuid

import pytest
from fastapi.testclient import TestClient

from api.audit.service import Actor, record
from api.db import session_scope
from api.pagination import KeysetPage, Page, keyset_page, offset_page
from tests.accounts import bearer, fresh_copy, make_user
from tests.html import one, page, text


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def client_for(app, roles, badge=None) -> TestClient:
    _, token = make_user(roles=roles, badge=badge)
    return TestClient(app, headers=bearer(token))


def upload_clip(client, fixtures, folder, badge) -> dict:
    from tests.services import upload

    response = upload(client, fresh_copy(fixtures / "silent.mkv", folder, unique("paging")), badge_number=badge)
    assert response.status_code == 201, response.text
    return response.json()


def total(response) -> int:
    assert response.status_code == 200, response.text
    return int(response.headers["x-total-count"])


# --- the helper -------------------------------------------------------------------------------


def test_a_page_knows_its_total_its_pages_and_whether_more_follow():
    assert Page([1, 2], total=5, limit=2, offset=0).has_next and Page([1, 2], 5, 2).pages == 3
    assert not Page([5], total=5, limit=2, offset=4).has_next
    assert Page([], total=0, limit=20).pages == 1 and Page([1], total=1, limit=None).pages == 1
    assert Page([1, 2], 7, 2, 4).map(str) == Page(["1", "2"], 7, 2, 4)


def test_offset_and_keyset_pages_over_the_audit_log(app):
    from sqlmodel import select

    from api.audit.models import AuditEvent

    action = unique("test.helper")
    with session_scope() as session:
        seqs = [record(session, Actor("test"), action).seq for _ in range(5)]
    query = select(AuditEvent.seq).where(AuditEvent.action == action)
    with session_scope() as session:
        page = offset_page(session, query, (AuditEvent.seq,), limit=2, offset=2)
        assert page.items == seqs[2:4] and page.total == 5 and page.has_next
        assert offset_page(session, query, (AuditEvent.seq,), limit=None).items == seqs
        first = keyset_page(
            session, select(AuditEvent).where(AuditEvent.action == action), AuditEvent.seq, before=None, limit=3
        )
        assert [e.seq for e in first.items] == seqs[:1:-1] and first.next_before == seqs[2]
        last = keyset_page(
            session,
            select(AuditEvent).where(AuditEvent.action == action),
            AuditEvent.seq,
            before=first.next_before,
            limit=3,
        )
        assert [e.seq for e in last.items] == seqs[1::-1] and last.next_before is None
        assert keyset_page(session, query, AuditEvent.seq, before=seqs[0], limit=3) == KeysetPage([], None)


# --- awards and nominations -------------------------------------------------------------------


@pytest.fixture(scope="module")
def awarded(app, app_client, fixtures, tmp_path_factory) -> dict:
    """An officer in the directory with three approved nominations (three awards) and one pending."""
    badge, division = unique("b"), unique("Division")
    imported = app_client.post(
        "/api/v1/officers/import",
        content=f"badge_number,name,division\n{badge},Ada Ring,{division}\n",
        headers={"Content-Type": "text/csv"},
    )
    assert imported.json()["imported"] == 1
    clip = upload_clip(app_client, fixtures, tmp_path_factory.mktemp("awarded"), badge)
    nominations = []
    second_member = client_for(app, ["committee"])  # the quorum is two votes
    for day in ("2032-01-05", "2032-01-06", "2032-01-07", None):
        made = app_client.post(
            "/api/v1/nominations",
            json={"officers": [badge], "clips": [{"clip_id": clip["id"]}], "narrative": f"Steady on {day}."},
        )
        assert made.status_code == 201, made.text
        nominations.append(made.json()["id"])
        if day:
            decided = app_client.post(
                f"/api/v1/nominations/{nominations[-1]}/decision", json={"approve": True, "awarded_on": day}
            )
            assert decided.status_code == 200, decided.text
            seconded = second_member.post(f"/api/v1/nominations/{nominations[-1]}/votes", json={"approve": True})
            assert seconded.json()["state"] == "approved", seconded.text
    officer = client_for(app, ["officer"], badge=badge)
    return {"badge": badge, "division": division, "nominations": nominations, "officer": officer}


def test_awards_page_by_page_with_the_total(app_client, awarded):
    where = {"division": awarded["division"]}
    first = app_client.get("/api/v1/awards", params={**where, "limit": 2})
    assert total(first) == 3 and [a["awarded_on"] for a in first.json()] == ["2032-01-07", "2032-01-06"]
    rest = app_client.get("/api/v1/awards", params={**where, "limit": 2, "offset": 2})
    assert total(rest) == 3 and [a["awarded_on"] for a in rest.json()] == ["2032-01-05"]
    whole = app_client.get("/api/v1/awards", params=where)
    assert total(whole) == 3 and len(whole.json()) == 3 and whole.json()[0]["officer_name"] == "Ada Ring"
    awards = page(app_client.get("/awards", params=where))
    assert text(one(awards, "table caption")) == "3 awards"  # the page reads the same function


def test_officers_get_their_own_awards_whatever_they_ask_and_none_without_a_badge(app, app_client, awarded):
    own = awarded["officer"].get("/api/v1/awards", params={"division": "elsewhere", "limit": 1})
    assert total(own) == 3 and own.json()[0]["badge_number"] == awarded["badge"]
    other = client_for(app, ["officer"], badge=unique("b"))
    assert total(other.get("/api/v1/awards", params={"badge_number": awarded["badge"]})) == 0
    nobody = client_for(app, ["officer"])  # no badge: nothing, not everyone's
    response = nobody.get("/api/v1/awards")
    assert total(response) == 0 and response.json() == []


def test_nominations_page_by_state_and_order_with_the_total(app_client, awarded):
    badge, ids = awarded["badge"], awarded["nominations"]
    decided = app_client.get(
        "/api/v1/nominations", params={"badge_number": badge, "decided": True, "order": "recently_decided", "limit": 2}
    )
    assert total(decided) == 3 and [n["id"] for n in decided.json()] == [ids[2], ids[1]]
    pending = app_client.get("/api/v1/nominations", params={"badge_number": badge, "decided": False})
    assert total(pending) == 1 and [n["id"] for n in pending.json()] == [ids[3]]
    oldest = app_client.get("/api/v1/nominations", params={"badge_number": badge, "order": "oldest"})
    newest = app_client.get("/api/v1/nominations", params={"badge_number": badge})
    assert [n["id"] for n in oldest.json()] == ids and [n["id"] for n in newest.json()] == ids[::-1]
    assert (
        total(app_client.get("/api/v1/nominations", params={"badge_number": badge, "state": "approved", "offset": 1}))
        == 3
    )
    assert app_client.get("/api/v1/nominations", params={"order": "sideways"}).status_code == 422


# --- the audit log ----------------------------------------------------------------------------


def test_the_audit_log_pages_by_key_and_does_not_shift_as_records_arrive(app_client):
    action = unique("test.keyset")
    with session_scope() as session:
        seqs = [record(session, Actor("test"), action).seq for _ in range(5)]
    first = app_client.get("/api/v1/audit", params={"action": action, "limit": 2})
    assert [e["seq"] for e in first.json()] == seqs[:2:-1] and first.headers["x-next-before"] == str(seqs[3])
    with session_scope() as session:
        record(session, Actor("test"), action)  # arrives meanwhile: the next page does not shift
    second = app_client.get(
        "/api/v1/audit", params={"action": action, "limit": 2, "before": first.headers["x-next-before"]}
    )
    assert [e["seq"] for e in second.json()] == seqs[2:0:-1]
    last = app_client.get(
        "/api/v1/audit", params={"action": action, "limit": 2, "before": second.headers["x-next-before"]}
    )
    assert [e["seq"] for e in last.json()] == seqs[:1] and "x-next-before" not in last.headers
    offset = app_client.get("/api/v1/audit", params={"action": action, "limit": 2, "offset": 1})
    assert len(offset.json()) == 2  # the offset of old still works


# --- my clips, users, tokens, the queue, courses ----------------------------------------------


def test_my_clips_in_the_api_as_my_footage_shows_them(app, fixtures, tmp_path):
    badge = unique("b")
    me = client_for(app, ["officer"], badge=badge)
    made = [upload_clip(me, fixtures, tmp_path, badge)["id"] for _ in range(2)]
    mine = me.get("/api/v1/clips/mine")
    assert total(mine) == 2 and [row["clip"]["id"] for row in mine.json()] == made[::-1]
    row = mine.json()[0]
    assert row["review_state"] == "queued" and row["question"] is None and not row["can_tag"]  # still processing
    assert total(me.get("/api/v1/clips/mine", params={"limit": 1})) == 2
    assert total(me.get("/api/v1/clips/mine", params={"clip_id": made[0]})) == 1
    assert "2 clips" in text(one(page(me.get("/my")), "main"))
    stranger = client_for(app, ["officer"], badge=unique("b"))
    assert stranger.get("/api/v1/clips/mine").json() == []
    assert client_for(app, ["officer"]).get("/api/v1/clips/mine").json() == []


def test_users_and_tokens_say_their_total(app_client):
    name = unique("paged")
    for n in range(3):
        make_user(f"{name}-{n}", ["officer"])
    users = app_client.get("/api/v1/users", params={"q": name, "limit": 2})
    assert total(users) == 3 and [u["username"] for u in users.json()] == [f"{name}-0", f"{name}-1"]
    tokens = app_client.get("/api/v1/tokens", params={"limit": 1})
    assert total(tokens) >= 3 and len(tokens.json()) == 1


def test_queue_rows_name_the_officer_as_the_queue_page_does(app_client, fixtures, tmp_path):
    badge = unique("b")
    app_client.post(
        "/api/v1/officers/import",
        content=f"badge_number,name,division\n{badge},Lee Park,North\n",
        headers={"Content-Type": "text/csv"},
    )
    clip = upload_clip(app_client, fixtures, tmp_path, badge)
    queue = app_client.get("/api/v1/review/queue", params={"badge_number": badge}).json()
    assert queue["total"] == 1 and queue["items"][0]["clip_id"] == clip["id"]
    assert queue["items"][0]["officer_name"] == "Lee Park" and queue["items"][0]["poster"] is None
    queue_page = page(app_client.get("/queue", params={"badge_number": badge}))
    assert "Lee Park" in text(one(queue_page, f'#queue-rows tr[data-clip="{clip["id"]}"]'))
    assert text(one(queue_page, ".queue-summary")).startswith("1–1 of 1 ")


def test_courses_list_their_lessons_with_items_and_length(app_client):
    title = unique("Course")
    course = app_client.post("/api/v1/courses", json={"title": title}).json()
    lesson = app_client.post(f"/api/v1/courses/{course['id']}/lessons", json={"title": "Opening"}).json()
    listed = next(c for c in app_client.get("/api/v1/courses").json() if c["id"] == course["id"])
    assert listed["lessons"] == [
        {
            **{k: lesson[k] for k in ("id", "course_id", "title", "summary", "position", "created_at")},
            "state": "draft",  # not published yet
            "published_at": None,
            "published_by_name": None,
            "items": 0,
            "duration": 0.0,
        }
    ]
