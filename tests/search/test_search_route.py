"""GET /api/v1/search through the real app and its authentication: who finds what."""

import pytest
from fastapi.testclient import TestClient

from api.clips.models import Clip
from api.db import session_scope
from api.search.service import index_clip
from tests.accounts import bearer, make_user
from tests.search.test_search import NARCAN
from tests.services import upload


@pytest.fixture(scope="module")
def client(app):
    if not any(getattr(route, "path", "") == "/api/v1/search" for route in app.routes):
        from api.search.routes import router  # until api/app.py includes it

        app.include_router(router)
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def narcan_clip(app_client, fixtures) -> int:
    """An upload by badge 8101 (the queue holds the pipeline's jobs; we index a transcript ourselves)."""
    response = upload(
        app_client,
        fixtures / "silent.mkv",
        badge_number="8101",
        evidence_id="EV-SEARCH-8101",
        categories="life-saving",
        note="bystander helped with compressions",
    )
    assert response.status_code == 201, response.text
    clip_id = response.json()["id"]
    with session_scope() as session:
        index_clip(session, session.get(Clip, clip_id), NARCAN)
    return clip_id


def test_a_reviewer_finds_any_clip_and_jumps_into_it(client, narcan_clip):
    _, token = make_user(roles=("reviewer",))
    body = client.get("/api/v1/search", params={"q": "narcan", "badge_number": "8101"}, headers=bearer(token)).json()
    (result,) = body["results"]
    assert result["clip"]["id"] == narcan_clip and result["clip"]["evidence_id"] == "EV-SEARCH-8101"
    hit = result["hits"][0]
    narcan = next(w for w in NARCAN["segments"][1]["words"] if w["word"].startswith("Narcan"))
    assert hit["kind"] == "transcript" and hit["at"] == narcan["start"]
    assert "<mark>Narcan</mark>" in hit["snippet"]


def test_an_officer_finds_only_their_own_clips(client, narcan_clip):
    _, own = make_user(roles=("officer",), badge="8101")
    _, other = make_user(roles=("officer",), badge="8102")
    _, no_badge = make_user(roles=("officer",))
    query = {"q": "EV-SEARCH-8101"}
    found = client.get("/api/v1/search", params=query, headers=bearer(own)).json()["results"]
    assert [r["clip"]["id"] for r in found] == [narcan_clip]
    for token in (other, no_badge):
        assert client.get("/api/v1/search", params=query, headers=bearer(token)).json()["results"] == []
        narrowed = {**query, "badge_number": "8101"}
        assert client.get("/api/v1/search", params=narrowed, headers=bearer(token)).json()["results"] == []


def test_filters_are_checked_and_strangers_are_refused(client, narcan_clip):
    _, token = make_user(roles=("reviewer",))
    assert (
        client.get("/api/v1/search", params={"q": "narcan", "status": "nonsense"}, headers=bearer(token)).status_code
        == 422
    )
    assert client.get("/api/v1/search", params={"q": ""}, headers=bearer(token)).status_code == 422
    assert (
        client.get("/api/v1/search", params={"q": "x", "division": "a\x00b"}, headers=bearer(token)).status_code == 422
    )
    assert client.get("/api/v1/search", params={"q": "x", "offset": 10**20}, headers=bearer(token)).status_code == 422
    assert (
        client.get("/api/v1/search", params={"q": "narcan", "date_to": "9999-12-31"}, headers=bearer(token)).status_code
        == 200
    )
    found = client.get(
        "/api/v1/search",
        params={"q": "compressions", "status": "processing", "category": "life-saving", "date_from": "2026-01-01"},
        headers=bearer(token),
    ).json()
    assert narcan_clip in [r["clip"]["id"] for r in found["results"]]
    assert client.get("/api/v1/search", params={"q": "narcan"}).status_code == 401
