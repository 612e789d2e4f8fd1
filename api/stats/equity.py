"""Who gets recognised: tags, selections, nominations and awards per 100 officers by division, shift,
rank, unit and years of service; how concentrated the awards are; and the divisions whose
officers' tags are reviewed much less often than the others'.

Four grouped queries (per officer: the directory; their tagged clips with how many are decided
and selected; their nominations; their awards), then the grouping in Python over the officers,
a few hundred or thousand rows whatever the number of clips."""

import math
import statistics
from collections import Counter
from datetime import date

import sqlalchemy as sa
from sqlalchemy import case, exists, func
from sqlmodel import Session, col, select

from api.awards.models import Award, NominationOfficer
from api.clips.models import Clip, ClipTag
from api.core.types import utcnow
from api.review.models import ReviewItem, ReviewState
from api.stats.schemas import MEASURES, Concentration, Dimension, Equity, Group, ReviewRate, ReviewRates
from api.users.models import Officer

NOT_RECORDED = "not recorded"  # the directory has the column, but not this officer's value
NOT_IN_DIRECTORY = "not in the directory"  # a badge on clips or awards that the directory lacks
PSEUDO_GROUPS = (NOT_RECORDED, NOT_IN_DIRECTORY)
# (key, label, the directory columns it may be read from, first found wins). A dimension whose
# columns the directory lacks is shown as not recorded; it appears by itself once one is added.
DIMENSIONS = (
    ("division", "Division", ("division",)),
    ("shift", "Shift", ("shift",)),
    ("rank", "Rank", ("rank",)),
    ("unit", "Unit", ("unit",)),
    ("years", "Years of service", ("years_of_service", "hired_on", "service_start", "sworn_on", "start_date")),
    ("kind", "Sworn or civilian", ("kind",)),
)
YEAR_BUCKETS = ((2, "under 2 years"), (5, "2–4 years"), (10, "5–9 years"), (20, "10–19 years"))
LAST_YEAR_BUCKET = "20 years or more"
DECIDED = (ReviewState.SELECTED_FOR_TRAINING, ReviewState.NOMINATED, ReviewState.DISMISSED)
MIN_TAGGED = 10  # a division with fewer tagged clips is listed but not judged: too few to call
FLAG_RATIO = 0.5  # flagged: a review rate under half the median of the judged divisions' rates
TOP_SHARE = 0.10


def equity(session: Session, today: date | None = None) -> Equity:
    today = today or utcnow().date()
    present = [(key, label, _column(columns)) for key, label, columns in DIMENSIONS]
    columns = [getattr(Officer, name) for _, _, name in present if name]
    people: dict[str, dict] = {}  # badge -> {"in": bool, dimension key -> group, measure -> count}
    for badge, *values in session.exec(select(Officer.badge_number, *columns)):
        found = iter(values)
        person: dict = {"in": True, **dict.fromkeys(MEASURES, 0), "reviewed": 0}
        for key, _, name in present:
            if name:
                person[key] = _group(key, next(found), today)
        people[badge] = person

    def officer(badge: str) -> dict:
        if badge not in people:
            people[badge] = {"in": False, **dict.fromkeys(MEASURES, 0), "reviewed": 0}
        return people[badge]

    decided = func.sum(case((col(ReviewItem.state).in_(DECIDED), 1), else_=0))
    selected = func.sum(case((col(ReviewItem.state) == ReviewState.SELECTED_FOR_TRAINING, 1), else_=0))
    tagged = (
        select(Clip.badge_number, func.count(), decided, selected)
        .select_from(Clip)
        .outerjoin(ReviewItem, col(ReviewItem.clip_id) == Clip.id)
        .where(col(Clip.badge_number).is_not(None), exists().where(col(ClipTag.clip_id) == Clip.id))
        .group_by(Clip.badge_number)
    )
    for badge, tags, reviewed, selections in session.exec(tagged):
        if badge is None:  # pragma: no cover  the query leaves clips without a badge out
            continue
        person = officer(badge)
        person.update(tags=tags, reviewed=int(reviewed or 0), selections=int(selections or 0))
    nominations = select(NominationOfficer.badge_number, func.count()).group_by(NominationOfficer.badge_number)
    for badge, count in session.exec(nominations):
        officer(badge)["nominations"] = count
    for badge, count in session.exec(select(Award.badge_number, func.count()).group_by(Award.badge_number)):
        officer(badge)["awards"] = count

    totals = {m: sum(p[m] for p in people.values()) for m in MEASURES}
    dimensions = [
        Dimension(
            key=key,
            label=label,
            recorded=bool(name),
            groups=_groups(people, key, totals) if name else [],
        )
        for key, label, name in present
    ]
    return Equity(
        officers=len(people),
        totals=totals,
        dimensions=dimensions,
        concentration={m: concentration([p[m] for p in people.values()]) for m in ("awards", "tags")},
        review_rates=_review_rates(people),
    )


