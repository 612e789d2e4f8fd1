"""What the program reports each year: tags, decisions, awards, the queue, by division.

Every figure is one grouped query over every clip, tag, decision or response (seconds at 100,000
clips): the worker computes them into snapshots, and the pages read the latest (below)."""

import json
import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, String, case, cast, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from api.awards.models import Award
from api.clips.models import Clip, ClipTag
from api.config import get_settings
from api.core.types import utcnow
from api.review.models import Decision, ReviewItem, ReviewState
from api.stats.equity import equity as compute_equity
from api.stats.models import StatsSnapshot
from api.stats.schemas import Equity, Snapshot
from api.surveys import service as surveys

log = logging.getLogger(__name__)
T = TypeVar("T")
WAITING = (ReviewState.QUEUED, ReviewState.IN_REVIEW, ReviewState.NEEDS_INFO)
AGE_BUCKETS = [
    ("under a day", 1),
    ("1–3 days", 3),
    ("3–7 days", 7),
    ("1–2 weeks", 14),
    ("2–4 weeks", 28),
    ("4 weeks or more", None),
]


def month_of(session: Session, column):
    """'YYYY-MM' of a date or timestamp column, in the database's own dialect. SQLite keeps them
    as ISO text in UTC ('2026-11-02 14:03:00.000000', '2026-11-02'): the first seven characters
    are the month, and reading them costs a third of strftime's parse over 100,000 rows."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.substr(column, 1, 7)


# --- snapshots: what the pages read ---------------------------------------------------------
#
# Each kind of figures is kept as one row of stats_snapshots (api/stats/models.py). The worker
# refreshes every row once it is half BESTPART_STATS_CACHE_SECONDS old (workers/stats.py), so the
# pages and the API read a row of a few kilobytes instead of grouping 100,000 clips. A page finds
# no row only on a new install before the worker's first pass: it computes that kind then, once,
# and stores it. A row older than BESTPART_STATS_CACHE_SECONDS means no worker is keeping it
# fresh: the page gets it as it is while a thread of this process computes the next. 0 (the
# tests' setting) computes the figures for every request and stores nothing.


class _Pass:
    """What one refresh shares among its kinds: the survey slice's C-SAT counts, which both the
    dashboard's figures and the C-SAT list are made of."""

    def __init__(self) -> None:
        self._cells: list[dict] | None = None

    def csat_cells(self, session: Session) -> list[dict]:
        if self._cells is None:
            self._cells = surveys.csat_by_month(session)
        return self._cells


@dataclass
class _Kind(Generic[T]):
    name: str
    compute: Callable[[Session, _Pass], dict[str, Any]]  # the figures as stored: JSON
    load: Callable[[dict[str, Any], datetime], T]  # the stored figures as the service returns them
    # database URL -> the last row read (its computed_at, and the figures loaded from it): a page
    # reads the row's time, and its figures only when they changed. Shared: never mutate them.
    loaded: dict[str, tuple[datetime, T]] = field(default_factory=dict)


def _equity_json(session: Session, _: _Pass) -> dict[str, Any]:
    return compute_equity(session).model_dump(mode="json")


def _equity_load(figures: dict[str, Any], as_of: datetime) -> Equity:
    return Equity.model_validate({**figures, "as_of": as_of})


DASHBOARD = _Kind[dict[str, Any]](
    "dashboard", lambda session, run: _compute(session, run.csat_cells(session)), lambda figures, _: figures
)
QUEUE_AGES = _Kind[list[tuple[str, int]]](
    "queue_ages",
    lambda session, _: {"ages": _queue_ages(session, utcnow())},
    lambda figures, _: [(label, count) for label, count in figures["ages"]],
)
EQUITY = _Kind[Equity]("equity", _equity_json, _equity_load)
CSAT = _Kind[list[dict]]("csat", lambda session, run: {"cells": run.csat_cells(session)}, lambda f, _: f["cells"])
KINDS: dict[str, _Kind[Any]] = {kind.name: kind for kind in (DASHBOARD, QUEUE_AGES, EQUITY, CSAT)}

