"""Internal customers: any employee, sworn or civilian, nominates a colleague for an Act of
Excellence (who, what happened, when; a clip they may see, optionally), and it goes to the
committee's same flow. Self-nomination is off unless BESTPART_COMMITTEE_SELF_NOMINATION turns it on;
each nomination records whether the review team or a colleague sent it; recognition history covers
both; awards, cards, the CSV and the certificate name each person with their division or unit.

All through the real app in-process on SQLite, as the people who use it."""

import csv
import io
import uuid

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import select

from api.audit.models import AuditEvent
from api.db import session_scope
from tests.accounts import bearer, fresh_copy, make_user
from tests.services import upload


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def account(app, roles=("officer",), badge=None) -> TestClient:
    name = unique("acct")
    _, token = make_user(name, roles, badge=badge)
    client = TestClient(app, headers=bearer(token))
    client.username = name
    return client


def ok(response, status=200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture(autouse=True)
def default_rules(monkeypatch):
    """The shipped rule (quorum 2, more than half, no self-nomination); a test sets its own."""
    for name in ("QUORUM", "MAJORITY", "SELF_NOMINATION"):
        monkeypatch.delenv(f"BESTPART_COMMITTEE_{name}", raising=False)


@pytest.fixture(scope="module")
def staff(app, app_client, fixtures, tmp_path_factory):
    """A sworn officer (division), a civilian employee (unit), each with an account; a clip of the
    officer's; a clip of someone else's, which neither may see."""
    tag = uuid.uuid4().hex[:6]
    sworn = {"badge": unique("b"), "name": f"Sam Ortiz {tag}", "division": unique("Harbor")}
    civilian = {"badge": unique("e"), "name": f"Robin Vale {tag}", "unit": unique("Records")}
    imported = app_client.post(
        "/api/v1/officers/import",
        content="badge_number,name,division,kind,unit\n"
        f"{sworn['badge']},{sworn['name']},{sworn['division']},sworn,\n"
        f"{civilian['badge']},{civilian['name']},,civilian,{civilian['unit']}\n",
        headers={"Content-Type": "text/csv"},
    )
    assert imported.json()["imported"] == 2, imported.text
    folder = tmp_path_factory.mktemp("peer")
    clips = {}
    for key, badge in (("sworn", sworn["badge"]), ("other", unique("b"))):
        made = upload(
            app_client,
            fresh_copy(fixtures / "silent.mkv", folder, unique("peer")),
            badge_number=badge,
            categories="community-engagement",
        )
        assert made.status_code == 201, made.text
        clips[key] = made.json()["id"]
    sworn["client"] = account(app, ("officer",), sworn["badge"])
    civilian["client"] = account(app, ("officer",), civilian["badge"])  # civilians sign in as employees
    return {"sworn": sworn, "civilian": civilian, "clips": clips, "tag": tag}


def colleague(client, nominee: str, **extra):
    body = {
        "nominee": nominee,
        "narrative": "Stayed late to find a family's lost paperwork.",
        "occurred_on": "2025-05-04",
    }
    return client.post("/api/v1/colleague-nominations", json={**body, **extra})


def committee_votes_it_through(app, nomination_id: int) -> dict:
    last = {}
    for _ in range(2):  # the quorum is two
        last = ok(
            account(app, ("committee",)).post(f"/api/v1/nominations/{nomination_id}/votes", json={"approve": True})
        )
    return last


def created_audit(nomination_id: int) -> dict:
    with session_scope() as session:
        (event,) = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "nomination.create", AuditEvent.object_id == str(nomination_id)
            )
        )
        return event.details


# --- who may nominate whom ------------------------------------------------------------------------


def test_a_civilian_employee_nominates_a_sworn_officer(app, staff):
    sworn, civilian = staff["sworn"], staff["civilian"]
    made = ok(colleague(civilian["client"], sworn["badge"]), 201)
    assert made["state"] == "pending" and made["source"] == "colleague"
    assert made["officers"] == [sworn["badge"]] and made["clips"] == [] and made["occurred_on"] == "2025-05-04"
    (person,) = made["people"]
    assert (person["name"], person["kind"], person["affiliation"]) == (sworn["name"], "sworn", sworn["division"])
    assert made["votes"] is None  # the nominator follows the tally, not each member's vote
    assert created_audit(made["id"])["source"] == "colleague"
    # The nominator reads what they sent; a stranger does not learn it exists.
    assert ok(civilian["client"].get(f"/api/v1/nominations/{made['id']}"))["id"] == made["id"]
    assert account(app).get(f"/api/v1/nominations/{made['id']}").status_code == 404


