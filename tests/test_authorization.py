"""The authorization matrix, built from the app's own route table.

A route without a declared policy fails here, so a new endpoint cannot ship open by accident.
Every route × every role (and anonymous, and an ingest service token) is called; a caller outside
the policy must get 401 (anonymous) or 403, a caller inside it must get past the policy.
"""

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.users.models import Role
from tests.accounts import bearer, fresh_copy, make_user

PUBLIC = {
    ("POST", "/api/v1/auth/login"),
    ("GET", "/api/v1/health"),
    ("GET", "/"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/reset"),
    ("POST", "/reset"),
}  # "/" only redirects: to /login, or to the caller's start page
POLICY_REFUSAL = "this needs the role"


def policies(route: APIRoute) -> list:
    found, stack = [], [route.dependant]
    while stack:
        dependant = stack.pop()
        if hasattr(dependant.call, "allowed_roles"):
            found.append(dependant.call)
        stack.extend(dependant.dependencies)
    return found


def routes(app) -> list[tuple[str, str, APIRoute]]:
    """Every API route, included routers flattened (FastAPI keeps them nested since 0.16x)."""
    from fastapi import routing

    if hasattr(routing, "iter_route_contexts"):
        found = [(ctx.path, ctx.route) for ctx in routing.iter_route_contexts(app.routes)]
    else:
        found = [(route.path, route) for route in app.routes]
    return [
        (method, path, route)
        for path, route in found
        if isinstance(route, APIRoute)
        for method in sorted(route.methods - {"HEAD"})
    ]


def test_every_route_declares_exactly_one_policy(app):
    missing = [f"{m} {p}" for m, p, r in routes(app) if len(policies(r)) != 1]
    assert not missing, f"routes without exactly one policy: {missing}"
    public = {(m, p) for m, p, r in routes(app) if policies(r)[0].allowed_roles is None}
    assert public == PUBLIC, "only sign-in, password reset, health and their pages are public"


@pytest.fixture(scope="module")
def callers(app, app_client):
    """A client per role, one anonymous, one with an ingest service token."""
    clients = {}
    for role in Role:
        _, token = make_user(roles=[role.value], badge=f"m-{role.value}")
        clients[role.value] = TestClient(app, headers=bearer(token))
    clients["anonymous"] = TestClient(app)
    service = app_client.post("/api/v1/tokens", json={"name": "matrix-ingest", "scope": "ingest"}).json()["token"]
    clients["ingest-token"] = TestClient(app, headers=bearer(service))
    return clients


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "999999", path)


@pytest.mark.parametrize("caller", [r.value for r in Role] + ["anonymous", "ingest-token"])
def test_matrix(app, callers, caller):
    client = callers[caller]
    wrong = []
    for method, path, route in routes(app):
        policy = policies(route)[0]
        if policy.allowed_roles is None:
            continue
        allowed = caller in {r.value for r in policy.allowed_roles} or (
            caller == "ingest-token" and policy.allowed_scope == "ingest"
        )
        response = client.request(method, concrete(path), json={}, follow_redirects=False)
        body = response.json() if "json" in response.headers.get("content-type", "") else None
        detail = body.get("detail", "") if isinstance(body, dict) else response.text  # pages answer in HTML
        refused_by_policy = response.status_code == 401 or (
            response.status_code == 403 and POLICY_REFUSAL in str(detail)
        )
        if caller == "anonymous" and getattr(policy, "page", False):
            ok = response.status_code == 303 and response.headers["location"].startswith("/login")
        elif caller == "anonymous":
            ok = response.status_code == 401
        else:
            ok = refused_by_policy != allowed
        if not ok:
            wrong.append(f"{method} {path}: {response.status_code} {str(detail)[:80]} (allowed={allowed})")
    assert not wrong, "\n".join(wrong)


def test_officer_object_rules(app, app_client, fixtures, tmp_path):
    """Own clip vs another officer's clip, for every clip route an officer may call."""
    _, own_token = make_user(roles=["officer"], badge="o-1")
    _, other_token = make_user(roles=["officer"], badge="o-2")
    clip_file = fresh_copy(fixtures / "silent.mkv", tmp_path, "matrix")
    owner, stranger = TestClient(app, headers=bearer(own_token)), TestClient(app, headers=bearer(other_token))
    from tests.services import upload

    clip_id = upload(owner, clip_file, badge_number="o-1").json()["id"]
    officer_routes = [
        (m, p)
        for m, p, r in routes(app)
        if "{clip_id}" in p and Role.OFFICER in (policies(r)[0].allowed_roles or set())
    ]
    assert len(officer_routes) >= 6
    for method, path in officer_routes:
        url = path.replace("{clip_id}", str(clip_id)).replace("{name}", "poster.jpg")
        body = {"categories": ["de-escalation"]} if path.endswith("/tags") else {"text": "answer"}
        theirs = stranger.request(method, url, json=body)
        assert theirs.status_code == 404, f"{method} {url} leaked to another officer: {theirs.status_code}"
        mine = owner.request(method, url, json=body)
        assert mine.status_code not in (401, 403), f"{method} {url} refused to its owner: {mine.text}"