_refreshing: set[tuple[str, str]] = set()
_lock = threading.Lock()


def _read(session: Session, kind: _Kind[T]) -> Snapshot[T]:
    every = get_settings().stats_cache_seconds
    if every <= 0:
        now = utcnow()
        return Snapshot(kind.load(kind.compute(session, _Pass()), now), now, 0.0)
    engine = session.get_bind().engine
    url = str(engine.url)
    at = session.exec(select(StatsSnapshot.computed_at).where(col(StatsSnapshot.name) == kind.name)).first()
    if at is None:  # a new install, before the worker's first pass: once, on this request
        refresh(session, [kind.name])
        at = _figures(session, kind)[0]
    elif (utcnow() - at).total_seconds() >= every:
        _refresh_later(engine, kind.name)
    loaded = kind.loaded.get(url)
    if loaded is None or loaded[0] != at:
        at, figures = _figures(session, kind)
        loaded = kind.loaded[url] = (at, kind.load(figures, at))
    return Snapshot(loaded[1], loaded[0], every)


def _figures(session: Session, kind: _Kind[Any]) -> tuple[datetime, dict[str, Any]]:
    """The stored row's time and figures, as the database has them now (columns, not the row
    object: a session that read it before would hand back its own copy)."""
    row = session.exec(
        select(StatsSnapshot.computed_at, StatsSnapshot.figures).where(col(StatsSnapshot.name) == kind.name)
    ).first()
    if row is None:  # pragma: no cover  stored before it is read, replaced, never deleted
        raise LookupError(f"no {kind.name} figures are stored")
    return row[0], dict(row[1])


def refresh(session: Session, names: Iterable[str] | None = None) -> dict[str, float]:
    """Compute the figures of these kinds (every kind by default) and store each as its latest
    snapshot, in this session (the caller commits). A snapshot computed later by someone else
    is kept. Returns the seconds each kind took."""
    run, took, computed = _Pass(), {}, []
    for name in names if names is not None else KINDS:
        started, clock = utcnow(), time.perf_counter()
        computed.append((name, started, KINDS[name].compute(session, run)))
        took[name] = time.perf_counter() - clock
    # Stored together once all are computed: on SQLite the first write takes the database's one
    # write lock until the caller commits, and no other writer should wait for the computing.
    for name, started, figures in computed:
        _store(session, name, started, took[name], figures)
    return took


def refresh_due(session: Session, older_than: float) -> dict[str, float]:
    """refresh() the kinds that have no snapshot yet or one at least `older_than` seconds old."""
    stored = dict(session.exec(select(StatsSnapshot.name, StatsSnapshot.computed_at)).all())
    now = utcnow()
    due = [name for name in KINDS if name not in stored or (now - stored[name]).total_seconds() >= older_than]
    return refresh(session, due) if due else {}


def _store(session: Session, name: str, computed_at: datetime, seconds: float, figures: dict[str, Any]) -> None:
    """Insert or replace the row in one statement (the worker and a page may store at once)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    values = {"name": name, "computed_at": computed_at, "seconds": round(seconds, 3), "figures": figures}
    statement = insert(StatsSnapshot).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["name"],
            set_={key: statement.excluded[key] for key in ("computed_at", "seconds", "figures")},
            where=col(StatsSnapshot.computed_at) < statement.excluded.computed_at,
        )
    )


def _refresh_later(engine: Engine, name: str) -> None:
    """Refresh one kind on a thread and a session of its own, unless one is at it already."""
    key = (name, str(engine.url))
    with _lock:
        if key in _refreshing:
            return
        _refreshing.add(key)

    def work() -> None:
        try:
            with Session(engine) as session:
                refresh(session, [name])
                session.commit()
        except Exception:  # noqa: BLE001  the stale figures stay; the next request tries again
            log.exception("refreshing the %s figures failed", name)
        finally:
            with _lock:
                _refreshing.discard(key)

    log.info("the %s figures are older than BESTPART_STATS_CACHE_SECONDS (is the worker running?)", name)
    threading.Thread(target=work, name=f"stats-{name}", daemon=True).start()


def dashboard_figures(session: Session) -> Snapshot[dict[str, Any]]:
    """The dashboard's figures (see dashboard()) and when they were computed."""
    return _read(session, DASHBOARD)


