"""The Curriculum, lesson, Admin and Audit pages rendered in-process for each role, and the sample
clips offered on a first run (loaded through the real ingest into the session database)."""

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import select

from api.audit.service import Actor
from api.clips.models import Clip, ClipStatus, ClipTag
from api.db import session_scope
from tests.accounts import PASSWORD, bearer, fresh_copy, make_user
from tests.html import attrs, hidden_fields, one, page, row_texts, text, texts


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def client_for(app, roles, badge=None) -> TestClient:
    _, token = make_user(roles=roles, badge=badge)
    return TestClient(app, headers=bearer(token))


@pytest.fixture(scope="module")
def trainer(app):
    with client_for(app, ["trainer"]) as client:
        yield client


def user_row(soup, username: str):
    """The users-table row of one user."""
    return one(soup, f'tbody tr[data-user-id][data-username="{username}"]')


def checked_roles(row) -> set[str]:
    return set(attrs(row, 'input[type=checkbox][name="role"][checked]', "value"))


def audit_rows(soup) -> list[list[str]]:
    """The cells of each record in the audit table (none when there is no table)."""
    return row_texts(soup, "table.audit tbody tr")


def nav_links(soup) -> list[str]:
    return attrs(soup, "header.top nav a", "href")


def lock(username: str) -> None:
    """As five failed sign-ins would (tests/api/test_signin_lockout.py sends them)."""
    from api.users.models import User

    with session_scope() as session:
        user = session.exec(select(User).where(User.username == username)).one()
        user.locked_at, user.locked_until = datetime.now(UTC), datetime.now(UTC) + timedelta(minutes=10)
        session.add(user)


# --- who may open what ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "roles, allowed",
    [
        (["trainer"], {"/curriculum"}),
        (["admin"], {"/curriculum", "/admin", "/admin/audit"}),
        (["reviewer"], set()),
        (["officer"], set()),
        (["committee"], set()),
    ],
)
def test_pages_open_for_their_roles_only(app, roles, allowed):
    with client_for(app, roles, badge=unique("b")) as client:
        for path in ("/curriculum", "/admin", "/admin/audit"):
            response = client.get(path, follow_redirects=False)
            assert response.status_code == (200 if path in allowed else 403), f"{roles} {path}: {response.status_code}"
            if path not in allowed:
                assert "this needs the role" in text(page(response))  # the HTML error page, not JSON
        if "/curriculum" in allowed:
            nav = nav_links(page(client.get("/curriculum")))
            assert ("/admin" in nav) == ("admin" in roles), "the Admin link shows for admins only"


