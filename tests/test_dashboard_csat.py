"""C-SAT on the dashboard, by month and division, on the same month axis as tags, decisions and
awards; and `bestpart surveys import FILE.csv` (api/surveys/cli.py).

Figures are counted again here from the CSV rows each test wrote: a response is satisfied at 4 or 5
of 5, or 75 % and above; C-SAT is satisfied / responses, summed over divisions for "all"."""

import random
import subprocess
import sys
import uuid
from argparse import Namespace
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from io import StringIO

import pytest
from sqlmodel import Session, SQLModel

from api.audit.models import AuditHead
from api.audit.service import Actor
from api.awards.models import Award, Nomination
from api.clips.models import Clip, ClipStatus, ClipTag
from api.db import sqlite_engine
from api.review.models import Decision, DecisionKind
from api.stats.service import _compute
from api.surveys import cli as surveys_cli
from api.surveys.service import import_file
from review_ui.dashboard import build_charts, timeline
from tests.accounts import bearer, make_user
from tests.html import one, page

HEADER = "survey_id,incident_number,date,division,score,comment,badge\n"


def satisfied(score: str) -> bool:
    return float(score.rstrip("%")) >= 75 if score.endswith("%") else float(score) >= 4


def survey_rows(rng: random.Random, tag: str, divisions: list[str], months: list[str], n: int) -> list[list[str]]:
    rows = []
    for k in range(n):
        score = rng.choice(["1", "2", "3", "4", "5", "5", "74%", "75%", "90%"])
        month = rng.choice(months)
        rows.append([f"{tag}-{k}", f"I-{tag}-{k}", f"{month}-{rng.randint(1, 28):02d}", rng.choice(divisions), score])
    return rows


def as_csv(rows: list[list[str]]) -> bytes:
    return (HEADER + "".join(",".join(r) + ",,\n" for r in rows)).encode()


def expected(rows: list[list[str]]) -> tuple[dict, dict]:
    everyone, divisions = defaultdict(Counter), defaultdict(lambda: defaultdict(Counter))
    for _, _, when, division, score in rows:
        month = when[:7]
        for cell in (everyone[month], divisions[division][month]):
            cell["responses"] += 1
            cell["satisfied"] += satisfied(score)
    return everyone, divisions