def dashboard(session: Session) -> dict[str, Any]:
    """Tags, decisions, awards and C-SAT per month; decisions; the queue; the divisions (at most
    BESTPART_STATS_CACHE_SECONDS old)."""
    return dashboard_figures(session).figures


def equity_figures(session: Session) -> Snapshot[Equity]:
    """equity() and when it was computed (as its `as_of` says), with how often it is refreshed."""
    return _read(session, EQUITY)


def equity(session: Session) -> Equity:
    """Who gets recognised, by division, shift, rank, unit and years of service (at most
    BESTPART_STATS_CACHE_SECONDS old, as `as_of` says; see api/stats/equity.py for every definition)."""
    return equity_figures(session).figures


def csat_cells(session: Session) -> list[dict]:
    """api.surveys.service.csat_by_month's cells (month, division, responses, satisfied, csat), at
    most BESTPART_STATS_CACHE_SECONDS old: what GET /api/v1/surveys/csat may answer with."""
    return _read(session, CSAT).figures


def _compute(session: Session, csat_cells: list[dict] | None = None) -> dict[str, Any]:
    """Every figure of the dashboard, computed now (seconds at 100,000 clips: the worker's work)."""
    return {
        "tags_per_month": _tags_per_month(session),
        "decisions": _decisions(session),
        "decisions_per_month": _decisions_per_month(session),
        "awards_per_month": _awards_per_month(session),
        "csat_per_month": csat_per_month(session, csat_cells),
        "queue": _queue(session),
        "by_division": _by_division(session),
    }


def _tags_per_month(session: Session) -> dict[str, dict[str, int]]:
    month = month_of(session, ClipTag.created_at)
    categories = cast(ClipTag.categories, String)  # JSON has no equality on PostgreSQL; its text does
    table: dict[str, Counter] = defaultdict(Counter)
    for at, listed, count in session.exec(select(month, categories, func.count()).group_by(month, categories)):
        for category in json.loads(listed):
            table[at][category] += count
    return {m: dict(sorted(counts.items())) for m, counts in sorted(table.items())}


def _decisions(session: Session) -> dict:
    """Every decision taken (revisions included), and where each clip stands now."""
    taken = session.exec(select(Decision.kind, func.count()).group_by(Decision.kind))
    standing = session.exec(select(ReviewItem.state, func.count()).group_by(ReviewItem.state))
    return {
        "taken": {str(k): n for k, n in sorted(taken, key=lambda r: str(r[0]))},
        "current": {str(s): n for s, n in sorted(standing, key=lambda r: str(r[0]))},
    }


def _decisions_per_month(session: Session) -> dict[str, dict[str, int]]:
    """Decisions taken (revisions included) per month of the decision, by kind."""
    month = month_of(session, Decision.created_at)
    table: dict[str, dict[str, int]] = defaultdict(dict)
    for at, kind, count in session.exec(select(month, Decision.kind, func.count()).group_by(month, Decision.kind)):
        table[at][str(kind)] = count
    return {m: dict(sorted(kinds.items())) for m, kinds in sorted(table.items())}


