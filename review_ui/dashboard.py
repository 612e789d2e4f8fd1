"""Pages: the program dashboard. Charts are SVG drawn on the server (review_ui/charts.py): no JS."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request

from api.clips.schemas import Category
from api.core.types import utcnow
from api.db import SessionDep
from api.review.schemas import DecisionKind, ReviewState
from api.stats.schemas import Dimension, Equity
from api.stats.service import dashboard_figures, equity_figures, queue_age_figures
from review_ui import charts
from review_ui.pages import ProgramPage, render

router = APIRouter(include_in_schema=False)

CATEGORY_COLORS = {
    Category.DE_ESCALATION.value: "#1f5fbf",
    Category.COMMUNITY_ENGAGEMENT.value: "#e07b00",
    Category.LIFE_SAVING.value: "#1f7a3a",
}
AWARD_COLOR = "#8a5a00"
DECISION_LABELS = {
    DecisionKind.SELECT_FOR_TRAINING: "Selected for training",
    DecisionKind.NOMINATE: "Nominated",
    DecisionKind.DISMISS: "Dismissed",
    DecisionKind.NEEDS_INFO: "Asked the officer",
}
STATE_LABELS = {
    ReviewState.QUEUED: "Queued",
    ReviewState.IN_REVIEW: "In review",
    ReviewState.NEEDS_INFO: "Asking the officer",
    ReviewState.SELECTED_FOR_TRAINING: "Selected for training",
    ReviewState.NOMINATED: "Nominated",
    ReviewState.DISMISSED: "Dismissed",
}
MAX_DIVISIONS = 15  # the rest are summed into one bar
MAX_CSAT_DIVISIONS = 12  # small C-SAT charts; the rest summed into one
CSAT_COLOR = "#00838f"
SHARE_COLORS = {"share of tags": "#1f5fbf", "share of awards": AWARD_COLOR}
DECISION_COLORS = {
    "Selected for training": "#1f7a3a",
    "Nominated": "#8a5a00",
    "Dismissed": "#6b7280",
    "Asked the officer": "#1f5fbf",
}


@dataclass
class Chart:
    svg: str
    head: list[str]  # the same numbers as a table, for those who cannot see the chart
    rows: list[list]
    heading: str = ""


def _categories(tags_per_month: dict[str, dict[str, int]]) -> list[str]:
    found = {c for counts in tags_per_month.values() for c in counts}
    known = [c.value for c in Category]
    return [c for c in known if c in found] + sorted(found - set(known))


def _top(pairs: list[tuple[str, int]], limit: int) -> list[tuple[str, int]]:
    pairs = sorted(pairs, key=lambda p: (-p[1], p[0]))
    if len(pairs) <= limit:
        return pairs
    return pairs[: limit - 1] + [(f"{len(pairs) - limit + 1} other divisions", sum(v for _, v in pairs[limit - 1 :]))]


def timeline(data: dict) -> list[str]:
    """The one month axis of the tags, decisions, awards and C-SAT charts: every month from the
    first that any of them has to the last."""
    found = [
        *data["tags_per_month"],
        *data.get("decisions_per_month", {}),
        *data["awards_per_month"],
        *data.get("csat_per_month", {}).get("all", {}),
    ]
    return charts.month_range(found)


def _percent(cell: dict | None) -> float | None:
    return None if not cell or not cell["responses"] else round(100 * cell["satisfied"] / cell["responses"], 1)


def csat_charts(data: dict, months: list[str]) -> tuple[Chart, list[Chart]]:
    """C-SAT per month for all divisions together, and one small chart per division (the
    MAX_CSAT_DIVISIONS with most responses; the rest summed into one), all on `months`."""
    csat = data.get("csat_per_month") or {"all": {}, "divisions": {}}
    everyone = csat["all"]
    overall = Chart(
        charts.line_chart(
            months,
            {"C-SAT": [_percent(everyone.get(m)) for m in months]},
            title="C-SAT per month, all divisions",
            colors={"C-SAT": CSAT_COLOR},
            width=960,
            ident="chart-csat",
            empty="No survey responses yet",
            notes={"C-SAT": [f"of {everyone[m]['responses']:,} responses" if m in everyone else "" for m in months]},
        ),
        ["Month", "Responses", "Satisfied", "C-SAT %"],
        [
            [m, everyone[m]["responses"], everyone[m]["satisfied"], _percent(everyone[m])]
            for m in months
            if m in everyone
        ],
    )
    divisions = csat["divisions"]
    ranked = sorted(divisions, key=lambda d: (-sum(c["responses"] for c in divisions[d].values()), d))
    shown = {d: divisions[d] for d in ranked[: MAX_CSAT_DIVISIONS - 1 if len(ranked) > MAX_CSAT_DIVISIONS else None]}
    rest = ranked[len(shown) :]
    if rest:
        summed: dict[str, dict] = {}
        for d in rest:
            for m, c in divisions[d].items():
                cell = summed.setdefault(m, {"responses": 0, "satisfied": 0})
                cell["responses"] += c["responses"]
                cell["satisfied"] += c["satisfied"]
        shown[f"{len(rest)} other divisions"] = summed
    small = []
    for n, (division, cells) in enumerate(shown.items()):
        small.append(
            Chart(
                charts.line_chart(
                    months,
                    {division: [_percent(cells.get(m)) for m in months]},
                    title=f"C-SAT per month, {division}",
                    colors={division: CSAT_COLOR},
                    width=320,
                    height=150,
                    ident=f"chart-csat-division-{n}",
                    empty="No responses",
                    notes={division: [f"of {cells[m]['responses']:,} responses" if m in cells else "" for m in months]},
                ),
                ["Month", "Responses", "Satisfied", "C-SAT %"],
                [[m, cells[m]["responses"], cells[m]["satisfied"], _percent(cells[m])] for m in months if m in cells],
            )
        )
        small[-1].heading = division
    return overall, small


def build_charts(data: dict, ages: list[tuple[str, int]]) -> dict[str, Chart | list[Chart]]:
    """The dashboard's charts from api.stats.service.dashboard()'s numbers and the queue's ages.
    Tags, decisions, awards and C-SAT per month share one month axis (`timeline`)."""
    tags = data["tags_per_month"]
    months = timeline(data)
    categories = _categories(tags)
    tag_series = {c: [tags.get(m, {}).get(c, 0) for m in months] for c in categories}
    awards = data["awards_per_month"]
    award_months = months
    per_month = data.get("decisions_per_month", {})
    decision_series = {
        label: [per_month.get(m, {}).get(kind.value, 0) for m in months] for kind, label in DECISION_LABELS.items()
    }
    csat, csat_divisions = csat_charts(data, months)
    taken, current = data["decisions"]["taken"], data["decisions"]["current"]
    decisions = [(label, taken.get(kind.value, 0)) for kind, label in DECISION_LABELS.items()]
    standing = [(label, current.get(state.value, 0)) for state, label in STATE_LABELS.items()]
    divisions = data["by_division"]
    division_tags = _top([(d, c["tags"]) for d, c in divisions.items()], MAX_DIVISIONS)
    division_awards = _top([(d, c["awards"]) for d, c in divisions.items() if c["awards"]], MAX_DIVISIONS)
    return {
        "csat": csat,
        "csat_divisions": csat_divisions,
        "decisions_per_month": Chart(
            charts.bar_chart(
                months,
                decision_series,
                title="Decisions per month, by kind",
                colors=DECISION_COLORS,
                width=960,
                ident="chart-decisions-per-month",
                empty="No decisions yet",
            ),
            ["Month", *decision_series],
            [[m, *(decision_series[k][i] for k in decision_series)] for i, m in enumerate(months)],
        ),
        "tags": Chart(
            charts.bar_chart(
                months,
                tag_series,
                title="Tags per month, by category",
                colors=CATEGORY_COLORS,
                width=960,
                ident="chart-tags",
            ),
            ["Month", *categories],
            [[m, *(tag_series[c][i] for c in categories)] for i, m in enumerate(months)],
        ),
        "awards": Chart(
            charts.bar_chart(
                award_months,
                {"awards": [awards.get(m, 0) for m in award_months]},
                title="Awards per month",
                colors={"awards": AWARD_COLOR},
                width=960,
                ident="chart-awards",
                empty="No awards yet",
            ),
            ["Month", "Awards"],
            [[m, awards.get(m, 0)] for m in award_months],
        ),
        "decisions": Chart(
            charts.hbar_chart(
                decisions,
                title="Decisions taken (revisions included)",
                series="decisions",
                ident="chart-decisions",
                empty="No decisions yet",
            ),
            ["Decision", "Count"],
            [list(p) for p in decisions],
        ),
        "standing": Chart(
            charts.hbar_chart(
                standing,
                title="Where the tagged clips stand now",
                series="clips",
                color="#6b7280",
                ident="chart-standing",
            ),
            ["State", "Clips"],
            [list(p) for p in standing],
        ),
        "queue_age": Chart(
            charts.hbar_chart(
                ages,
                title="How long the waiting clips have waited",
                series="clips",
                color="#a4262c",
                ident="chart-queue-age",
                empty="Nothing is waiting",
            ),
            ["Waiting", "Clips"],
            [list(p) for p in ages],
        ),
        "division_tags": Chart(
            charts.hbar_chart(division_tags, title="Tags by division", series="tags", ident="chart-division-tags"),
            ["Division", "Tags"],
            [list(p) for p in division_tags],
        ),
        "division_awards": Chart(
            charts.hbar_chart(
                division_awards,
                title="Awards by division",
                series="awards",
                color=AWARD_COLOR,
                ident="chart-division-awards",
                empty="No awards yet",
            ),
            ["Division", "Awards"],
            [list(p) for p in division_awards],
        ),
    }


# The charts of the last snapshot drawn, and the figures they were drawn from: the same snapshot
# (the service hands back the same objects until the worker stores the next) is not drawn again.
_drawn: tuple[dict, list[tuple[str, int]], dict[str, Chart | list[Chart]]] | None = None


def charts_of(data: dict, ages: list[tuple[str, int]]) -> dict[str, Chart | list[Chart]]:
    """build_charts(data, ages), drawn once per snapshot."""
    global _drawn
    drawn = _drawn
    if drawn is None or drawn[0] is not data or drawn[1] is not ages:
        drawn = _drawn = (data, ages, build_charts(data, ages))
    return drawn[2]


@dataclass
class AsOf:
    """How old the figures on a page are, said on the page."""

    at: datetime
    seconds_ago: int
    every: float  # the worker refreshes them this often; 0: computed for this request


def as_of(at: datetime, every: float) -> AsOf:
    return AsOf(at, max(0, round((utcnow() - at).total_seconds())), every)


@router.get("/dashboard")
def dashboard_page(request: Request, principal: ProgramPage, session: SessionDep):
    """Tags per month by category, decisions, awards, the queue's size and age, and the divisions."""
    figures, ages = dashboard_figures(session), queue_age_figures(session)
    data: dict[str, Any] = figures.figures
    return render(
        request,
        "dashboard.html",
        principal,
        charts=charts_of(data, ages.figures),
        queue=data["queue"],
        months=timeline(data),
        as_of=as_of(min(figures.as_of, ages.as_of), figures.every),
    )


