"""The awards committee votes: quorum, majority, recusal, the outcome that follows from the votes,
the audit trail of every vote; an award's page and certificate; the CSV of the awards record.

All through the real app in-process on SQLite, as the people who use it: reviewers nominate,
committee members (and admins) vote, officers read their own."""

import csv
import io
import uuid

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlmodel import select

from api.audit.models import AuditEvent
from api.awards.models import NominationState
from api.awards.service import outcome_of
from api.db import session_scope
from tests.accounts import bearer, fresh_copy, make_user


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def member(app, roles=("committee",), badge=None) -> TestClient:
    """A signed-in account with a name of its own (its votes are recorded under it)."""
    name = unique("member")
    _, token = make_user(name, roles, badge=badge)
    client = TestClient(app, headers=bearer(token))
    client.username = name
    return client


@pytest.fixture(autouse=True)
def default_rules(monkeypatch):
    """Each test starts from the shipped rule (quorum 2, more than half) and sets its own."""
    monkeypatch.delenv("BESTPART_COMMITTEE_QUORUM", raising=False)
    monkeypatch.delenv("BESTPART_COMMITTEE_MAJORITY", raising=False)


@pytest.fixture(scope="module")
def on_file(app, app_client, fixtures, tmp_path_factory):
    """Two officers in the directory (different divisions) and a clip of each, tagged differently."""
    folder = tmp_path_factory.mktemp("committee")
    people = {"a": (unique("b"), unique("North")), "b": (unique("b"), unique("South"))}
    rows = "".join(f"{badge},Officer {key.upper()},{division}\n" for key, (badge, division) in people.items())
    imported = app_client.post(
        "/api/v1/officers/import",
        content="badge_number,name,division\n" + rows,
        headers={"Content-Type": "text/csv"},
    )
    assert imported.json()["imported"] == 2, imported.text
    from tests.services import upload

    clips = {}
    for key, categories in (("a", "life-saving"), ("b", "community-engagement")):
        badge = people[key][0]
        made = upload(
            app_client,
            fresh_copy(fixtures / "silent.mkv", folder, unique("committee")),
            badge_number=badge,
            categories=categories,
        )
        assert made.status_code == 201, made.text
        clips[key] = made.json()["id"]
    return {"people": people, "clips": clips}


def nominate(app_client, on_file, who=("a",), narrative="Kept a crowd calm and got a medic through.", **extra):
    body = {
        "officers": [on_file["people"][k][0] for k in who],
        "clips": [
            {
                "clip_id": on_file["clips"][who[0]],
                "moments": [{"at": 9.5, "note": "the medic"}, {"at": 2, "note": "arrives"}],
            }
        ],
        "narrative": narrative,
        **extra,
    }
    made = app_client.post("/api/v1/nominations", json=body)
    assert made.status_code == 201, made.text
    return made.json()


def cast(client, nomination_id, approve=True, **body):
    return client.post(f"/api/v1/nominations/{nomination_id}/votes", json={"approve": approve, **body})


