from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from api.awards.models import NominationSource, NominationState, VoteChoice
from api.clips.models import Category
from api.clips.schemas import Marker
from api.params import BodyId
from api.users.models import PersonKind
from api.users.schemas import PersonPublic


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


class ColleagueNominationIn(BaseModel):
    """A colleague's nomination, from any employee: who, what happened, when; a clip (and a moment
    of it) they may see, optionally. It goes to the committee like the review team's."""

    nominee: str = Field(min_length=1, max_length=50, description="the badge (a civilian's employee number)")
    narrative: str = Field(min_length=1, max_length=20000, description="what happened")
    occurred_on: date = Field(description="the day it happened (not in the future)")
    clip: NominatedClip | None = Field(default=None, description="a clip the nominator may see, and its moments")
    category: Category | None = Field(default=None, description="the kind of act; left out: the clip's, if any")


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
    source: NominationSource = Field(description="review: the review team's, from the queue; colleague: a peer's")
    narrative: str
    occurred_on: date | None = Field(description="the day it happened, as a colleague's nomination says")
    category: str | None
    officers: list[str]
    people: list[PersonPublic] = Field(description="the people nominated: name, sworn or civilian, division or unit")
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
    kind: PersonKind | None = Field(default=None, description="sworn or civilian (the directory's); null if not in it")
    division: str | None = Field(description="the person's division when awarded; a civilian employee's unit")
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
    source: NominationSource = Field(description="whether the review team or a colleague nominated them")
    occurred_on: date | None
    decided_at: datetime | None
    with_officers: list[tuple[str, str | None]] = Field(description="(badge, name) of the others awarded with them")
    with_people: list[PersonPublic] = Field(default_factory=list, description="the others awarded with them")
    clips: list[AwardClip]
    tally: TallyPublic
    votes: list[VotePublic] | None = Field(description="each member's vote; null for the officer awarded")


class RecognitionPublic(BaseModel):
    """A person's recognition: their awards and the nominations naming them, from the review team
    and from colleagues alike (each nomination's `source` says which)."""

    badge_number: str
    officer_name: str | None
    person: PersonPublic | None = Field(default=None, description="name, sworn or civilian, division or unit")
    awards: list[AwardPublic]
    nominations: list[NominationPublic]