@dataclass
class EquityView:
    dimension: Dimension
    chart: Chart | None  # share of tags beside share of awards, per group


def equity_views(figures: Equity) -> list[EquityView]:
    views = []
    for dimension in figures.dimensions:
        chart = None
        if dimension.recorded and dimension.groups:
            labels = [g.group for g in dimension.groups]
            series = {
                "share of tags": [round(100 * g.share_of_tags, 1) for g in dimension.groups],
                "share of awards": [round(100 * g.share_of_awards, 1) for g in dimension.groups],
            }
            chart = Chart(
                charts.bar_chart(
                    labels,
                    series,
                    title=f"Share of tags and of awards (%), by {dimension.label.lower()}",
                    stacked=False,
                    colors=SHARE_COLORS,
                    width=960,
                    ident=f"chart-equity-{dimension.key}",
                    empty="No tags or awards yet",
                ),
                [],
                [],
            )
        views.append(EquityView(dimension, chart))
    return views


@router.get("/dashboard/equity")
def equity_page(request: Request, principal: ProgramPage, session: SessionDep):
    """Who gets recognised: per 100 officers by division, shift, rank, unit and years of service;
    shares of awards beside shares of tags; concentration; divisions whose tags wait for review."""
    snapshot = equity_figures(session)
    figures, at = snapshot.figures, as_of(snapshot.as_of, snapshot.every)
    return render(request, "equity.html", principal, figures=figures, views=equity_views(figures), as_of=at)