def test_anonymous_is_sent_to_sign_in(anonymous):
    for path in ("/curriculum", "/curriculum/lessons/1", "/admin", "/admin/audit", "/admin/fragments/users"):
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == f"/login?next={path}"
    refused = anonymous.post("/admin/samples", data={"load": "samples"}, follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"].startswith("/login")


def test_the_sign_in_page_says_why_a_session_ended_and_why_an_account_is_locked(app):
    from sqlalchemy import update

    from api.auth import SESSION_COOKIE
    from api.users.models import AuthSession
    from api.users.service import token_hash

    name = unique("ended")
    make_user(name, ["trainer"])
    browser = TestClient(app, client=("192.0.2.10", 50000))  # an address of its own: no one else's throttle

    def sign_in(password):  # as a browser does: the form's hidden fields (its CSRF token) come along
        hidden = hidden_fields(one(page(browser.get("/login")), 'form[method="post"][action="/login"]'))
        return browser.post("/login", data={**hidden, "username": name, "password": password}, follow_redirects=False)

    assert sign_in(PASSWORD).status_code == 303
    assert browser.get("/curriculum").status_code == 200
    with session_scope() as session:  # the session went idle
        session.execute(
            update(AuthSession)
            .values(last_seen_at=datetime.now(UTC) - timedelta(hours=1))
            .where(AuthSession.token_hash == token_hash(browser.cookies[SESSION_COOKIE]))
        )
    ended = browser.get("/curriculum", follow_redirects=False)
    assert ended.headers["location"] == "/login?next=/curriculum&ended=1"
    assert "Your session has ended" in text(one(page(browser.get(ended.headers["location"])), "main"))
    again = browser.get("/curriculum", follow_redirects=False)  # the stale cookie is gone: said once
    assert again.headers["location"] == "/login?next=/curriculum"

    lock(name)
    locked = sign_in(PASSWORD)  # the answer to a wrong password, which says that accounts lock
    assert locked.status_code == 401
    assert any("locked for 10 minutes" in alert for alert in texts(page(locked), '[role="alert"]'))


def test_a_trainer_cannot_load_samples_or_read_admin_fragments(trainer):
    assert trainer.post("/admin/samples", data={"load": "samples"}, follow_redirects=False).status_code == 403
    assert trainer.get("/admin/fragments/users").status_code == 403


# --- admin: users, tokens, rubric -------------------------------------------------------------


def test_admin_page_lists_users_and_offers_unlock_for_a_locked_one(app_client, anonymous):
    locked, fine = unique("locked"), unique("fine")
    make_user(locked, ["officer"], badge=unique("b"))
    make_user(fine, ["trainer", "reviewer"])
    lock(locked)

    def admin_page(q: str):  # found by name: the whole suite's users fill more than one page
        response = app_client.get("/admin", params={"q": q})
        assert response.status_code == 200
        return page(response)

    admin = admin_page(locked)
    assert {"Users and roles", "API tokens", "Review rubric"} <= set(texts(admin, "h2"))
    row = user_row(admin, locked)
    assert one(row, 'button[data-action="unlock"]') and "locked" in texts(row, ".bad")
    other = user_row(admin_page(fine), fine)
    assert not other.select('[data-action="unlock"]') and one(other, 'button[data-action="disable"]')
    assert checked_roles(other) == {"trainer", "reviewer"}
    me = user_row(admin_page("tester"), "tester")  # the signed-in admin cannot lock themself out
    own_admin = one(me, 'input[type=checkbox][name="role"][value="admin"]')
    assert not me.select('[data-action="disable"]') and own_admin.has_attr("checked") and own_admin.has_attr("disabled")

    user_id = row["data-user-id"]
    assert app_client.post(f"/api/v1/users/{user_id}/unlock").status_code == 200
    searched = app_client.get("/admin/fragments/users", params={"q": locked})
    assert searched.status_code == 200
    fragment = page(searched)
    assert not fragment.select("html") and not fragment.select("body"), "a fragment, not a whole page"
    assert not user_row(fragment, locked).select('[data-action="unlock"]')
    assert not fragment.select(f'tr[data-username="{fine}"]'), "the search narrows the list"


def test_admin_page_lists_tokens_without_secrets_and_the_rubric(app_client):
    made = app_client.post("/api/v1/tokens", json={"name": unique("push"), "scope": "ingest"}).json()
    tokens = app_client.get("/admin/fragments/tokens")
    assert made["token"] not in tokens.text, "the secret is nowhere in the page"
    row = one(page(tokens), f'tr[data-token-id="{made["id"]}"]')
    assert row["data-token-name"] == made["name"] and text(row.find("td")) == made["name"]
    assert "scope: ingest" in texts(row, ".pill") and one(row, 'button[data-action="revoke"]')
    assert app_client.delete(f"/api/v1/tokens/{made['id']}").status_code == 204
    # Revoked tokens sort after the live ones, possibly onto a later page of the shared test database.
    revoked = next(t for t in app_client.get("/api/v1/tokens").json() if t["id"] == made["id"])
    assert revoked["revoked_at"] is not None
    for shown in page(app_client.get("/admin/fragments/tokens")).select(f'tr[data-token-id="{made["id"]}"]'):
        assert text(one(shown, ".token-state")).startswith("revoked") and not shown.select('[data-action="revoke"]')

    rubric = page(app_client.get("/admin/fragments/rubric"))
    assert one(rubric, 'form.rubric-row[data-key="showed_empathy"]') and one(rubric, 'form.rubric-row[data-new="1"]')


# --- audit ------------------------------------------------------------------------------------


def test_audit_page_filters_and_exports_with_the_same_filters(app_client):
    first, second = make_user(unique("audited"), ["officer"])[0], make_user(unique("audited"), ["officer"])[0]
    response = app_client.get("/admin/audit", params={"object_type": "user", "object_id": str(first)})
    assert response.status_code == 200
    audit = page(response)
    rows = audit_rows(audit)
    assert rows and all(row[4] == f"user {first}" for row in rows)
    assert "user.create" in [row[3] for row in rows]
    assert f"user {second}" not in text(audit)

    nothing = page(app_client.get("/admin/audit", params={"object_id": str(first), "action": "user.unlock"}))
    assert audit_rows(nothing) == [] and "No records match" in text(one(nothing, "main"))

    failures = audit_rows(page(app_client.get("/admin/audit", params={"outcome": "failure"})))
    assert all(row[5] == "failure" for row in failures)

    export = one(audit, 'a[href^="/api/v1/audit/export.csv"]')["href"]
    assert "object_type=user" in export and f"object_id={first}" in export
    csv_lines = app_client.get(export).text.strip().splitlines()
    assert len(csv_lines) - 1 == len(rows) and all(f",user,{first}," in line for line in csv_lines[1:])

    later = app_client.get("/admin/audit", params={"object_id": str(first), "since": "2999-01-01T00:00"})
    assert audit_rows(page(later)) == []
    bad = app_client.get("/admin/audit", params={"object_id": str(first), "since": "last tuesday"})
    assert bad.status_code == 200
    bad = page(bad)
    assert any("is not a date and time" in alert for alert in texts(bad, '[role="alert"]')) and audit_rows(bad)
    assert one(audit, "button#verify-chain")


def test_audit_page_is_paginated(app_client):
    from api.audit.service import record

    with session_scope() as session:
        for n in range(51):
            record(session, Actor("test"), "test.page", details={"n": n})
    audit = page(app_client.get("/admin/audit", params={"action": "test.page"}))
    rows = audit_rows(audit)
    assert len(rows) == 50 and [int(r[0]) for r in rows] == sorted((int(r[0]) for r in rows), reverse=True)
    [older] = [link["href"] for link in audit.select("nav.pager a[href]") if text(link).startswith("Older")]
    assert "action=test.page" in older and f"before={rows[-1][0]}" in older
    app_client.get("/admin/audit")  # a record arrives meanwhile (this view): the next page does not shift
    second = audit_rows(page(app_client.get("/admin/audit" + older)))
    assert len(second) >= 1 and int(second[0][0]) < int(rows[-1][0])
    assert {r[0] for r in rows}.isdisjoint(r[0] for r in second)


# --- curriculum -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def selected_clip(app_client, fixtures, tmp_path_factory) -> int:
    """An uploaded clip, processed (ready, its length set: no worker runs here), selected for training."""
    from tests.services import upload

    copy = fresh_copy(fixtures / "speech.mp4", tmp_path_factory.mktemp("lesson"), unique("lesson"))
    response = upload(app_client, copy, evidence_id="EV-LESSON-1")
    assert response.status_code == 201, response.text
    clip_id = response.json()["id"]
    with session_scope() as session:
        clip = session.get(Clip, clip_id)
        clip.media_info = {"duration": 15.188}
        clip.status = ClipStatus.READY
        session.add(clip)
    assert app_client.post(f"/api/v1/review/{clip_id}/claim").status_code == 200
    decided = app_client.post(f"/api/v1/review/{clip_id}/decisions", json={"kind": "selected_for_training"})
    assert decided.status_code == 201, decided.text
    return clip_id


def test_lesson_page_lists_items_in_order_with_the_player_data(trainer, selected_clip):
    course = trainer.post("/api/v1/courses", json={"title": unique("De-escalation")}).json()
    lesson = trainer.post(f"/api/v1/courses/{course['id']}/lessons", json={"title": "Opening words"}).json()
    items = []
    for title, start, end in (("Greeting", 1.0, 4.0), ("Explaining", 4.0, 8.5), ("Offer of help", 9.0, 15.188)):
        added = trainer.post(
            f"/api/v1/lessons/{lesson['id']}/items",
            json={
                "clip_id": selected_clip,
                "in_point": start,
                "out_point": end,
                "title": title,
                "annotations": [{"at": start + 0.5, "text": f"note for {title}"}],
            },
        )
        assert added.status_code == 201, added.text
        items.append(added.json())
    order = [items[2]["id"], items[0]["id"], items[1]["id"]]
    assert trainer.post(f"/api/v1/lessons/{lesson['id']}/items/reorder", json={"item_ids": order}).status_code == 200

    response = trainer.get(f"/curriculum/lessons/{lesson['id']}")
    assert response.status_code == 200
    lesson_page = page(response)
    items = lesson_page.select("ol.items > li.card.item")
    assert [text(one(item, "strong.item-title")) for item in items] == ["Offer of help", "Greeting", "Explaining"]
    assert [item["data-item-id"] for item in items] == [str(i) for i in order]
    assert [text(one(item, ".segment")) for item in items[:2]] == ["0:09.0 → 0:15.2", "0:01.0 → 0:04.0"]
    assert "note for Greeting" in texts(items[1], "ul.notes li")[0]
    assert "EV-LESSON-1" in text(lesson_page)
    assert one(lesson_page, "button#export-start") and one(lesson_page, "button#play-lesson")
    assert lesson_page.select("video")

    data = json.loads(one(lesson_page, 'script#lesson-items-data[type="application/json"]').string)
    assert [item["id"] for item in data] == order
    assert data[0]["proxy_url"] == f"/api/v1/clips/{selected_clip}/media/proxy.mp4"
    assert (data[0]["in_point"], data[0]["out_point"], data[0]["available"]) == (9.0, 15.188, True)

    partial = trainer.get(f"/curriculum/lessons/{lesson['id']}/items")
    assert partial.status_code == 200
    fragment = page(partial)
    assert not fragment.select("html") and not fragment.select("body"), "a fragment, not a whole page"
    assert attrs(fragment, "li[data-item-id]", "data-item-id")[:3] == [str(i) for i in order]

    curriculum = page(trainer.get("/curriculum"))
    listed = one(curriculum, f'a[href="/curriculum/lessons/{lesson["id"]}"]').find_parent("li")
    assert course["title"] in text(curriculum) and "· 3 items" in text(listed), "the course lists the lesson"
    assert "EV-LESSON-1" in text(curriculum), "the clip is listed"


def test_an_unknown_lesson_is_a_404_page(trainer):
    response = trainer.get("/curriculum/lessons/999999")
    assert response.status_code == 404 and "no lesson 999999" in text(page(response))


# --- the sample clips -------------------------------------------------------------------------


def test_load_samples_creates_the_clips_once(app):
    from api.samples import SAMPLES_DIR, load_samples, sample_rows

    files = sample_rows()
    assert len(files) >= 2
    assert sum(path.stat().st_size for path in SAMPLES_DIR.iterdir()) < 1_000_000
    hashes = {hashlib.sha256(path.read_bytes()).hexdigest() for path, _ in files}

    with session_scope() as session:
        first = load_samples(session, Actor("test"))
    assert not first.problems and len(first.added) + len(first.present) == len(files)
    with session_scope() as session:
        clips = session.exec(select(Clip).where(Clip.sha256.in_(hashes))).all()
        assert len(clips) == len(files)
        assert {c.evidence_id for c in clips} >= {"SAMPLE-0001", "SAMPLE-0002"}
        clip_count = session.exec(select(func.count()).select_from(Clip)).one()
        tag_count = session.exec(select(func.count()).select_from(ClipTag)).one()

    with session_scope() as session:
        again = load_samples(session, Actor("test"))
    assert again.added == [] and not again.problems
    assert sorted(again.present) == sorted(c.id for c in clips)
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(Clip)).one() == clip_count
        assert session.exec(select(func.count()).select_from(ClipTag)).one() == tag_count, "no second tag either"


