"""The equity view: recognition per 100 officers by group, shares of awards beside shares of tags,
concentration (top 10 % share, Gini) and the divisions whose tags are reviewed much less often.

The figures are checked against the rows each test made, counted again here in plain Python (the
Gini coefficient by its pairwise definition, not the service's sorted formula): once on a fresh
SQLite database of its own, where every figure is known, and once through the real app (API and
page) on the shared test database, for the divisions this test made."""

import itertools
import math
import random
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, SQLModel

from api.awards.models import Award, Nomination, NominationOfficer
from api.clips.models import Clip, ClipStatus, ClipTag
from api.db import session_scope, sqlite_engine
from api.review.models import ReviewItem, ReviewState
from api.stats.equity import equity
from api.users.models import Officer
from tests.accounts import bearer, make_user
from tests.html import one, page, text

DECIDED = {"selected_for_training", "nominated", "dismissed"}


def gini_pairwise(values: list[int]) -> float:
    n, mean = len(values), sum(values) / len(values)
    return sum(abs(a - b) for a, b in itertools.product(values, values)) / (2 * n * n * mean)


def seed(session: Session, divisions: dict[str, dict], rng: random.Random, *, stranger: str | None = None) -> dict:
    """Officers in each division, each with clips (tagged, in some review state), nominations and
    awards. divisions[name] = {"officers": n, "reviewed": share of tagged clips decided}.
    Returns what was made, per badge."""
    made = {}
    at = datetime(2026, 3, 4, 10, tzinfo=UTC)
    for division, spec in divisions.items():
        for k in range(spec["officers"]):
            badge = f"{division}-{k}"
            session.add(Officer(badge_number=badge, name=f"Officer {badge}", division=division))
            made[badge] = {"division": division, "tags": 0, "reviewed": 0, "selections": 0, "nominations": 0}
            made[badge]["awards"] = 0
    session.flush()
    badges = list(made) + ([stranger] if stranger else [])
    if stranger:
        made[stranger] = {"division": "not in the directory", "tags": 0, "reviewed": 0, "selections": 0}
        made[stranger] |= {"nominations": 0, "awards": 0}
    for badge in badges:
        division = made[badge]["division"]
        share = divisions.get(division, {"reviewed": 0.5})["reviewed"]
        for _ in range(rng.randint(2, 6)):
            clip = Clip(
                sha256=uuid.uuid4().hex * 2,
                size_bytes=1,
                status=ClipStatus.READY,
                badge_number=badge,
                division=division,
                created_at=at,
            )
            session.add(clip)
            session.flush()
            tags = rng.choice([1, 1, 2])  # a clip tagged twice still counts once
            for _ in range(tags):
                session.add(ClipTag(clip_id=clip.id, badge_number=badge, categories=["de-escalation"], source="api"))
            if rng.random() < share:
                state = rng.choice(sorted(DECIDED))
            else:
                state = rng.choice(["queued", "in_review", "needs_info"])
            session.add(ReviewItem(clip_id=clip.id, state=ReviewState(state), queued_at=at))
            made[badge]["tags"] += 1
            made[badge]["reviewed"] += state in DECIDED
            made[badge]["selections"] += state == "selected_for_training"
        # An untagged clip counts for nothing.
        session.add(Clip(sha256=uuid.uuid4().hex * 2, size_bytes=1, badge_number=badge, division=division))
    # Nominations and awards, skewed: a few officers get most.
    for badge in badges:
        weight = rng.choice([0, 0, 0, 1, 1, 2, 5])
        for _ in range(weight):
            nomination = Nomination(narrative="did well", created_by_name="a colleague")
            session.add(nomination)
            session.flush()
            session.add(NominationOfficer(nomination_id=nomination.id, badge_number=badge))
            made[badge]["nominations"] += 1
            if rng.random() < 0.6:
                session.add(
                    Award(
                        nomination_id=nomination.id,
                        badge_number=badge,
                        award_name="Act of Excellence",
                        awarded_on=date(2026, 4, 1),
                        division=made[badge]["division"],
                    )
                )
                made[badge]["awards"] += 1
    session.flush()
    return made


