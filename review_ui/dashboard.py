"""Pages: the program dashboard. Charts are SVG drawn on the server (review_ui/charts.py): no JS."""

from dataclasses import dataclass

from fastapi import APIRouter, Request

from api.clips.schemas import Category
from api.db import SessionDep
from api.review.schemas import DecisionKind, ReviewState
from api.stats.service import dashboard, queue_ages
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


@dataclass
class Chart:
    svg: str
    head: list[str]  # the same numbers as a table, for those who cannot see the chart
    rows: list[list]


def _categories(tags_per_month: dict[str, dict[str, int]]) -> list[str]:
    found = {c for counts in tags_per_month.values() for c in counts}
    known = [c.value for c in Category]
    return [c for c in known if c in found] + sorted(found - set(known))


def _top(pairs: list[tuple[str, int]], limit: int) -> list[tuple[str, int]]:
    pairs = sorted(pairs, key=lambda p: (-p[1], p[0]))
    if len(pairs) <= limit:
        return pairs
    return pairs[: limit - 1] + [(f"{len(pairs) - limit + 1} other divisions", sum(v for _, v in pairs[limit - 1 :]))]


def build_charts(data: dict, ages: list[tuple[str, int]]) -> dict[str, Chart]:
    """The dashboard's charts from api.stats.service.dashboard()'s numbers and the queue's ages."""
    tags = data["tags_per_month"]
    months = charts.month_range(list(tags))
    categories = _categories(tags)
    tag_series = {c: [tags.get(m, {}).get(c, 0) for m in months] for c in categories}
    awards = data["awards_per_month"]
    award_months = charts.month_range(list(awards))
    taken, current = data["decisions"]["taken"], data["decisions"]["current"]
    decisions = [(label, taken.get(kind.value, 0)) for kind, label in DECISION_LABELS.items()]
    standing = [(label, current.get(state.value, 0)) for state, label in STATE_LABELS.items()]
    divisions = data["by_division"]
    division_tags = _top([(d, c["tags"]) for d, c in divisions.items()], MAX_DIVISIONS)
    division_awards = _top([(d, c["awards"]) for d, c in divisions.items() if c["awards"]], MAX_DIVISIONS)
    return {
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


@router.get("/dashboard")
def dashboard_page(request: Request, principal: ProgramPage, session: SessionDep):
    """Tags per month by category, decisions, awards, the queue's size and age, and the divisions."""
    data = dashboard(session)
    return render(
        request, "dashboard.html", principal, charts=build_charts(data, queue_ages(session)), queue=data["queue"]
    )