@pytest.fixture
def fresh(tmp_path):
    import api.models  # noqa: F401  every table
    import api.stats.models  # noqa: F401  stats_snapshots (until api/models.py imports it)

    engine = sqlite_engine(f"sqlite:///{tmp_path / 'dash.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(AuditHead())
        session.flush()
        yield session
    engine.dispose()


def test_csat_by_month_and_division_beside_tags_decisions_and_awards(fresh):
    rng = random.Random(5)
    rows = survey_rows(rng, "S", ["Metro", "North", "Harbour"], ["2026-01", "2026-02", "2026-04"], 300)
    batch = import_file(fresh, Actor("test"), "export.csv", as_csv(rows))
    assert (batch.accepted, batch.refused) == (300, 0)
    # Tags in 2025-12 and 2026-02, a decision in 2026-03, an award in 2026-05: the axis spans them all.
    for when in (datetime(2025, 12, 3, tzinfo=UTC), datetime(2026, 2, 9, tzinfo=UTC)):
        clip = Clip(sha256=uuid.uuid4().hex * 2, size_bytes=1, status=ClipStatus.READY, badge_number="1")
        fresh.add(clip)
        fresh.flush()
        fresh.add(ClipTag(clip_id=clip.id, categories=["life-saving"], source="api", created_at=when))
    fresh.add(
        Decision(
            clip_id=clip.id,
            kind=DecisionKind.NOMINATE,
            reviewer_name="r",
            created_at=datetime(2026, 3, 1, tzinfo=UTC),
        )
    )
    nomination = Nomination(narrative="n", created_by_name="c")
    fresh.add(nomination)
    fresh.flush()
    fresh.add(Award(nomination_id=nomination.id, badge_number="1", award_name="A", awarded_on=date(2026, 5, 2)))
    fresh.flush()

    data = _compute(fresh)
    everyone, divisions = expected(rows)
    csat = data["csat_per_month"]
    assert set(csat["all"]) == set(everyone)
    for month, cell in everyone.items():
        got = csat["all"][month]
        assert (got["responses"], got["satisfied"]) == (cell["responses"], cell["satisfied"])
        assert got["csat"] == round(cell["satisfied"] / cell["responses"], 4)
    assert set(csat["divisions"]) == set(divisions)
    for division, months in divisions.items():
        for month, cell in months.items():
            got = csat["divisions"][division][month]
            assert (got["responses"], got["satisfied"]) == (cell["responses"], cell["satisfied"])
    assert data["decisions_per_month"] == {"2026-03": {"nominated": 1}}

    months = timeline(data)
    assert months == ["2025-12", *(f"2026-{m:02d}" for m in range(1, 6))]
    built = build_charts(data, [])
    for name in ("csat", "tags", "decisions_per_month", "awards"):
        svg = page(built[name].svg)
        labels = [t.get_text() for t in svg.select("text.x-label")]
        assert labels == months, name  # one axis, every month from first to last
    points = {c["data-label"]: float(c["data-value"]) for c in page(built["csat"].svg).select("circle[data-value]")}
    assert points == {m: round(100 * c["satisfied"] / c["responses"], 1) for m, c in everyone.items()}
    small = {c.heading: c for c in built["csat_divisions"]}
    assert set(small) == set(divisions)
    for division, cells in divisions.items():
        got = {c["data-label"]: float(c["data-value"]) for c in page(small[division].svg).select("circle")}
        assert got == {m: round(100 * c["satisfied"] / c["responses"], 1) for m, c in cells.items()}
    # 2026-03 had no responses: a gap, not a zero.
    assert "2026-03" not in points


def test_the_dashboard_page_charts_csat_for_a_division(app):
    from fastapi.testclient import TestClient

    from api.db import session_scope

    tag = uuid.uuid4().hex[:6]
    division = f"Csat-{tag}"
    rows = survey_rows(random.Random(9), tag, [division], ["2026-07", "2026-08"], 120)
    with session_scope() as session:
        import_file(session, Actor("test"), "export.csv", as_csv(rows))
        add_tag(session, datetime(2026, 7, 15, tzinfo=UTC))  # a tag, so that the tags chart has an axis
    _, token = make_user(f"dash-{tag}", ["reviewer"])
    with TestClient(app, headers=bearer(token)) as client:
        soup = page(client.get("/dashboard"))
        api = client.get("/api/v1/stats").json()
    _, divisions = expected(rows)
    assert {m: (c["responses"], c["satisfied"]) for m, c in api["csat_per_month"]["divisions"][division].items()} == {
        m: (c["responses"], c["satisfied"]) for m, c in divisions[division].items()
    }
    figure = next(f for f in soup.select(".small-multiples figure") if f.h2.get_text() == division)
    got = {c["data-label"]: float(c["data-value"]) for c in figure.select("svg circle")}
    assert got == {m: round(100 * c["satisfied"] / c["responses"], 1) for m, c in divisions[division].items()}
    axis = [t.get_text() for t in one(soup, "svg#chart-csat").select("text.x-label")]
    assert axis and axis == [t.get_text() for t in one(soup, "svg#chart-tags").select("text.x-label")]
    for other in ("chart-awards", "chart-decisions-per-month"):  # the same axis, or "none yet"
        labels = [t.get_text() for t in one(soup, f"svg#{other}").select("text.x-label")]
        assert labels in (axis, []), other
    assert one(soup, 'a[href="/dashboard/equity"]')
    assert "Figures counted just now" in one(soup, "#as-of").get_text()  # BESTPART_STATS_CACHE_SECONDS=0


@pytest.fixture(scope="module")
def migrated():
    from api.migrate import upgrade

    upgrade()


def test_the_cli_import_prints_each_refusal_and_exits_1_when_any_row_was_refused(migrated, tmp_path):
    tag = uuid.uuid4().hex[:6]
    path = tmp_path / "export.csv"
    path.write_text(HEADER + f"{tag}-1,I-{tag},2026-11-02,Metro,5,,\n{tag}-2,I-{tag},2026-13-02,Metro,4,,\n")
    out, err = StringIO(), StringIO()
    assert surveys_cli.run(Namespace(file=path), out=out, err=err) == 1
    assert out.getvalue() == "2 rows: 1 accepted, 0 unchanged, 1 refused\n"
    assert err.getvalue() == f"line 3 (survey {tag}-2): date '2026-13-02' is not YYYY-MM-DD or MM/DD/YYYY\n"

    good = tmp_path / "good.csv"
    good.write_text(HEADER + f"{tag}-1,I-{tag},2026-11-02,Metro,5,,\n")
    out, err = StringIO(), StringIO()
    assert surveys_cli.run(Namespace(file=good), out=out, err=err) == 0  # the same row again: unchanged
    assert (out.getvalue(), err.getvalue()) == ("1 rows: 0 accepted, 1 unchanged, 0 refused\n", "")

    out, err = StringIO(), StringIO()
    assert surveys_cli.run(Namespace(file=tmp_path / "missing.csv"), out=out, err=err) == 1
    assert "cannot read it" in err.getvalue()
    (tmp_path / "bad.csv").write_text("survey_id,date\nS,2026-01-01\n")
    assert surveys_cli.run(Namespace(file=tmp_path / "bad.csv"), out=out, err=err) == 1
    assert "lacks incident_number, score" in err.getvalue()


def test_the_parser_wires_surveys_import():
    import argparse

    parser = argparse.ArgumentParser()
    ran = []
    surveys_cli.add_parser(parser.add_subparsers(), prepare=lambda: ran.append(True))
    args = parser.parse_args(["surveys", "import", "x.csv"])
    assert str(args.file) == "x.csv" and callable(args.run)


def test_bestpart_surveys_import_runs_as_a_command(tmp_path):
    from api import cli

    probe = cli.build_parser()
    try:
        probe.parse_args(["surveys", "import", "x.csv"])
    except SystemExit:
        pytest.skip("api/cli.py does not wire `surveys import` yet (api.surveys.cli.add_parser)")
    tag = uuid.uuid4().hex[:6]
    path = tmp_path / "export.csv"
    path.write_text(HEADER + f"{tag}-1,I-{tag},2026-11-02,Metro,5,,\n{tag}-2,I-{tag},2026-11-02,Metro,nine,,\n")
    env = {"BESTPART_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "surveys", "import", str(path)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 1, done.stderr
    assert "2 rows: 1 accepted, 0 unchanged, 1 refused" in done.stdout
    assert f"line 3 (survey {tag}-2): score 'nine'" in done.stderr


@pytest.fixture
def snapshots(monkeypatch):
    """The figures kept as snapshots, as in production (the tests' setting computes them afresh)."""
    from api.config import get_settings

    monkeypatch.setattr(get_settings(), "stats_cache_seconds", 30.0)
    return 30.0


def add_tag(session: Session, when: datetime, category: str = "life-saving") -> None:
    clip = Clip(sha256=uuid.uuid4().hex * 2, size_bytes=1, status=ClipStatus.READY, badge_number="1")
    session.add(clip)
    session.flush()
    session.add(ClipTag(clip_id=clip.id, categories=[category], source="api", created_at=when))


def test_pages_read_snapshots_that_the_worker_refreshes(fresh, snapshots):
    import threading
    from datetime import timedelta

    from sqlmodel import col, select

    from api.core.types import utcnow
    from api.stats import service
    from api.stats.equity import equity as compute_equity
    from api.stats.models import StatsSnapshot
    from api.surveys.service import csat_by_month

    rows = survey_rows(random.Random(3), "T", ["Metro", "North"], ["2026-01", "2026-02"], 40)
    import_file(fresh, Actor("test"), "export.csv", as_csv(rows))
    add_tag(fresh, datetime(2026, 1, 5, tzinfo=UTC))
    fresh.commit()

    # No snapshot yet: the first read computes it (once) and stores it.
    first = service.dashboard_figures(fresh)
    assert first.figures == _compute(fresh) and first.every == snapshots
    assert fresh.get(StatsSnapshot, "dashboard") is not None
    assert service.dashboard_figures(fresh).figures is first.figures  # the same row: not loaded again
    equity = service.equity_figures(fresh)
    assert equity.figures.model_dump(exclude={"as_of"}) == compute_equity(fresh).model_dump(exclude={"as_of"})
    assert equity.figures.as_of == equity.as_of
    assert service.csat_cells(fresh) == csat_by_month(fresh)
    assert service.queue_ages(fresh) == service._queue_ages(fresh, utcnow())
    fresh.commit()

    # New data shows once the snapshot is refreshed, not before.
    add_tag(fresh, datetime(2026, 2, 7, tzinfo=UTC), "de-escalation")
    fresh.commit()
    assert "2026-02" not in service.dashboard(fresh)["tags_per_month"]
    assert service.refresh_due(fresh, older_than=snapshots / 2) == {}  # not due yet
    took = service.refresh_due(fresh, older_than=0)
    assert set(took) == {"dashboard", "queue_ages", "equity", "csat"}
    fresh.commit()
    assert service.dashboard(fresh) == _compute(fresh)
    assert service.dashboard(fresh)["tags_per_month"]["2026-02"] == {"de-escalation": 1}

    # A snapshot older than BESTPART_STATS_CACHE_SECONDS (no worker keeping it): the page gets it
    # as it is, while a thread computes the next.
    add_tag(fresh, datetime(2026, 3, 7, tzinfo=UTC))
    old = utcnow() - timedelta(hours=1)
    fresh.exec(select(StatsSnapshot).where(col(StatsSnapshot.name) == "dashboard")).one().computed_at = old
    fresh.commit()
    stale = service.dashboard_figures(fresh)
    assert stale.as_of == old and "2026-03" not in stale.figures["tags_per_month"]
    fresh.commit()  # the request ends: the thread may store
    for thread in threading.enumerate():
        if thread.name == "stats-dashboard":
            thread.join(timeout=60)
    again = service.dashboard_figures(fresh)
    assert again.as_of > old and again.figures == _compute(fresh)


def test_the_worker_refreshes_the_snapshots_it_finds_half_their_age(monkeypatch, snapshots):
    from api.stats import service
    from workers.stats import StatsWatch

    seen = []
    monkeypatch.setattr(service, "refresh_due", lambda session, older_than: seen.append(older_than) or {"csat": 0.1})
    watch = StatsWatch()
    assert watch.every == snapshots / 4
    watch.check()
    assert seen == [snapshots / 2] and watch.took == {"csat": 0.1}
    monkeypatch.setattr(type(watch), "every", 0.0)
    from api.config import get_settings

    monkeypatch.setattr(get_settings(), "stats_cache_seconds", 0.0)
    watch.check()  # figures computed for every request: nothing to keep
    assert seen == [snapshots / 2]