def csat_per_month(session: Session, cells: list[dict] | None = None) -> dict:
    """C-SAT per month, all divisions together and each division: {"all": {month: cell},
    "divisions": {division: {month: cell}}}, a cell being {responses, satisfied, csat}. The
    survey slice counts (api.surveys.service.csat_by_month); the sums across divisions are made
    here from its counts, never by averaging the divisions' percentages."""
    everyone: dict[str, Counter] = defaultdict(Counter)
    divisions: dict[str, dict[str, dict]] = defaultdict(dict)
    for cell in surveys.csat_by_month(session) if cells is None else cells:
        month, division = cell["month"], cell["division"]
        divisions[division][month] = _cell(cell["responses"], cell["satisfied"])
        everyone[month]["responses"] += cell["responses"]
        everyone[month]["satisfied"] += cell["satisfied"]
    return {
        "all": {m: _cell(c["responses"], c["satisfied"]) for m, c in sorted(everyone.items())},
        "divisions": {d: dict(sorted(months.items())) for d, months in sorted(divisions.items())},
    }


def _cell(responses: int, satisfied: int) -> dict:
    return {
        "responses": responses,
        "satisfied": satisfied,
        "csat": round(satisfied / responses, 4) if responses else 0.0,
    }


def _awards_per_month(session: Session) -> dict[str, int]:
    month = month_of(session, Award.awarded_on)
    return dict(sorted(session.exec(select(month, func.count()).group_by(month)).all()))


def _queue(session: Session) -> dict:
    waiting = select(ReviewItem.queued_at).where(col(ReviewItem.state).in_(WAITING))
    size = session.exec(select(func.count()).select_from(waiting.subquery())).one()
    if not size:
        return {"size": 0, "oldest_hours": 0, "median_age_hours": 0}
    oldest = session.exec(waiting.order_by(col(ReviewItem.queued_at)).limit(1)).one()
    middle = session.exec(waiting.order_by(col(ReviewItem.queued_at)).offset(size // 2).limit(1)).one()
    now = utcnow()
    return {
        "size": size,
        "oldest_hours": round((now - oldest).total_seconds() / 3600, 1),
        "median_age_hours": round((now - middle).total_seconds() / 3600, 1),
    }


def _by_division(session: Session) -> dict[str, dict[str, int]]:
    tags = session.exec(
        select(Clip.division, func.count()).join(ClipTag, col(ClipTag.clip_id) == Clip.id).group_by(Clip.division)
    )
    awards = session.exec(select(Award.division, func.count()).group_by(Award.division))
    table: dict[str, Counter] = defaultdict(Counter)
    for division, count in tags:
        table[division or "unknown"]["tags"] += count
    for division, count in awards:
        table[division or "unknown"]["awards"] += count
    return {d: {"tags": c["tags"], "awards": c["awards"]} for d, c in sorted(table.items())}


def queue_ages(session: Session, now: datetime | None = None) -> list[tuple[str, int]]:
    """How long the clips waiting for the review team have waited, counted in the database by
    age bucket (one query, whatever the size of the queue). A snapshot like the other figures (the
    queue moves daily; 30 s do not show), except when asked for a given `now`."""
    if now is None:
        return queue_age_figures(session).figures
    return _queue_ages(session, now)


def queue_age_figures(session: Session) -> Snapshot[list[tuple[str, int]]]:
    """queue_ages() now (at most BESTPART_STATS_CACHE_SECONDS old), and when they were counted."""
    return _read(session, QUEUE_AGES)


def _queue_ages(session: Session, now: datetime) -> list[tuple[str, int]]:
    bucket = case(
        *[(col(ReviewItem.queued_at) > now - timedelta(days=days), label) for label, days in AGE_BUCKETS if days],
        else_=AGE_BUCKETS[-1][0],
    ).label("age")
    # Grouped in an outer query: PostgreSQL does not match a CASE with bound values in GROUP BY.
    waiting = select(bucket).where(col(ReviewItem.state).in_(WAITING)).subquery()
    counts = dict(session.exec(select(waiting.c.age, func.count()).group_by(waiting.c.age)).all())
    return [(label, counts.get(label, 0)) for label, _ in AGE_BUCKETS]