@pytest.fixture
def fresh(tmp_path):
    import api.models  # noqa: F401  every table

    engine = sqlite_engine(f"sqlite:///{tmp_path / 'equity.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_every_figure_matches_the_rows_made(fresh):
    rng = random.Random(13)
    divisions = {
        "North": {"officers": 9, "reviewed": 0.8},
        "South": {"officers": 7, "reviewed": 0.7},
        "East": {"officers": 8, "reviewed": 0.75},
        "West": {"officers": 6, "reviewed": 0.05},  # its tags wait: flagged
        "Tiny": {"officers": 1, "reviewed": 0.0},  # too few tagged clips to judge
    }
    made = seed(fresh, divisions, rng, stranger="X-999")
    fresh.add(Officer(badge_number="U-1", name="No division", division=None))  # headcount, nothing else
    made["U-1"] = {"division": "not recorded", "tags": 0, "reviewed": 0, "selections": 0, "nominations": 0}
    made["U-1"]["awards"] = 0
    fresh.flush()

    figures = equity(fresh)

    measures = ("tags", "selections", "nominations", "awards")
    totals = {m: sum(p[m] for p in made.values()) for m in measures}
    assert figures.totals == totals
    assert figures.officers == len(made)
    division = next(d for d in figures.dimensions if d.key == "division")
    assert division.recorded
    by_group = {g.group: g for g in division.groups}
    assert set(by_group) == {*divisions, "not recorded", "not in the directory"}
    for name, group in by_group.items():
        ours = [p for p in made.values() if p["division"] == name]
        headcount = 0 if name == "not in the directory" else len(ours)
        assert group.officers == headcount
        for m in measures:
            count = sum(p[m] for p in ours)
            assert getattr(group, m) == count, (name, m)
            assert group.per_100[m] == (round(100 * count / headcount, 1) if headcount else 0.0)
        assert group.share_of_tags == round(sum(p["tags"] for p in ours) / totals["tags"], 4)
        assert group.share_of_awards == round(sum(p["awards"] for p in ours) / totals["awards"], 4)
    assert [g.group for g in division.groups][-2:] == ["not recorded", "not in the directory"]

    # Dimensions the directory lacks say so and carry no groups.
    lacking = {d.key for d in figures.dimensions if not d.recorded}
    assert {"shift", "rank", "years"} <= lacking
    assert all(not d.groups for d in figures.dimensions if not d.recorded)

    # Concentration over every officer, those with no award counted as zeros.
    awards = [p["awards"] for p in made.values()]
    top = math.ceil(len(awards) / 10)
    c = figures.concentration["awards"]
    assert (c.total, c.officers, c.top_decile_officers) == (sum(awards), len(awards), top)
    assert c.top_decile_share == round(sum(sorted(awards, reverse=True)[:top]) / sum(awards), 4)
    assert c.gini == pytest.approx(gini_pairwise(awards), abs=1e-4)
    tags = [p["tags"] for p in made.values()]
    assert figures.concentration["tags"].gini == pytest.approx(gini_pairwise(tags), abs=1e-4)

    # Review rates: decided / tagged per division; flagged under half the median of the judged.
    rates = figures.review_rates
    rows = {r.division: r for r in rates.divisions}
    judged = {}
    for name in divisions:
        ours = [p for p in made.values() if p["division"] == name]
        tagged, reviewed = sum(p["tags"] for p in ours), sum(p["reviewed"] for p in ours)
        assert (rows[name].tagged, rows[name].reviewed) == (tagged, reviewed)
        if tagged >= 10:
            judged[name] = reviewed / tagged
    ordered = sorted(judged.values())
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    assert rates.median == round(median, 4)
    assert {d for d, r in rows.items() if r.judged} == set(judged)
    assert {d for d, r in rows.items() if r.flagged} == {d for d, r in judged.items() if r < median / 2} == {"West"}
    assert not rows["Tiny"].judged and not rows["not in the directory"].judged
    assert "under 50% of the median" in rates.rule


def test_concentration_of_known_spreads():
    from api.stats.equity import concentration

    even = concentration([3, 3, 3, 3])
    assert (even.gini, even.top_decile_share) == (0.0, 0.25)
    one = concentration([0] * 9 + [10])  # one officer of ten has every award
    assert one.top_decile_officers == 1 and one.top_decile_share == 1.0
    assert one.gini == pytest.approx(gini_pairwise([0] * 9 + [10]), abs=1e-4) == pytest.approx(0.9)
    assert concentration([0, 0]).gini == 0.0 and concentration([]).officers == 0


def test_years_of_service_and_other_columns_appear_once_the_directory_has_them():
    from api.stats.equity import _group

    today = date(2026, 6, 1)
    assert _group("years", date(2025, 1, 1), today) == "under 2 years"
    assert _group("years", date(2016, 6, 1), today) == "10–19 years"
    assert _group("years", date(2016, 6, 2), today) == "5–9 years"
    assert _group("years", 25, today) == "20 years or more"
    assert _group("unit", None, today) == "not recorded"


@pytest.fixture(scope="module")
def program_client(app):
    from fastapi.testclient import TestClient

    _, token = make_user(f"equity-{uuid.uuid4().hex[:6]}", ["reviewer"])
    with TestClient(app, headers=bearer(token)) as client:
        yield client


def test_the_api_and_the_page_show_the_same_figures_for_our_divisions(program_client):
    tag = uuid.uuid4().hex[:6]
    divisions = {f"Eq{tag}-A": {"officers": 5, "reviewed": 0.9}, f"Eq{tag}-B": {"officers": 4, "reviewed": 0.0}}
    with session_scope() as session:
        made = seed(session, divisions, random.Random(7))

    figures = program_client.get("/api/v1/stats/equity")
    assert figures.status_code == 200
    data = figures.json()
    groups = {g["group"]: g for d in data["dimensions"] if d["key"] == "division" for g in d["groups"]}
    for name in divisions:
        ours = [p for p in made.values() if p["division"] == name]
        assert groups[name]["officers"] == len(ours)
        for m in ("tags", "selections", "nominations", "awards"):
            assert groups[name][m] == sum(p[m] for p in ours)
            assert groups[name]["per_100"][m] == round(100 * sum(p[m] for p in ours) / len(ours), 1)

    soup = page(program_client.get("/dashboard/equity"))
    for name in divisions:
        row = one(soup, f'#by-division tbody tr[data-group="{name}"]')
        cells = [text(c) for c in row.find_all(["th", "td"])]
        g = groups[name]
        assert cells[:6] == [name, str(g["officers"]), *(str(g["per_100"][m]) for m in ("tags", "selections"))] + [
            str(g["per_100"]["nominations"]),
            str(g["per_100"]["awards"]),
        ]
        assert cells[6:] == [f"{100 * g['share_of_tags']:.1f} %", f"{100 * g['share_of_awards']:.1f} %"]
        rate = one(soup, f'#review-rates tr[data-division="{name}"]')
        ours = [p for p in made.values() if p["division"] == name]
        tagged, reviewed = sum(p["tags"] for p in ours), sum(p["reviewed"] for p in ours)
        assert [text(c) for c in rate.find_all(["th", "td"])][1:3] == [str(tagged), str(reviewed)]
        flagged = next(r for r in data["review_rates"]["divisions"] if r["division"] == name)["flagged"]
        assert ("flagged" in rate.get("class", [])) == flagged
    # The rule is written on the page, and dimensions the directory lacks say "not recorded".
    assert "under 50% of the median" in text(one(soup, "#review-rates .rule"))
    assert "Not recorded" in text(one(soup, "#by-shift"))
    assert "Figures counted just now" in text(one(soup, "#as-of")) and data["as_of"]  # how old they are
    top = one(soup, "#concentration-awards")
    assert float(top.select("td[data-value]")[1]["data-value"]) == data["concentration"]["awards"]["gini"]
    chart = one(soup, "svg#chart-equity-division")
    bar = one(chart, f'rect[data-label="{list(divisions)[0]}"][data-series="share of awards"]')
    assert float(bar["data-value"]) == round(100 * groups[list(divisions)[0]]["share_of_awards"], 1)


def test_the_equity_view_is_for_program_staff(app):
    from fastapi.testclient import TestClient

    _, token = make_user(f"eq-officer-{uuid.uuid4().hex[:6]}", ["officer"], badge=f"b{uuid.uuid4().hex[:5]}")
    with TestClient(app, headers=bearer(token)) as client:
        assert client.get("/api/v1/stats/equity").status_code == 403
        assert client.get("/dashboard/equity", follow_redirects=False).status_code in (302, 303, 403)