def ok(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def audit(nomination_id: int) -> list[tuple[str, str, dict]]:
    with session_scope() as session:
        return [
            (e.action, e.actor, e.details)
            for e in session.exec(
                select(AuditEvent)
                .where(AuditEvent.object_type == "nomination", AuditEvent.object_id == str(nomination_id))
                .order_by(AuditEvent.seq)
            )
        ]


def awards_of(app_client, nomination_id: int) -> list[dict]:
    return [a for a in ok(app_client.get("/api/v1/awards")) if a["nomination_id"] == nomination_id]


# --- the rule -----------------------------------------------------------------------------------


def test_the_outcome_follows_from_the_votes_once_the_quorum_is_reached():
    assert outcome_of(1, 0, quorum=2, majority=0.5) is None
    assert outcome_of(2, 0, quorum=2, majority=0.5) == NominationState.APPROVED
    assert outcome_of(1, 1, quorum=2, majority=0.5) == NominationState.DECLINED  # a tie is not a majority
    assert outcome_of(2, 1, quorum=3, majority=0.5) == NominationState.APPROVED
    assert outcome_of(2, 1, quorum=3, majority=0.66) == NominationState.APPROVED  # two thirds
    assert outcome_of(2, 1, quorum=3, majority=0.67) == NominationState.DECLINED
    assert outcome_of(0, 1, quorum=1, majority=0.5) == NominationState.DECLINED


# --- votes, quorum, majority --------------------------------------------------------------------


def test_one_vote_decides_nothing_the_second_reaches_the_quorum_and_the_awards_follow(app, app_client, on_file):
    nomination = nominate(app_client, on_file, who=("a", "b"))
    assert nomination["category"] == "life-saving"  # what the nominated clip's tags name
    first, second = member(app), member(app)

    after_one = ok(cast(first, nomination["id"], award_name="Medal of Merit", awarded_on="2033-04-02"))
    assert after_one["state"] == "pending" and after_one["award_ids"] == []
    assert after_one["tally"] == {
        "votes_for": 1,
        "votes_against": 0,
        "recused": 0,
        "quorum": 2,
        "majority": 0.5,
        "votes_needed": 1,
    }
    assert after_one["my_vote"] == "approve" and [v["voter_name"] for v in after_one["votes"]] == [first.username]
    assert awards_of(app_client, nomination["id"]) == []

    decided = ok(cast(second, nomination["id"], award_name="Some other name"))
    assert decided["state"] == "approved" and decided["award_name"] == "Medal of Merit"  # the first approval names it
    assert decided["decided_by_name"] == f"{first.username}, {second.username}"
    assert decided["tally"]["votes_for"] == 2 and decided["tally"]["votes_needed"] == 0
    awards = awards_of(app_client, nomination["id"])
    assert sorted(a["badge_number"] for a in awards) == sorted(on_file["people"][k][0] for k in "ab")
    assert {a["awarded_on"] for a in awards} == {"2033-04-02"} and {a["category"] for a in awards} == {"life-saving"}
    assert {a["division"] for a in awards} == {on_file["people"][k][1] for k in "ab"}
    assert sorted(decided["award_ids"]) == sorted(a["id"] for a in awards)

    late = cast(member(app), nomination["id"])
    assert late.status_code == 409 and "already approved" in late.json()["detail"]


def test_a_configured_quorum_and_majority_decline_with_the_reasons(app, app_client, on_file, monkeypatch):
    monkeypatch.setenv("BESTPART_COMMITTEE_QUORUM", "3")
    monkeypatch.setenv("BESTPART_COMMITTEE_MAJORITY", "0.66")
    nomination = nominate(app_client, on_file)
    yes, no, no_again = member(app), member(app), member(app)
    ok(cast(yes, nomination["id"]))
    assert ok(cast(no, nomination["id"], approve=False, reason="Routine work."))["state"] == "pending"
    decided = ok(cast(no_again, nomination["id"], approve=False, reason="Not beyond the call."))
    assert decided["state"] == "declined" and decided["award_ids"] == []
    assert decided["decision_reason"] == f"{no.username}: Routine work.; {no_again.username}: Not beyond the call."
    assert decided["tally"] == {
        "votes_for": 1,
        "votes_against": 2,
        "recused": 0,
        "quorum": 3,
        "majority": 0.66,
        "votes_needed": 0,
    }
    assert awards_of(app_client, nomination["id"]) == []

    # Two of three approving clears two thirds (0.66) — and the rule it was decided under is kept.
    nomination = nominate(app_client, on_file)
    for client, approve in ((member(app), True), (member(app), False), (member(app), True)):
        result = ok(cast(client, nomination["id"], approve=approve, reason=None if approve else "Unsure."))
    assert result["state"] == "approved"
    monkeypatch.setenv("BESTPART_COMMITTEE_QUORUM", "5")
    assert ok(app_client.get(f"/api/v1/nominations/{nomination['id']}"))["tally"]["quorum"] == 3


def test_a_tie_at_the_quorum_is_no_majority(app, app_client, on_file):
    nomination = nominate(app_client, on_file)
    ok(cast(member(app), nomination["id"]))
    assert ok(cast(member(app), nomination["id"], approve=False, reason="No."))["state"] == "declined"


def test_each_member_votes_once_with_a_reason_to_decline_and_only_members_vote(app, app_client, on_file):
    nomination = nominate(app_client, on_file)
    voter = member(app)
    no_reason = cast(voter, nomination["id"], approve=False, reason="  ")
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["detail"]
    ok(cast(voter, nomination["id"]))
    again = cast(voter, nomination["id"], approve=False, reason="changed my mind")
    assert again.status_code == 409 and "already voted to approve" in again.json()["detail"]
    assert cast(member(app, ("reviewer",)), nomination["id"]).status_code == 403
    assert cast(member(app, ("officer",), badge=on_file["people"]["a"][0]), nomination["id"]).status_code == 403
    assert cast(member(app), 2_000_000_000).status_code == 404
    state = ok(app_client.get(f"/api/v1/nominations/{nomination['id']}"))
    assert state["state"] == "pending" and state["tally"]["votes_for"] == 1


def test_the_old_decision_route_casts_the_callers_vote(app, app_client, on_file):
    nomination = nominate(app_client, on_file)
    first = ok(app_client.post(f"/api/v1/nominations/{nomination['id']}/decision", json={"approve": True}))
    assert first["state"] == "pending" and first["my_vote"] == "approve"  # the admin's vote, one of two
    second = ok(member(app).post(f"/api/v1/nominations/{nomination['id']}/decision", json={"approve": True}))
    assert second["state"] == "approved" and second["award_name"] == "Act of Excellence"


# --- recusal ------------------------------------------------------------------------------------


def test_a_member_named_in_a_nomination_may_not_vote_on_it(app, app_client, on_file):
    badge = on_file["people"]["b"][0]
    nomination = nominate(app_client, on_file, who=("a", "b"))
    named = member(app, ("committee", "officer"), badge=badge)
    refused = cast(named, nomination["id"])
    assert refused.status_code == 403 and "named in nomination" in refused.json()["detail"]
    page = BeautifulSoup(named.get("/nominations", params={"pending_page": 1}).text, "html.parser")
    card = page.select_one(f"#nomination-{nomination['id']}")
    if card is not None:  # (on the first page of pending ones when few are waiting)
        assert not card.select("form.decide-form") and "you do not vote on it" in card.get_text()
    assert ok(app_client.get(f"/api/v1/nominations/{nomination['id']}"))["tally"]["votes_for"] == 0


def test_an_explicit_recusal_is_recorded_and_counts_toward_nothing(app, app_client, on_file):
    nomination = nominate(app_client, on_file)
    supervisor, voter, other = member(app), member(app), member(app)
    recused = supervisor.post(
        f"/api/v1/nominations/{nomination['id']}/recusal", json={"reason": "I supervise Officer A."}
    )
    standing = ok(recused)
    assert standing["my_vote"] == "recuse" and standing["state"] == "pending"
    assert standing["tally"]["recused"] == 1 and standing["tally"]["votes_needed"] == 2
    assert [(v["voter_name"], v["choice"], v["reason"]) for v in standing["votes"]] == [
        (supervisor.username, "recuse", "I supervise Officer A.")
    ]
    late_vote = cast(supervisor, nomination["id"])
    assert late_vote.status_code == 409 and "recused" in late_vote.json()["detail"]
    ok(cast(voter, nomination["id"]))
    after_vote = voter.post(f"/api/v1/nominations/{nomination['id']}/recusal", json={})
    assert after_vote.status_code == 409 and "already voted" in after_vote.json()["detail"]
    assert ok(cast(other, nomination["id"]))["state"] == "approved"  # two votes; the recusal is not one


# --- the audit trail ----------------------------------------------------------------------------


def test_every_vote_recusal_and_the_outcome_are_audited(app, app_client, on_file):
    nomination = nominate(app_client, on_file)
    stepping_aside, yes, no = member(app), member(app), member(app)
    ok(stepping_aside.post(f"/api/v1/nominations/{nomination['id']}/recusal", json={"reason": "my squad"}))
    ok(cast(yes, nomination["id"], award_name="Lifesaving Award"))
    ok(cast(no, nomination["id"], approve=False, reason="Standard practice."))
    trail = audit(nomination["id"])
    assert [(action, actor) for action, actor, _ in trail] == [
        ("nomination.create", "tester"),
        ("nomination.recuse", stepping_aside.username),
        ("nomination.vote", yes.username),
        ("nomination.vote", no.username),
        ("nomination.decide", no.username),
    ]
    assert trail[1][2] == {"reason": "my squad"}
    assert trail[2][2]["vote"] == "approve" and trail[2][2]["award_name"] == "Lifesaving Award"
    assert trail[3][2]["vote"] == "decline" and trail[3][2]["reason"] == "Standard practice."
    assert trail[4][2] | {"majority": 0.5} == {
        "approved": False,
        "award_name": None,
        "votes_for": 1,
        "votes_against": 1,
        "recused": 1,
        "quorum": 2,
        "majority": 0.5,
    }
    refused = cast(member(app), nomination["id"])  # after the decision: refused, and nothing recorded
    assert refused.status_code == 409 and len(audit(nomination["id"])) == len(trail)


# --- what an officer sees -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def award(app, app_client, on_file):
    """An approved nomination of officer A (with officer B), and A's award."""
    nomination = nominate(
        app_client, on_file, who=("a", "b"), narrative="Pulled a driver from a burning car.", category="life-saving"
    )
    voters = [member(app), member(app)]
    ok(cast(voters[0], nomination["id"], award_name="Medal of Valor", awarded_on="2034-06-01"))
    ok(cast(voters[1], nomination["id"], reason="Clear-cut."))
    badge = on_file["people"]["a"][0]
    (mine,) = [a for a in awards_of(app_client, nomination["id"]) if a["badge_number"] == badge]
    officer = member(app, ("officer",), badge=badge)
    return {"nomination": nomination, "award": mine, "officer": officer, "voters": voters}


def test_an_award_has_its_narrative_moments_decision_and_votes(app_client, award, on_file):
    detail = ok(app_client.get(f"/api/v1/awards/{award['award']['id']}"))
    assert detail["narrative"] == "Pulled a driver from a burning car." and detail["award_name"] == "Medal of Valor"
    assert detail["awarded_on"] == "2034-06-01" and detail["officer_name"] == "Officer A"
    assert detail["with_officers"] == [[on_file["people"]["b"][0], "Officer B"]]
    (clip,) = detail["clips"]
    assert clip["clip_id"] == on_file["clips"]["a"] and clip["viewable"]
    assert [(m["at"], m["note"]) for m in clip["moments"]] == [(2, "arrives"), (9.5, "the medic")]  # in time order
    assert detail["tally"]["votes_for"] == 2 and detail["decided_at"]
    assert [(v["voter_name"], v["choice"]) for v in detail["votes"]] == [
        (v.username, "approve") for v in award["voters"]
    ]


def test_the_officer_sees_their_award_and_the_tally_but_not_each_members_vote(app, award, on_file):
    officer = award["officer"]
    detail = ok(officer.get(f"/api/v1/awards/{award['award']['id']}"))
    assert detail["votes"] is None and detail["tally"]["votes_for"] == 2
    assert detail["clips"][0]["viewable"]  # their own clip
    assert ok(officer.get(f"/api/v1/nominations/{award['nomination']['id']}"))["votes"] is None

    partner = member(app, ("officer",), badge=on_file["people"]["b"][0])
    (theirs,) = ok(partner.get("/api/v1/awards", params={"year": 2034}))
    assert not ok(partner.get(f"/api/v1/awards/{theirs['id']}"))["clips"][0]["viewable"]  # A's clip, not B's
    assert partner.get(f"/api/v1/awards/{award['award']['id']}").status_code == 404  # A's award, not theirs
    assert member(app, ("officer",)).get(f"/api/v1/awards/{award['award']['id']}").status_code == 404


def test_the_award_page_and_certificate(app, app_client, award, on_file):
    award_id = award["award"]["id"]
    page = BeautifulSoup(award["officer"].get(f"/awards/{award_id}").text, "html.parser")
    assert page.select_one("h1").get_text(" ", strip=True).startswith("Medal of Valor: Officer A")
    assert "Pulled a driver from a burning car." in page.select_one(".narrative").get_text()
    clip_id = on_file["clips"]["a"]
    moments = [(a["href"], a.get_text(strip=True)) for a in page.select("ol.moments a.moment")]
    assert moments == [(f"/clips/{clip_id}?t=2.0", "▶ 0:02"), (f"/clips/{clip_id}?t=9.5", "▶ 0:09")]
    assert "2 for and 0 against" in page.select_one("p.decision").get_text()
    assert not page.select("table.votes-table")  # the officer sees the tally, not who voted how
    assert page.select_one(f'a[href="/awards/{award_id}/certificate"]')

    staff = BeautifulSoup(app_client.get(f"/awards/{award_id}").text, "html.parser")
    voters = [row.select("td")[0].get_text() for row in staff.select("table.votes-table tbody tr")]
    assert voters == [v.username for v in award["voters"]]

    certificate = app_client.get(f"/awards/{award_id}/certificate")
    assert certificate.status_code == 200
    sheet = BeautifulSoup(certificate.text, "html.parser")
    assert sheet.select_one(".recipient").get_text() == "Officer A"
    assert sheet.select_one(".award-name").get_text() == "Medal of Valor"
    assert sheet.select_one(".awarded-on time")["datetime"] == "2034-06-01"
    assert sheet.select_one('link[href="/static/certificate.css"]') and not sheet.select("style, [style]")
    assert all(s.get("src") for s in sheet.select("script"))  # no inline script (the CSP)
    css = app_client.get("/static/certificate.css")
    assert css.status_code == 200 and "@media print" in css.text and "landscape" in css.text
    assert member(app, ("officer",)).get(f"/awards/{award_id}/certificate").status_code == 404


# --- the CSV export -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def record(app, app_client, on_file):
    """Awards in 2035 and 2036 across both divisions and two categories, each decided by two votes."""
    made = []
    for who, day, category in (
        ("a", "2035-02-01", "life-saving"),
        ("b", "2035-07-04", "community-engagement"),
        ("a", "2036-03-03", "de-escalation"),
        ("b", "2036-09-09", "life-saving"),
    ):
        nomination = nominate(app_client, on_file, who=(who,), narrative=f'=HYPERLINK("x") on {day}', category=category)
        ok(cast(member(app), nomination["id"], awarded_on=day))
        ok(cast(member(app), nomination["id"]))
        made.append(nomination["id"])
    return made


def rows(response) -> list[dict]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_the_csv_export_filters_by_year_division_and_category(app, app_client, on_file, record):
    export = "/api/v1/awards.csv"
    in_2035 = rows(app_client.get(export, params={"year": 2035}))
    assert [(r["awarded_on"], r["category"]) for r in in_2035] == [
        ("2035-07-04", "community-engagement"),
        ("2035-02-01", "life-saving"),
    ]  # newest first
    north = on_file["people"]["a"][1]
    assert {r["division"] for r in rows(app_client.get(export, params={"division": north}))} == {north}
    assert [r["awarded_on"] for r in rows(app_client.get(export, params={"division": north, "year": 2036}))] == [
        "2036-03-03"
    ]
    life = rows(app_client.get(export, params={"category": "life-saving", "year": 2036}))
    assert [(r["awarded_on"], r["officer_name"], r["votes_for"], r["votes_against"]) for r in life] == [
        ("2036-09-09", "Officer B", "2", "0")
    ]
    assert int(life[0]["nomination_id"]) == record[3] and life[0]["award_name"] == "Act of Excellence"
    assert life[0]["narrative"] == '\'=HYPERLINK("x") on 2036-09-09'  # a spreadsheet shows it as text
    assert app_client.get(export, params={"category": "bravery"}).status_code == 422
    assert app_client.get(export, params={"year": 35}).status_code == 422
    # The same filters on the JSON listing; and the CSV's rows are the listing's.
    listed = ok(app_client.get("/api/v1/awards", params={"year": 2035}))
    assert [a["id"] for a in listed] == [int(r["award_id"]) for r in in_2035]


def test_an_officer_exports_only_their_own_awards(app, on_file, record):
    badge = on_file["people"]["b"][0]
    officer = member(app, ("officer",), badge=badge)
    mine = rows(officer.get("/api/v1/awards.csv", params={"division": on_file["people"]["a"][1]}))
    assert mine and {r["badge_number"] for r in mine} == {badge}
    assert rows(member(app, ("officer",)).get("/api/v1/awards.csv")) == []  # no badge, no awards


def test_the_awards_page_filters_and_links_to_the_csv_and_each_award(app, app_client, on_file, record):
    page = BeautifulSoup(
        app_client.get("/awards", params={"year": "2036", "category": "life-saving"}).text, "html.parser"
    )
    assert page.select_one('select#year option[value="2036"]').has_attr("selected")
    assert page.select_one('select#category option[value="life-saving"]').has_attr("selected")
    link = page.select_one("a.csv")
    assert link["href"] == "/api/v1/awards.csv?year=2036&category=life-saving"
    (row,) = page.select("tbody tr")
    assert row.select_one("a")["href"] == f"/awards/{row['data-award']}"
    assert [td.get_text(" ", strip=True) for td in row.select("td")][-1] == "Life-saving"
    assert rows(app_client.get(link["href"]))[0]["award_id"] == row["data-award"]
