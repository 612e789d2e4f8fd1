"""What the program reports each year: tags, decisions, awards, the queue, by division.

Every figure is one grouped query, so the dashboard costs the same with ten clips or a million."""

import json
import logging
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from sqlalchemy import String, case, cast, func
from sqlmodel import Session, select

from api.awards.models import Award
from api.clips.models import Clip, ClipTag
from api.config import get_settings
from api.core.types import utcnow
from api.review.models import Decision, ReviewItem, ReviewState
from api.stats.equity import equity as equity_figures
from api.stats.schemas import Equity
from api.surveys import service as surveys

log = logging.getLogger(__name__)
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


_cache: dict[tuple[str, str], tuple[float, object]] = {}
_refreshing: set[tuple[str, str]] = set()
_lock = threading.Lock()


def _cached(name: str, session: Session, compute):
    """compute(session), at most BESTPART_STATS_CACHE_SECONDS old (a yearly report needs no
    fresher), and never computed on a request's time but the first: once the figures are older
    than that, the request gets them as they are while a thread computes the next (on a session
    of its own), so no page waits for the grouped queries over every clip. 0 (the tests'
    setting) computes them on every call."""
    ttl = get_settings().stats_cache_seconds
    bind = session.get_bind()
    key = (name, str(bind.url))
    cached = _cache.get(key)
    if ttl > 0 and cached:
        if time.monotonic() - cached[0] >= ttl:
            _refresh_later(key, bind, compute)
        return cached[1]
    figures = compute(session)
    _cache[key] = (time.monotonic(), figures)
    return figures


def _refresh_later(key: tuple[str, str], bind, compute) -> None:
    with _lock:
        if key in _refreshing:
            return
        _refreshing.add(key)

    def refresh():
        try:
            with Session(bind) as session:
                _cache[key] = (time.monotonic(), compute(session))
        except Exception:  # noqa: BLE001  the stale figures stay; the next request tries again
            log.exception("refreshing the %s figures failed", key[0])
        finally:
            with _lock:
                _refreshing.discard(key)

    threading.Thread(target=refresh, name=f"stats-{key[0]}", daemon=True).start()


def dashboard(session: Session) -> dict:
    """Tags, decisions, awards and C-SAT per month; decisions; the queue; the divisions (cached)."""
    return _cached("dashboard", session, _compute)


def equity(session: Session) -> Equity:
    """Who gets recognised, by division, shift, rank, unit and years of service (cached; see
    api/stats/equity.py for every definition)."""
    return _cached("equity", session, equity_figures)


def _compute(session: Session) -> dict:
    return {
        "tags_per_month": _tags_per_month(session),
        "decisions": _decisions(session),
        "decisions_per_month": _decisions_per_month(session),
        "awards_per_month": _awards_per_month(session),
        "csat_per_month": csat_per_month(session),
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


def csat_per_month(session: Session) -> dict:
    """C-SAT per month, all divisions together and each division: {"all": {month: cell},
    "divisions": {division: {month: cell}}}, a cell being {responses, satisfied, csat}. The
    survey slice counts (api.surveys.service.csat_by_month); the sums across divisions are made
    here from its counts, never by averaging the divisions' percentages."""
    everyone: dict[str, Counter] = defaultdict(Counter)
    divisions: dict[str, dict[str, dict]] = defaultdict(dict)
    for cell in surveys.csat_by_month(session):
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
    waiting = select(ReviewItem.queued_at).where(ReviewItem.state.in_(WAITING))
    size = session.exec(select(func.count()).select_from(waiting.subquery())).one()
    if not size:
        return {"size": 0, "oldest_hours": 0, "median_age_hours": 0}
    oldest = session.exec(waiting.order_by(ReviewItem.queued_at).limit(1)).one()
    middle = session.exec(waiting.order_by(ReviewItem.queued_at).offset(size // 2).limit(1)).one()
    now = utcnow()
    return {
        "size": size,
        "oldest_hours": round((now - oldest).total_seconds() / 3600, 1),
        "median_age_hours": round((now - middle).total_seconds() / 3600, 1),
    }


def _by_division(session: Session) -> dict[str, dict[str, int]]:
    tags = session.exec(
        select(Clip.division, func.count()).join(ClipTag, ClipTag.clip_id == Clip.id).group_by(Clip.division)
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
    age bucket (one query, whatever the size of the queue). Cached like the other figures (the
    queue moves daily; 30 s do not show), except when asked for a given `now`."""
    if now is None:
        return _cached("queue_ages", session, lambda s: _queue_ages(s, utcnow()))
    return _queue_ages(session, now)


def _queue_ages(session: Session, now: datetime) -> list[tuple[str, int]]:
    bucket = case(
        *[(ReviewItem.queued_at > now - timedelta(days=days), label) for label, days in AGE_BUCKETS if days],
        else_=AGE_BUCKETS[-1][0],
    ).label("age")
    # Grouped in an outer query: PostgreSQL does not match a CASE with bound values in GROUP BY.
    waiting = select(bucket).where(ReviewItem.state.in_(WAITING)).subquery()
    counts = dict(session.exec(select(waiting.c.age, func.count()).group_by(waiting.c.age)).all())
    return [(label, counts.get(label, 0)) for label, _ in AGE_BUCKETS]
