"""What the program reports each year: tags, decisions, awards, the queue, by division.

Every figure is one grouped query, so the dashboard costs the same with ten clips or a million."""

import json
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
    """'YYYY-MM' of a date or timestamp column, in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


_cache: dict[str, tuple[float, dict]] = {}


def dashboard(session: Session) -> dict:
    """The figures, at most BESTPART_STATS_CACHE_SECONDS old: a yearly report needs no fresher."""
    ttl = get_settings().stats_cache_seconds
    key = str(session.get_bind().url)
    cached = _cache.get(key)
    if cached and time.monotonic() - cached[0] < ttl:
        return cached[1]
    figures = _compute(session)
    _cache[key] = (time.monotonic(), figures)
    return figures


def _compute(session: Session) -> dict:
    return {
        "tags_per_month": _tags_per_month(session),
        "decisions": _decisions(session),
        "awards_per_month": _awards_per_month(session),
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
    age bucket (one query, whatever the size of the queue). Never cached: the queue moves daily."""
    now = now or utcnow()
    bucket = case(
        *[(ReviewItem.queued_at > now - timedelta(days=days), label) for label, days in AGE_BUCKETS if days],
        else_=AGE_BUCKETS[-1][0],
    ).label("age")
    # Grouped in an outer query: PostgreSQL does not match a CASE with bound values in GROUP BY.
    waiting = select(bucket).where(ReviewItem.state.in_(WAITING)).subquery()
    counts = dict(session.exec(select(waiting.c.age, func.count()).group_by(waiting.c.age)).all())
    return [(label, counts.get(label, 0)) for label, _ in AGE_BUCKETS]