def test_an_officer_nominates_a_civilian_with_a_moment_of_their_own_clip(app, app_client, staff):
    sworn, civilian = staff["sworn"], staff["civilian"]
    clip_id = staff["clips"]["sworn"]
    made = ok(
        colleague(
            sworn["client"],
            civilian["badge"],
            narrative="Talked a frightened caller through until I arrived.",
            clip={"clip_id": clip_id, "moments": [{"at": 1.5, "note": "on the phone with the caller"}]},
        ),
        201,
    )
    assert made["clips"] == [{"clip_id": clip_id, "moments": [{"at": 1.5, "note": "on the phone with the caller"}]}]
    assert made["category"] == "community-engagement"  # the clip's tags name it
    (person,) = made["people"]
    assert (person["kind"], person["affiliation"], person["unit"]) == ("civilian", civilian["unit"], civilian["unit"])

    # The committee's page shows it pending, from a colleague, naming the civilian with their unit.
    page = BeautifulSoup(app_client.get("/nominations").text, "html.parser")
    card = page.select_one(f"#nomination-{made['id']}")
    assert card and "pending" in card["class"]
    assert card.select_one(".pill.source")["data-source"] == "colleague"
    assert card.select_one(".pill.source").get_text(strip=True) == "from a colleague"
    shown = " ".join(card.select_one(".nominees").get_text(" ", strip=True).split())
    assert civilian["name"] in shown and f"· {civilian['unit']}, civilian" in shown


def test_self_nomination_is_refused_by_default_and_allowed_by_the_setting(app, staff, monkeypatch):
    civilian = staff["civilian"]
    refused = colleague(civilian["client"], civilian["badge"])
    assert refused.status_code == 403 and "yourself" in refused.json()["detail"]
    # The form's search leaves the nominator out while self-nomination is off.
    found = ok(civilian["client"].get("/api/v1/nominees", params={"q": staff["tag"]}))
    assert [p["badge_number"] for p in found] == [staff["sworn"]["badge"]]

    # The review team's nominations follow the same rule.
    reviewer = account(app, ("reviewer",), staff["sworn"]["badge"])
    review_self = reviewer.post(
        "/api/v1/nominations",
        json={
            "officers": [staff["sworn"]["badge"]],
            "clips": [{"clip_id": staff["clips"]["sworn"], "moments": []}],
            "narrative": "Me.",
        },
    )
    assert review_self.status_code == 403, review_self.text

    monkeypatch.setenv("BESTPART_COMMITTEE_SELF_NOMINATION", "true")
    allowed = ok(colleague(civilian["client"], civilian["badge"], narrative="I rebuilt the records index."), 201)
    assert allowed["officers"] == [civilian["badge"]] and allowed["source"] == "colleague"
    found = ok(civilian["client"].get("/api/v1/nominees", params={"q": staff["tag"]}))
    assert {p["badge_number"] for p in found} == {staff["sworn"]["badge"], civilian["badge"]}


def test_a_clip_the_nominator_may_not_see_is_refused(app, staff):
    civilian = staff["civilian"]
    for clip_id in (staff["clips"]["other"], staff["clips"]["sworn"], 10**9):  # another's, the nominee's, none
        refused = colleague(civilian["client"], staff["sworn"]["badge"], clip={"clip_id": clip_id, "moments": []})
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"] == f"no clip {clip_id} among the clips you may see"  # none and not yours alike


def test_what_a_colleague_nomination_needs(app, staff):
    client = staff["civilian"]["client"]
    nobody = colleague(client, unique("nobody"))
    assert nobody.status_code == 422 and "directory" in nobody.json()["detail"]
    future = colleague(client, staff["sworn"]["badge"], occurred_on="2999-01-01")
    assert future.status_code == 422 and "future" in future.json()["detail"]
    assert client.post("/api/v1/colleague-nominations", json={"nominee": staff["sworn"]["badge"]}).status_code == 422


def test_the_directory_search_finds_people_by_name_for_every_employee(app, staff):
    for roles in (("officer",), ("trainer",), ("committee",), ("reviewer",)):
        found = ok(account(app, roles).get("/api/v1/nominees", params={"q": f"vale {staff['tag']}"}))
        assert [(p["badge_number"], p["kind"], p["affiliation"]) for p in found] == [
            (staff["civilian"]["badge"], "civilian", staff["civilian"]["unit"])
        ]
    assert ok(account(app).get("/api/v1/nominees", params={"q": "%_"})) == []  # wildcards are plain characters


def test_every_role_opens_the_form_and_the_awards_page_links_to_it(app, app_client, staff):
    for client in (staff["civilian"]["client"], account(app, ("trainer",)), account(app, ("committee",)), app_client):
        page = client.get("/nominate")
        assert page.status_code == 200, page.text
        form = BeautifulSoup(page.text, "html.parser")
        assert form.select_one("form#nominate-form #nominee-search")
        assert form.select_one("#narrative") and form.select_one("#occurred_on[type=date]")
        assert form.select_one('script[src="/static/nominate.js"]') and not form.select("style, [style]")
    own_clip = BeautifulSoup(
        staff["sworn"]["client"].get("/nominate", params={"clip": staff["clips"]["sworn"], "at": 65}).text,
        "html.parser",
    )
    assert own_clip.select_one("#clip_id")["value"] == str(staff["clips"]["sworn"])
    assert own_clip.select_one("#moment_at")["value"] == "1:05.0"
    others = BeautifulSoup(
        staff["sworn"]["client"].get("/nominate", params={"clip": staff["clips"]["other"]}).text, "html.parser"
    )
    assert others.select_one("#clip_id")["value"] == ""  # not theirs to name
    awards = BeautifulSoup(staff["civilian"]["client"].get("/awards").text, "html.parser")
    assert awards.select_one('a.nominate-link[href="/nominate"]')