def _column(names: tuple[str, ...]) -> str | None:
    table = sa.inspect(Officer).columns
    return next((name for name in names if name in table), None)


def _group(key: str, value, today: date) -> str:
    if value is None or value == "":
        return NOT_RECORDED
    if key == "years":
        years = value if isinstance(value, int | float) else _years_since(value, today)
        if years is None or years < 0:
            return NOT_RECORDED
        return next((label for limit, label in YEAR_BUCKETS if years < limit), LAST_YEAR_BUCKET)
    return str(value)


def _years_since(start, today: date) -> int | None:
    if hasattr(start, "date") and callable(start.date):
        start = start.date()
    if not isinstance(start, date):
        return None
    return today.year - start.year - ((today.month, today.day) < (start.month, start.day))


def _key_of(person: dict, key: str) -> str:
    return person.get(key, NOT_RECORDED) if person["in"] else NOT_IN_DIRECTORY


def _groups(people: dict[str, dict], key: str, totals: dict[str, int]) -> list[Group]:
    sums: dict[str, Counter] = {}
    for person in people.values():
        counts = sums.setdefault(_key_of(person, key), Counter())
        counts["officers"] += person["in"]
        for measure in MEASURES:
            counts[measure] += person[measure]
    groups = [
        Group(
            group=name,
            officers=c["officers"],
            **{m: c[m] for m in MEASURES},
            per_100={m: round(100 * c[m] / c["officers"], 1) if c["officers"] else 0.0 for m in MEASURES},
            share_of_tags=round(c["tags"] / totals["tags"], 4) if totals["tags"] else 0.0,
            share_of_awards=round(c["awards"] / totals["awards"], 4) if totals["awards"] else 0.0,
        )
        for name, c in sums.items()
    ]
    return sorted(groups, key=lambda g: _order(g.group))


_YEAR_ORDER = {label: n for n, (_, label) in enumerate(YEAR_BUCKETS)} | {LAST_YEAR_BUCKET: len(YEAR_BUCKETS)}


def _order(name: str) -> tuple:
    """Real groups first, by name (years of service in their own order), then the pseudo-groups."""
    pseudo = PSEUDO_GROUPS.index(name) if name in PSEUDO_GROUPS else -1
    return (pseudo, _YEAR_ORDER.get(name, -1), name)


def concentration(values: list[int]) -> Concentration:
    """The top 10 % of officers' share (ceil(n / 10) officers, most first) and the Gini
    coefficient, G = Σᵢ (2i − n − 1) xᵢ / (n Σ x) over the values sorted ascending (i from 1)."""
    ordered = sorted(values)
    n, total = len(ordered), sum(ordered)
    top = math.ceil(n * TOP_SHARE) if n else 0
    if not n or not total:
        return Concentration(total=total, officers=n, top_decile_officers=top, top_decile_share=0.0, gini=0.0)
    gini = sum((2 * i - n - 1) * x for i, x in enumerate(ordered, start=1)) / (n * total)
    return Concentration(
        total=total,
        officers=n,
        top_decile_officers=top,
        top_decile_share=round(sum(ordered[n - top :]) / total, 4),
        gini=round(gini, 4),
    )


def _review_rates(people: dict[str, dict]) -> ReviewRates:
    sums: dict[str, Counter] = {}
    for person in people.values():
        counts = sums.setdefault(_key_of(person, "division"), Counter())
        counts["tagged"] += person["tags"]
        counts["reviewed"] += person["reviewed"]
    rates = {d: c["reviewed"] / c["tagged"] for d, c in sums.items() if c["tagged"]}  # none without tags
    judged = {d: rates[d] for d, c in sums.items() if d not in PSEUDO_GROUPS and c["tagged"] >= MIN_TAGGED}
    median = statistics.median(judged.values()) if judged else None
    rows = [
        ReviewRate(
            division=d,
            tagged=c["tagged"],
            reviewed=c["reviewed"],
            rate=round(rates[d], 4) if d in rates else None,
            judged=d in judged,
            flagged=d in judged and median is not None and judged[d] < FLAG_RATIO * median,
        )
        for d, c in sums.items()
    ]
    rows.sort(key=lambda r: _order(r.division))
    return ReviewRates(
        rule=(
            f"A division is flagged when the share of its officers' tagged clips that have been decided "
            f"(selected for training, nominated or dismissed) is under {FLAG_RATIO:.0%} of the median share "
            f"across divisions; divisions with fewer than {MIN_TAGGED} tagged clips, officers with no "
            f"division recorded and badges the directory lacks are listed but not judged."
        ),
        min_tagged=MIN_TAGGED,
        flag_ratio=FLAG_RATIO,
        median=round(median, 4) if median is not None else None,
        divisions=rows,
    )
