"""Sign-in, sessions, lockout, CSRF, tokens, and who sees which clip."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from api.db import session_scope
from api.users.models import AuthSession
from api.users.service import token_hash
from tests.accounts import PASSWORD, bearer, fresh_copy, make_user
from tests.services import upload


@pytest.fixture
def browser(app):
    """A fresh cookie jar."""
    with TestClient(app) as client:
        yield client


def sign_in(client, username, password=PASSWORD):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_login_sets_an_httponly_samesite_cookie_and_returns_a_token(browser, anonymous):
    make_user("casey", ["reviewer"])
    response = sign_in(browser, "casey")
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    body = response.json()
    assert body["user"]["roles"] == ["reviewer"] and body["token"] and body["csrf_token"]
    assert browser.get("/api/v1/auth/me").json()["name"] == "casey"  # by cookie
    assert anonymous.get("/api/v1/auth/me", headers=bearer(body["token"])).json()["name"] == "casey"


def test_every_route_but_login_and_health_wants_a_sign_in(anonymous):
    assert anonymous.get("/api/v1/health").status_code == 200
    assert anonymous.get("/api/v1/clips").status_code == 401
    assert anonymous.get("/", follow_redirects=False).headers["location"] == "/login"
    assert (
        anonymous.get("/account/password", follow_redirects=False).headers["location"]
        == "/login?next=/account/password"
    )


def test_logout_ends_the_session_at_once(browser):
    make_user("dana", ["reviewer"])
    token = sign_in(browser, "dana").json()["token"]
    csrf = browser.get("/api/v1/auth/me").json()["csrf_token"]
    assert browser.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert browser.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401


def test_cookie_posts_need_the_csrf_token(browser, fixtures, tmp_path):
    make_user("erin", ["officer"], badge="300")
    sign_in(browser, "erin")
    csrf = browser.get("/api/v1/auth/me").json()["csrf_token"]
    clip = fresh_copy(fixtures / "silent.mkv", tmp_path, "csrf")
    refused = upload(browser, clip, badge_number="300")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    browser.headers["X-CSRF-Token"] = csrf
    assert upload(browser, clip, badge_number="300").status_code == 201


# Lockout and throttling: tests/api/test_signin_lockout.py and test_signin_throttle.py.


@pytest.mark.parametrize("column, age", [("last_seen_at", timedelta(minutes=31)), ("created_at", timedelta(hours=13))])
def test_sessions_expire_when_idle_or_old(browser, column, age):
    make_user(f"hal-{column}", ["reviewer"])
    token = sign_in(browser, f"hal-{column}").json()["token"]
    assert browser.get("/api/v1/auth/me").status_code == 200
    with session_scope() as session:
        session.execute(
            update(AuthSession)
            .values({column: datetime.now(UTC) - age})
            .where(AuthSession.token_hash == token_hash(token))
        )
    assert browser.get("/api/v1/auth/me").status_code == 401


def test_disabling_an_account_ends_its_sessions_and_tokens(browser, app_client):
    user_id, api_token = make_user("ivan", ["reviewer"])
    session_token = sign_in(browser, "ivan").json()["token"]
    assert app_client.patch(f"/api/v1/users/{user_id}", json={"active": False}).json()["active"] is False
    assert browser.get("/api/v1/auth/me", headers=bearer(session_token)).status_code == 401
    assert browser.get("/api/v1/auth/me", headers=bearer(api_token)).status_code == 401
    assert sign_in(browser, "ivan").status_code == 403


@pytest.mark.parametrize(
    "password, reason",
    [
        ("short1", "at least 12"),
        ("password1234", "This is a very common password."),  # zxcvbn's own warning
        ("qwertyuiop123", "too easy to guess"),
        ("Summer2026!!", "too easy to guess"),
        ("jane-the-reviewer", "username"),
    ],
)
def test_weak_passwords_are_refused(app_client, password, reason):
    response = app_client.post("/api/v1/users", json={"username": "jane", "password": password, "roles": ["reviewer"]})
    assert response.status_code == 422 and reason in response.json()["detail"]


def test_a_one_time_password_must_be_changed_first(browser):
    from api.audit.service import Actor
    from api.users import service

    password = "issued-once-by-admin-9"
    with session_scope() as session:
        service.create_user(session, Actor("test"), "kim", password, ["reviewer"], must_change_password=True)
    token = sign_in(browser, "kim", password).json()["token"]
    blocked = browser.get("/api/v1/clips", headers=bearer(token))
    assert blocked.status_code == 403 and "one-time password" in blocked.json()["detail"]
    changed = browser.post(
        "/api/v1/auth/password",
        headers=bearer(token),
        json={"current_password": password, "new_password": "a much better secret 7"},
    )
    assert changed.status_code == 204
    assert browser.get("/api/v1/clips", headers=bearer(token)).status_code == 200


def test_service_token_may_only_ingest(app, app_client, fixtures, tmp_path):
    token = app_client.post("/api/v1/tokens", json={"name": "evidence", "scope": "ingest"}).json()["token"]
    with TestClient(app, headers=bearer(token)) as evidence:
        clip = fresh_copy(fixtures / "mjpeg_pcm.avi", tmp_path, "ingest")
        assert upload(evidence, clip, badge_number="555").status_code == 201
        assert evidence.get("/api/v1/clips").status_code == 403


def test_officers_see_only_their_own_clips(app, app_client, fixtures, tmp_path):
    _, mine = make_user(roles=["officer"], badge="700")
    _, theirs = make_user(roles=["officer"], badge="701")
    clip_file = fresh_copy(fixtures / "silent.mkv", tmp_path, "own")
    with TestClient(app, headers=bearer(mine)) as officer, TestClient(app, headers=bearer(theirs)) as other:
        created = upload(officer, clip_file, badge_number="700")
        assert created.status_code == 201, created.text
        clip_id = created.json()["id"]
        assert [c["id"] for c in officer.get("/api/v1/clips").json()] == [clip_id]
        assert other.get("/api/v1/clips").json() == []
        for path in ("", "/transcript", "/provenance", "/review", "/media/poster.jpg"):
            assert other.get(f"/api/v1/clips/{clip_id}{path}").status_code == 404, path
        assert officer.get(f"/api/v1/clips/{clip_id}").status_code == 200
        assert upload(officer, fixtures / "speech.mp4", badge_number="701").status_code == 403
    assert app_client.get(f"/api/v1/clips/{clip_id}").status_code == 200  # reviewers see all