# --- the committee's flow, the record, the history --------------------------------------------------


@pytest.fixture(scope="module")
def civilian_award(app, app_client, staff):
    """The officer's nomination of the civilian, voted through by the committee; the award."""
    made = colleague(
        staff["sworn"]["client"],
        staff["civilian"]["badge"],
        narrative="Found the missing evidence log in an hour.",
        occurred_on="2026-02-03",
        category="community-engagement",
    )
    assert made.status_code == 201, made.text
    nomination = made.json()
    decided = committee_votes_it_through(app, nomination["id"])
    assert decided["state"] == "approved" and decided["source"] == "colleague"
    (award_id,) = decided["award_ids"]
    return {"nomination": nomination, "award_id": award_id}


def test_the_committee_votes_a_colleague_nomination_through_to_an_award(app, app_client, staff, civilian_award):
    civilian = staff["civilian"]
    award = ok(app_client.get(f"/api/v1/awards/{civilian_award['award_id']}"))
    assert award["badge_number"] == civilian["badge"] and award["officer_name"] == civilian["name"]
    assert award["division"] == civilian["unit"] and award["kind"] == "civilian"  # the unit, from people()
    assert award["source"] == "colleague" and award["occurred_on"] == "2026-02-03"
    assert award["nominated_by"] == staff["sworn"]["client"].username

    # The civilian reads their own award; its page says Unit, and the certificate no "Division".
    mine = civilian["client"]
    page = BeautifulSoup(mine.get(f"/awards/{civilian_award['award_id']}").text, "html.parser")
    facts = page.select_one(".affiliation").get_text(" ", strip=True)
    assert facts.startswith("Unit") and civilian["unit"] in facts
    assert "a colleague" in page.select_one(".nominated-by").get_text()
    sheet = BeautifulSoup(mine.get(f"/awards/{civilian_award['award_id']}/certificate").text, "html.parser")
    line = sheet.select_one(".badge-line").get_text(" ", strip=True)
    assert line == f"Employee {civilian['badge']} · {civilian['unit']}" and "Division" not in line
    assert sheet.select_one(".recipient").get_text() == civilian["name"]

    # The awards table and the CSV name the person with their unit.
    table = BeautifulSoup(app_client.get("/awards", params={"badge_number": civilian["badge"]}).text, "html.parser")
    (row,) = table.select("tbody tr")
    cells = [td.get_text(" ", strip=True) for td in row.select("td")]
    assert cells[1] == f"{civilian['name']} ({civilian['badge']})" and cells[2] == f"{civilian['unit']} (civilian)"
    assert table.select_one(f'select#badge_number option[value="{civilian["badge"]}"]').get_text() == (
        f"{civilian['name']} ({civilian['badge']}), {civilian['unit']}"
    )
    exported = app_client.get("/api/v1/awards.csv", params={"division": civilian["unit"]})
    (line,) = list(csv.DictReader(io.StringIO(exported.text)))
    assert (line["officer_name"], line["division"], line["kind"], line["source"]) == (
        civilian["name"],
        civilian["unit"],
        "civilian",
        "colleague",
    )


def test_recognition_history_covers_both_kinds_of_nomination(app, app_client, staff, civilian_award):
    sworn, civilian = staff["sworn"], staff["civilian"]
    by_review = ok(
        app_client.post(
            "/api/v1/nominations",
            json={
                "officers": [sworn["badge"]],
                "clips": [{"clip_id": staff["clips"]["sworn"], "moments": []}],
                "narrative": "Textbook community meeting.",
            },
        ),
        201,
    )
    assert by_review["source"] == "review" and by_review["occurred_on"] is None
    by_colleague = ok(colleague(civilian["client"], sworn["badge"], narrative="Covered my desk shift."), 201)

    history = ok(sworn["client"].get(f"/api/v1/officers/{sworn['badge']}/recognition"))
    assert history["officer_name"] == sworn["name"] and history["person"]["affiliation"] == sworn["division"]
    sources = {n["id"]: n["source"] for n in history["nominations"]}
    assert sources[by_review["id"]] == "review" and sources[by_colleague["id"]] == "colleague"
    assert set(sources.values()) == {"review", "colleague"}

    theirs = ok(civilian["client"].get(f"/api/v1/officers/{civilian['badge']}/recognition"))
    assert theirs["person"]["kind"] == "civilian"
    assert [a["id"] for a in theirs["awards"]] == [civilian_award["award_id"]]
    assert theirs["awards"][0]["division"] == civilian["unit"]
    assert civilian_award["nomination"]["id"] in {n["id"] for n in theirs["nominations"]}
    assert civilian["client"].get(f"/api/v1/officers/{sworn['badge']}/recognition").status_code == 404

    only = ok(app_client.get("/api/v1/nominations", params={"badge_number": sworn["badge"], "source": "colleague"}))
    assert by_colleague["id"] in {n["id"] for n in only} and {n["source"] for n in only} == {"colleague"}
