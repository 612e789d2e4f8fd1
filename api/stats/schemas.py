"""What GET /api/v1/stats/equity returns, and what the equity page shows; a snapshot of figures."""

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

MEASURES = ("tags", "selections", "nominations", "awards")
T = TypeVar("T")


class Group(BaseModel):
    """One group of officers (a division, a shift, ...) and the recognition its officers had."""

    group: str
    officers: int  # headcount: officers in the directory in this group (badges it lacks: their own group)
    tags: int  # tagged clips of these officers (a clip with several tags counts once)
    selections: int  # their clips now selected for training
    nominations: int  # nominations naming one of them (each nomination once per officer named)
    awards: int
    per_100: dict[str, float]  # each of MEASURES per 100 officers of the group
    share_of_tags: float  # 0-1 of all tags
    share_of_awards: float  # 0-1 of all awards


class Dimension(BaseModel):
    key: str  # division, shift, rank, unit, years, kind
    label: str
    recorded: bool  # False: the officer directory has no such column yet; groups is empty
    groups: list[Group]


class Concentration(BaseModel):
    """How unevenly something is spread over the officers (those with none count, as zeros)."""

    total: int
    officers: int
    top_decile_officers: int  # ceil(10 % of the officers)
    top_decile_share: float  # 0-1: the share the top 10 % of officers hold
    gini: float  # 0: everyone alike; near 1: one officer has everything


class ReviewRate(BaseModel):
    division: str
    tagged: int  # tagged clips of the division's officers
    reviewed: int  # of which decided: selected for training, nominated or dismissed
    rate: float | None  # reviewed / tagged; None with no tagged clips
    judged: bool  # False: fewer than MIN_TAGGED tagged clips, too few to call
    flagged: bool  # judged, and under FLAG_RATIO of the median rate of the judged divisions


class ReviewRates(BaseModel):
    rule: str  # the flag's rule in words, shown on the page
    min_tagged: int
    flag_ratio: float
    median: float | None
    divisions: list[ReviewRate]


class Equity(BaseModel):
    officers: int  # every officer counted: the directory's, and badges seen on clips or awards it lacks
    totals: dict[str, int]  # each of MEASURES over everyone
    dimensions: list[Dimension]
    concentration: dict[str, Concentration]  # "awards", and "tags" beside it for comparison
    review_rates: ReviewRates
    as_of: datetime | None = None  # when these figures were computed (they may be BESTPART_STATS_CACHE_SECONDS old)


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    """Figures as a page reads them, and the moment they were computed (the page says how old)."""

    figures: T
    as_of: datetime
    every: float  # seconds between refreshes (BESTPART_STATS_CACHE_SECONDS); 0: computed for this request
