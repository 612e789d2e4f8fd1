"""Customer-satisfaction surveys: the import (row by row, idempotent by survey id), the link to
clips by incident number and badge, comments shown without personal details, and C-SAT by month."""

import uuid

import pytest

from api.audit.service import Actor
from api.db import session_scope
from api.surveys import service
from api.surveys.rows import read_rows
from tests.accounts import bearer, fresh_copy, make_user
from tests.services import upload

ADMIN = Actor("survey-admin")
pytestmark = pytest.mark.usefixtures("app")  # the migrated database
HEADER = "survey_id,incident_number,date,division,score,comment,badge\n"


def _csv(*lines: str) -> bytes:
    return (HEADER + "\n".join(lines) + "\n").encode()


def _import(data: bytes):
    with session_scope() as session:
        return service.import_file(session, ADMIN, "export.csv", data)


def test_each_bad_row_is_reported_and_the_good_rows_are_taken():
    rows, refusals = read_rows(
        _csv(
            "S-1,I-1,2026-11-02,Metro,5,Great,4711",
            "S-2,I-1,11/03/2026,Metro,84%,,",
            "S-3,I-2,2026-13-01,Metro,4,,",
            "S-4,I-2,2026-11-04,Metro,great,,",
            "S-5,,2026-11-04,Metro,3,,",
            "S-6,I-3,2026-11-04,Metro,140%,,",
            "S-1,I-9,2026-11-04,Metro,2,,",
        )
    )
    assert [(r.survey_id, r.score, r.scale) for r in rows] == [("S-1", 5.0, "1-5"), ("S-2", 84.0, "percent")]
    assert rows[0].satisfaction == 1.0 and rows[1].satisfaction == 0.84
    problems = {r["line"]: r["problem"] for r in refusals}
    assert set(problems) == {4, 5, 6, 7, 8}
    assert "date '2026-13-01'" in problems[4]
    assert "score 'great' is neither 1 to 5 nor a percentage" in problems[5]
    assert problems[6] == "incident_number is empty"
    assert "score '140%'" in problems[7]
    assert "appears twice" in problems[8]


def test_a_file_without_the_columns_is_refused_as_a_whole():
    with pytest.raises(ValueError, match="lacks incident_number, score"):
        _import(b"survey_id,date\nS-1,2026-11-02\n")


def test_importing_the_same_file_again_changes_nothing_and_a_changed_row_is_refused():
    tag = uuid.uuid4().hex[:6]
    data = _csv(f"{tag}-1,I-{tag},2026-11-02,Metro,5,,", f"{tag}-2,I-{tag},2026-11-03,Metro,2,,")
    first = _import(data)
    assert (first.rows, first.accepted, first.unchanged, first.refused) == (2, 2, 0, 0)
    again = _import(data)
    assert (again.rows, again.accepted, again.unchanged, again.refused) == (2, 0, 2, 0)
    changed = _import(_csv(f"{tag}-1,I-{tag},2026-11-02,Metro,1,,"))
    assert (changed.accepted, changed.refused) == (0, 1)
    assert "imported before with other values" in changed.refusals[0]["problem"]


def test_responses_link_to_their_incidents_clips_and_comments_lose_personal_details(app_client, fixtures, tmp_path):
    tag = uuid.uuid4().hex[:6]
    incident = f"2026-{tag}"
    ours = upload(app_client, fresh_copy(fixtures / "silent.mkv", tmp_path, f"s{tag}"), incident_number=incident)
    other_officer = upload(
        app_client,
        fresh_copy(fixtures / "silent.mkv", tmp_path, f"o{tag}"),
        incident_number=incident,
        badge_number="r-1",
    )
    batch = _import(
        _csv(
            f'{tag}-a,{incident},2026-11-02,Metro,5,"Officer Reyes was kind. I live at 1412 Parkwood Avenue, call me at 704-555-0142.",4711',
            f"{tag}-b,{incident},2026-11-05,Metro,2,,",
            f"{tag}-c,OTHER-{tag},2026-11-05,Metro,5,,",
        )
    )
    clip_id, other_id = ours.json()["id"], other_officer.json()["id"]

    before = app_client.get(f"/api/v1/clips/{clip_id}/surveys").json()
    assert [s["survey_id"] for s in before] == [f"{tag}-b", f"{tag}-a"]  # newest first; not the other incident's
    with session_scope() as session:
        assert service.redact_comments(session, batch.id) == 1  # what the worker's job runs
    _, reviewer = make_user(roles=["reviewer"])
    seen = {
        s["survey_id"]: s for s in app_client.get(f"/api/v1/clips/{clip_id}/surveys", headers=bearer(reviewer)).json()
    }
    assert seen[f"{tag}-a"]["satisfied"] is True and seen[f"{tag}-a"]["score"] == "5 of 5"
    shown = seen[f"{tag}-a"]["comment"]
    assert "Parkwood" not in shown and "0142" not in shown and shown.count("[redacted]") == 2
    assert "Officer Reyes was kind." in shown
    as_sent = app_client.get(f"/api/v1/clips/{clip_id}/surveys").json()  # an admin
    assert "1412 Parkwood Avenue" in next(s["comment"] for s in as_sent if s["survey_id"] == f"{tag}-a")
    # The badged response is about officer 4711 only; the unbadged one about every clip of the incident.
    assert [s["survey_id"] for s in app_client.get(f"/api/v1/clips/{other_id}/surveys").json()] == [f"{tag}-b"]


def test_the_import_is_for_admins_and_csat_is_counted_by_month_and_division(app_client):
    tag = uuid.uuid4().hex[:6]
    division = f"D-{tag}"
    data = _csv(
        f"{tag}-1,I-{tag},2026-10-30,{division},5,,",
        f"{tag}-2,I-{tag},2026-10-31,{division},3,,",
        f"{tag}-3,I-{tag},2026-11-01,{division},80%,,",
    )
    _, reviewer = make_user(roles=["reviewer"])
    refused = app_client.post(
        "/api/v1/surveys/import", content=data, headers={**bearer(reviewer), "Content-Type": "text/csv"}
    )
    assert refused.status_code == 403
    response = app_client.post(
        "/api/v1/surveys/import?filename=oct.csv", content=data, headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["accepted"] == 3 and response.json()["filename"] == "oct.csv"
    cells = [c for c in app_client.get("/api/v1/surveys/csat").json() if c["division"] == division]
    assert cells == [
        {"month": "2026-10", "division": division, "responses": 2, "satisfied": 1, "csat": 0.5},
        {"month": "2026-11", "division": division, "responses": 1, "satisfied": 1, "csat": 1.0},
    ]
    audit = app_client.get("/api/v1/audit", params={"action": "surveys.import"}).json()
    assert any(e["details"].get("file") == "oct.csv" for e in audit)
