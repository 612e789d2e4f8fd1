from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from api.awards.models import NominationState
from api.clips.schemas import Marker
from api.params import BodyId


class NominatedClip(BaseModel):
    clip_id: BodyId
    moments: list[Marker] = Field(default_factory=list, max_length=100)


class NominationIn(BaseModel):
    officers: list[str] = Field(min_length=1, max_length=50, description="badge numbers")
    clips: list[NominatedClip] = Field(min_length=1, max_length=50)
    narrative: str = Field(min_length=1, max_length=20000)


class CommitteeDecisionIn(BaseModel):
    approve: bool
    reason: str | None = Field(default=None, max_length=5000, description="required to decline")
    award_name: str = Field(default="Act of Excellence", min_length=1, max_length=200)
    awarded_on: date | None = None


class NominationOrder(StrEnum):
    NEWEST = "newest"  # by when nominated, newest first
    OLDEST = "oldest"  # by when nominated, oldest first: the order the committee works through them
    RECENTLY_DECIDED = "recently_decided"


class NominationPublic(BaseModel):
    id: int
    state: NominationState
    narrative: str
    officers: list[str]
    clips: list[NominatedClip]
    created_by_name: str
    created_at: datetime
    decided_by_name: str | None
    decided_at: datetime | None
    decision_reason: str | None
    award_name: str | None


class AwardPublic(BaseModel):
    id: int
    nomination_id: int
    badge_number: str
    officer_name: str | None
    division: str | None
    award_name: str
    awarded_on: date


class RecognitionPublic(BaseModel):
    badge_number: str
    officer_name: str | None
    awards: list[AwardPublic]
    nominations: list[NominationPublic]
