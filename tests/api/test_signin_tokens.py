"""API tokens with an expiry: set at creation, refused after it, shown in the admin list."""

from datetime import UTC, datetime, timedelta

from api.db import session_scope
from api.users.models import ApiToken
from tests.accounts import bearer, make_user
from tests.api.signin_kit import browser_at, unique


def test_a_token_with_an_expiry_works_until_then(app, app_client):
    name = unique("dora")
    make_user(name, ["reviewer"])
    made = app_client.post("/api/v1/tokens", json={"name": unique("laptop"), "username": name, "expires_in_days": 30})
    assert made.status_code == 201, made.text
    expires = datetime.fromisoformat(made.json()["expires_at"])
    assert timedelta(days=29, hours=23) < expires - datetime.now(UTC) <= timedelta(days=30)
    with browser_at(app) as script:
        assert script.get("/api/v1/auth/me", headers=bearer(made.json()["token"])).status_code == 200
        with session_scope() as session:
            token = session.get(ApiToken, made.json()["id"])
            token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
            session.add(token)
        assert script.get("/api/v1/auth/me", headers=bearer(made.json()["token"])).status_code == 401
    listed = next(t for t in app_client.get("/api/v1/tokens").json() if t["id"] == made.json()["id"])
    assert listed["expires_at"] is not None


def test_a_token_without_an_expiry_lasts_until_revoked(app_client):
    made = app_client.post("/api/v1/tokens", json={"name": unique("push"), "scope": "ingest"}).json()
    assert made["expires_at"] is None


def test_an_expiry_is_one_day_to_ten_years(app_client):
    for days in (0, -1, 3651):
        response = app_client.post("/api/v1/tokens", json={"name": "x", "scope": "ingest", "expires_in_days": days})
        assert response.status_code == 422, days


def test_the_admin_list_shows_when_a_token_expires_and_that_it_has(app_client):
    soon = app_client.post(
        "/api/v1/tokens", json={"name": unique("soon"), "scope": "ingest", "expires_in_days": 1}
    ).json()
    html = app_client.get("/admin/fragments/tokens").text
    row = _row(html, soon["id"])
    assert datetime.fromisoformat(soon["expires_at"]).strftime("%Y-%m-%d %H:%M") in row and "live" in row
    with session_scope() as session:
        token = session.get(ApiToken, soon["id"])
        token.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        session.add(token)
    assert "expired" in _row(app_client.get("/admin/fragments/tokens").text, soon["id"])


def _row(html: str, token_id: int) -> str:
    start = html.index(f'data-token-id="{token_id}"')
    return html[start : html.index("</tr>", start)]
