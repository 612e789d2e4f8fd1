from datetime import datetime

from pydantic import BaseModel, Field

from api.clips.models import Category
from api.clips.schemas import ClipPublic, Marker, StagePublic
from api.review.models import DecisionKind, ReviewState
from api.search.schemas import SearchHit


class NominationDraft(BaseModel):
    """The nomination a nominate decision makes, in the same transaction (the clip is the decided one)."""

    officers: list[str] = Field(min_length=1, max_length=50, description="badge numbers")
    narrative: str = Field(min_length=1, max_length=20000)
    moments: list[Marker] = Field(default_factory=list, max_length=200)
    category: Category | None = Field(default=None, description="left out: the category the clip's tags name most")


class DecisionIn(BaseModel):
    kind: DecisionKind
    reason: str | None = Field(
        default=None, max_length=5000, description="required to dismiss (why) and for needs_info (the question)"
    )
    rubric: dict[str, bool] = Field(default_factory=dict)
    notes: str | None = Field(default=None, max_length=20000)
    nomination: NominationDraft | None = Field(
        default=None, description="required to nominate (and only then): the nomination, made with the decision"
    )


class DecisionPublic(BaseModel):
    id: int
    clip_id: int
    kind: DecisionKind
    reviewer_name: str
    reason: str | None
    rubric: dict[str, bool]
    notes: str | None
    revises_id: int | None
    nomination_id: int | None = None
    created_at: datetime


class ClipNominationPublic(BaseModel):
    id: int
    outcome: str = Field(description="pending, awarded or declined: the nomination's own state")
    award_name: str | None = None


class ReviewItemPublic(BaseModel):
    clip_id: int
    state: ReviewState
    claimed_by_name: str | None
    claim_expires_at: datetime | None
    queued_at: datetime
    updated_at: datetime
    age_seconds: float
    clip_status: str
    clip_progress: float | None = None
    badge_number: str | None
    officer_name: str | None = Field(default=None, description="from the officer directory")
    division: str | None
    categories: list[str]
    evidence_id: str | None
    recorded_at: datetime | None
    priority: float
    poster: str | None = Field(default=None, description="the poster frame's URL, once there is one")
    hit: SearchHit | None = Field(default=None, description="with a text filter: the best passage it matched")
    selected_for_training: bool = False
    nomination: ClipNominationPublic | None = Field(default=None, description="the latest nomination naming it")
    compliment: bool = Field(default=False, description="a satisfied person's survey response is linked to it")
    eta_seconds: float | None = Field(default=None, description="while processing: seconds until it should be ready")


class QueuePage(BaseModel):
    items: list[ReviewItemPublic]
    counts: dict[str, int]
    total: int


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=5000)


class RubricItemIn(BaseModel):
    key: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_]+$")
    label: str = Field(min_length=1, max_length=200)
    position: int = 0
    active: bool = True


class RubricItemPublic(RubricItemIn):
    id: int


class ClipReviewPublic(BaseModel):
    item: ReviewItemPublic | None
    decisions: list[DecisionPublic]
    replies: list[dict]
    state: ReviewState | None = Field(default=None, description="derived from the decisions, replies and claim")
    held_by: str | None = Field(default=None, description="the reviewer holding a claim on it now")
    selected_for_training: bool = False
    nomination: ClipNominationPublic | None = None
    reviewable: bool = False


class ProgressPublic(BaseModel):
    clip_id: int
    status: str
    progress: float
    stages: list[StagePublic]
    reason: str | None
    eta_seconds: float | None = Field(description="from the measured real-time factor; null: done or not yet known")


class IntakeProblemPublic(BaseModel):
    clip_id: int
    status: str
    badge_number: str | None
    evidence_id: str | None
    reason: str
    what_to_do: str
    created_at: datetime


class MyClipPublic(BaseModel):
    """One of the caller's clips, and where it stands in review."""

    clip: ClipPublic
    review_state: ReviewState | None
    decision: DecisionPublic | None = Field(description="the latest decision")
    question: str | None = Field(description="the review team's open question: answer it with POST .../replies")
    last_reply: dict | None = Field(description="the officer's latest answer")
    can_reply: bool
    can_tag: bool
    nomination: ClipNominationPublic | None = None
    selected_for_training: bool = False
    eta_seconds: float | None = None