def test_first_run_offers_the_samples_and_the_form_loads_them(app_client, monkeypatch):
    import review_ui.admin

    monkeypatch.setattr(review_ui.admin, "has_clips", lambda session: False)
    empty = page(app_client.get("/admin"))
    assert "Load the sample clips" in texts(empty, "h2")
    form = one(empty, 'form[method="post"][action="/admin/samples"]')
    assert hidden_fields(form).keys() == {"csrf_token", "load"} and hidden_fields(form)["load"] == "samples"
    monkeypatch.undo()

    assert "Load the sample clips" not in text(page(app_client.get("/admin"))), "no offer once there are clips"
    loaded = app_client.post("/admin/samples", data={"load": "samples"}, follow_redirects=False)
    assert loaded.status_code == 303 and loaded.headers["location"].startswith("/admin?loaded=")
    said = texts(page(app_client.get(loaded.headers["location"])), 'main [role="status"]')
    assert any("sample clip" in status for status in said) and not any("could not be loaded" in s for s in said)


def test_the_samples_form_needs_the_csrf_token_in_a_browser(app):
    from tests.accounts import PASSWORD

    username = unique("admin")
    make_user(username, ["admin"])
    with TestClient(app) as browser:
        assert browser.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD}).status_code == 200
        csrf = one(page(browser.get("/admin")), 'meta[name="csrf-token"]')["content"]
        assert csrf
        refused = browser.post("/admin/samples", data={"load": "samples"}, follow_redirects=False)
        assert refused.status_code == 403 and "CSRF" in refused.text
        done = browser.post("/admin/samples", data={"load": "samples", "csrf_token": csrf}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"].startswith("/admin?loaded=")
