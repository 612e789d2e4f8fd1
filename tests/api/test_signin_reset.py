"""Password resets (a one-time code an admin issues: hashed, single-use, expiring) and the rule
that a password an admin chose is changed at the first sign-in."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from api.audit.service import Actor
from api.db import session_scope
from api.users import service
from api.users.models import PasswordReset
from api.users.service import BAD_RESET, token_hash
from tests.accounts import bearer, make_user
from tests.api.signin_kit import (
    Forms,
    api_sign_in,
    audit_events,
    browser_at,
    fail_paced,
    form_sign_in,
    get_user,
    new_address,
    unique,
)

NEW_PASSWORD = "lantern orchard velvet 82"


def issue(app_client, user_id: int) -> dict:
    response = app_client.post(f"/api/v1/users/{user_id}/reset")
    assert response.status_code == 201, response.text
    return response.json()


def csrf_field(client) -> dict:
    """The form token a page that anyone may use hands out (the sign-in page's, here)."""
    return {"csrf_token": Forms(client.get("/login").text).form("/login")["csrf_token"]}


def redeem(client, path: str, password: str = NEW_PASSWORD, repeat: str | None = None):
    """Open the reset link as the user does, and send its form."""
    page = client.get(path)
    fields = Forms(page.text).form("/reset")
    return client.post(
        "/reset",
        data={**fields, "new_password": password, "repeat_password": repeat or password},
        follow_redirects=False,
    )


def test_a_reset_link_lets_the_user_choose_a_password_once(app, app_client):
    name = unique("tara")
    user_id, _ = make_user(name, ["officer"])
    reset = issue(app_client, user_id)
    assert reset["path"] == f"/reset?code={reset['code']}"
    with session_scope() as session:  # kept as a hash only
        row = session.exec(select(PasswordReset).where(PasswordReset.user_id == user_id)).one()
        assert row.code_hash == token_hash(reset["code"]) and reset["code"] not in row.model_dump_json()
    assert (
        timedelta(hours=23, minutes=59)
        < datetime.fromisoformat(reset["expires_at"]) - datetime.now(UTC)
        <= timedelta(hours=24)
    )

    with browser_at(app) as anonymous:
        assert name in anonymous.get(reset["path"]).text, "the page says whose password it sets"
        done = redeem(anonymous, reset["path"])
        assert done.status_code == 303 and done.headers["location"] == "/login?reset=1"
        assert "Your new password is set" in anonymous.get("/login?reset=1").text
        again = anonymous.post(
            "/reset",
            data={
                **csrf_field(anonymous),
                "code": reset["code"],
                "new_password": "another fine secret 77",
                "repeat_password": "another fine secret 77",
            },
        )
        assert again.status_code == 400 and BAD_RESET in again.text, "a code works once"
        assert api_sign_in(anonymous, name).status_code == 401, "the old password is gone"
        signed_in = api_sign_in(anonymous, name, NEW_PASSWORD)
        assert signed_in.status_code == 200 and signed_in.json()["user"]["must_change_password"] is False
    assert [e.action for e in audit_events("user.reset_issue", object_id=str(user_id))] == ["user.reset_issue"]
    assert len(audit_events("user.reset", object_id=str(user_id), outcome="success")) == 1


def test_an_expired_or_replaced_code_does_not_work(app, app_client):
    user_id, _ = make_user(unique("uma"), ["officer"])
    first, second = issue(app_client, user_id), issue(app_client, user_id)
    with browser_at(app) as anonymous:
        assert BAD_RESET in anonymous.get(first["path"]).text, "a new code replaces the one before"
        with session_scope() as session:
            row = session.exec(select(PasswordReset).where(PasswordReset.code_hash == token_hash(second["code"]))).one()
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
            session.add(row)
        page = anonymous.get(second["path"])
        assert BAD_RESET in page.text and not any(
            f["action"] == "/reset" and f["method"] == "post" for f in Forms(page.text).forms
        )
        assert BAD_RESET in anonymous.get("/reset?code=made-up").text


def test_a_weak_password_is_refused_and_the_code_still_works(app, app_client):
    name = unique("vera")
    user_id, _ = make_user(name, ["officer"])
    reset = issue(app_client, user_id)
    with browser_at(app) as anonymous:
        weak = redeem(anonymous, reset["path"], "Summer2026!!")
        assert weak.status_code == 400 and "too easy to guess" in weak.text
        differ = redeem(anonymous, reset["path"], NEW_PASSWORD, repeat=NEW_PASSWORD + "x")
        assert differ.status_code == 400 and "differ" in differ.text
        assert redeem(anonymous, reset["path"]).status_code == 303


def test_a_bad_code_posted_is_refused_and_audited_with_its_source(app):
    address = new_address()
    with browser_at(app, address) as anonymous:
        refused = anonymous.post(
            "/reset",
            data={
                **csrf_field(anonymous),
                "code": "made-up",
                "new_password": NEW_PASSWORD,
                "repeat_password": NEW_PASSWORD,
            },
        )
    assert refused.status_code == 400 and BAD_RESET in refused.text
    assert len(audit_events("user.reset", outcome="failure", source=address)) == 1


def test_a_reset_ends_the_lock_and_the_old_sessions(app, app_client):
    name = unique("wade")
    user_id, _ = make_user(name, ["reviewer"])
    address = new_address()
    with browser_at(app, address) as owner:
        old_session = api_sign_in(owner, name).json()["token"]
        for _ in range(5):
            fail_paced(owner, name, address)
        assert get_user(name).locked
        assert redeem(owner, issue(app_client, user_id)["path"]).status_code == 303
        assert not get_user(name).locked
        assert owner.get("/api/v1/auth/me", headers=bearer(old_session)).status_code == 401
        assert api_sign_in(owner, name, NEW_PASSWORD).status_code == 200


def test_a_user_an_admin_creates_changes_the_password_first(app, app_client):
    name = unique("xena")
    made = app_client.post(
        "/api/v1/users",
        json={
            "username": name,
            "password": "harbor quilt meadow 55",
            "roles": ["reviewer"],
            "display_name": "Xena Quill",
        },
    )
    assert made.status_code == 201 and made.json()["must_change_password"] is True
    with browser_at(app) as browser:
        signed_in = form_sign_in(browser, name, "harbor quilt meadow 55", next_path="/queue")
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/account/password"
        assert "one-time password" in browser.get("/api/v1/clips").json()["detail"]
        assert "Your password was issued for one use" in browser.get("/account/password").text


def test_the_reset_page_needs_its_form_token(app, app_client):
    user_id, _ = make_user(unique("yuri"), ["officer"])
    reset = issue(app_client, user_id)
    with browser_at(app) as anonymous:
        refused = anonymous.post(
            "/reset", data={"code": reset["code"], "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD}
        )
        assert refused.status_code == 403
        assert redeem(anonymous, reset["path"]).status_code == 303, "the code was not spent by the refused post"


def test_only_admins_issue_resets(app):
    user_id, token = make_user(unique("zack"), ["reviewer"])
    with browser_at(app) as reviewer:
        assert reviewer.post(f"/api/v1/users/{user_id}/reset", headers=bearer(token)).status_code == 403


def test_two_requests_with_one_code_set_one_password(app, monkeypatch):
    """The second of two requests that both found the code open is refused: the claim re-checks."""
    user_id, _ = make_user(unique("abel"), ["officer"])
    with session_scope() as session:
        _, code = service.issue_password_reset(session, Actor("test"), session.get(service.User, user_id))
    with pytest.raises(service.AccountError), session_scope() as late:
        seen_open = service.open_password_reset(late, code)
        with session_scope() as first:
            service.redeem_password_reset(first, code, NEW_PASSWORD, None)
        monkeypatch.setattr(service, "open_password_reset", lambda *_: seen_open)
        service.redeem_password_reset(late, code, "another fine secret 77", None)
    with session_scope() as session:
        assert service.verify_password(NEW_PASSWORD, session.get(service.User, user_id).password_hash)
