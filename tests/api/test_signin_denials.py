"""Refusals are audited (outcome "denied"): a policy's 403, and a clip that exists but is not the
caller's (whose answer stays the 404 of a clip that does not exist)."""

from tests.accounts import PASSWORD, bearer, fresh_copy, make_user
from tests.api.signin_kit import audit_events, browser_at, unique
from tests.services import upload


def test_a_policy_refusal_is_audited_as_denied(app, app_client):
    name = unique("eli")
    _, token = make_user(name, ["officer"])
    with browser_at(app) as officer:
        assert officer.get("/api/v1/users", headers=bearer(token)).status_code == 403
    denied = [e for e in audit_events("access.denied", outcome="denied") if e.actor == name]
    assert len(denied) == 1
    assert denied[0].details["path"] == "/api/v1/users" and "this needs the role admin" in denied[0].details["reason"]
    page = app_client.get("/admin/audit", params={"outcome": "denied", "actor": name})
    assert page.status_code == 200 and "access.denied" in page.text


def test_a_missing_csrf_token_is_audited_as_denied(app):
    name = unique("fay")
    make_user(name, ["reviewer"])
    with browser_at(app) as browser:
        browser.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        assert browser.post("/api/v1/auth/logout").status_code == 403
    (denied,) = [e for e in audit_events("access.denied") if e.actor == name]
    assert "CSRF" in denied.details["reason"]


def test_another_officers_clip_looks_missing_and_the_attempt_is_audited(app, fixtures, tmp_path):
    badge, prier = unique("b"), unique("hal")
    _, owner_token = make_user(unique("gus"), ["officer"], badge=badge)
    _, prier_token = make_user(prier, ["officer"], badge=unique("b"))
    with browser_at(app) as owner, browser_at(app) as other:
        owner.headers.update(bearer(owner_token))
        other.headers.update(bearer(prier_token))
        clip = upload(owner, fresh_copy(fixtures / "silent.mkv", tmp_path, "denied"), badge_number=badge)
        assert clip.status_code == 201, clip.text
        clip_id = clip.json()["id"]
        hidden, missing = other.get(f"/api/v1/clips/{clip_id}"), other.get("/api/v1/clips/99999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == f"no clip {clip_id}" and missing.json()["detail"] == "no clip 99999999"
    denied = [e for e in audit_events("access.denied", outcome="denied") if e.actor == prier]
    assert [(e.object_type, e.object_id) for e in denied] == [("clip", str(clip_id))], "the missing one is not audited"
