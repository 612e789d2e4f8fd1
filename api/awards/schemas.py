from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from api.awards.models import NominationState, VoteChoice
from api.clips.models import Category
from api.clips.schemas import Marker
from api.params import BodyId


class NominatedClip(BaseModel):
    clip_id: BodyId
    moments: list[Marker] = Field(default_factory=list, max_length=100)


class NominationIn(BaseModel):
    officers: list[str] = Field(min_length=1, max_length=50, description="badge numbers")
    clips: list[NominatedClip] = Field(min_length=1, max_length=50)
    narrative: str = Field(min_length=1, max_length=20000)
    category: Category | None = Field(
        default=None, description="the kind of act; left out: the category the clips' tags name most"
    )


class VoteIn(BaseModel):
    """One committee member's vote. The first approving vote names the award (and may date it)."""

    approve: bool
    reason: str | None = Field(default=None, max_length=5000, description="required to vote to decline")
    award_name: str | None = Field(default=None, min_length=1, max_length=200)
    awarded_on: date | None = Field(default=None, description="left out: the day the votes settle it")


class CommitteeDecisionIn(VoteIn):
    """The caller's vote, as POST .../decision has always taken it (see POST .../votes)."""

    award_name: str = Field(default="Act of Excellence", min_length=1, max_length=200)


class RecusalIn(BaseModel):
    reason: str | None = Field(default=None, max_length=5000, description="why, e.g. 'I supervise the officer'")


class NominationOrder(StrEnum):
    NEWEST = "newest"  # by when nominated, newest first
    OLDEST = "oldest"  # by when nominated, oldest first: the order the committee works through them
    RECENTLY_DECIDED = "recently_decided"


class VotePublic(BaseModel):
    voter_name: str
    choice: VoteChoice
    reason: str | None
    award_name: str | None
    awarded_on: date | None
    cast_at: datetime


class TallyPublic(BaseModel):
    """Where the votes stand, under the rule in force (or, once decided, the rule it was decided under).
    quorum None on a nomination decided before votes existed (one member's decision)."""

    votes_for: int
    votes_against: int
    recused: int
    quorum: int | None
    majority: float | None = Field(description="the share of the votes cast that approvals must exceed")
    votes_needed: int = Field(description="votes still to be cast before the outcome follows (0 once decided)")


class NominationPublic(BaseModel):
    id: int
    state: NominationState
    narrative: str
    category: str | None
    officers: list[str]
    clips: list[NominatedClip]
    created_by_name: str
    created_at: datetime
    decided_by_name: str | None
    decided_at: datetime | None
    decision_reason: str | None
    award_name: str | None
    tally: TallyPublic
    votes: list[VotePublic] | None = Field(
        description="each member's vote; null for a reader outside the review team and the committee"
    )
    my_vote: VoteChoice | None = Field(default=None, description="the caller's own vote or recusal")
    award_ids: list[int] = Field(default_factory=list, description="the awards it became, one per officer")


class AwardPublic(BaseModel):
    id: int
    nomination_id: int
    badge_number: str
    officer_name: str | None
    division: str | None
    category: str | None
    award_name: str
    awarded_on: date


class AwardMoment(BaseModel):
    at: float
    note: str


class AwardClip(BaseModel):
    clip_id: int
    viewable: bool = Field(description="whether the caller may open the clip (its page, its player)")
    recorded_at: datetime | None
    moments: list[AwardMoment]


class AwardDetail(AwardPublic):
    """One award with what it was given for and how it was decided."""

    narrative: str
    nominated_by: str
    nominated_at: datetime
    decided_at: datetime | None
    with_officers: list[tuple[str, str | None]] = Field(description="(badge, name) of the others awarded with them")
    clips: list[AwardClip]
    tally: TallyPublic
    votes: list[VotePublic] | None = Field(description="each member's vote; null for the officer awarded")


class RecognitionPublic(BaseModel):
    badge_number: str
    officer_name: str | None
    awards: list[AwardPublic]
    nominations: list[NominationPublic]
