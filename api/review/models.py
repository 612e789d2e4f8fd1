"""The review queue: one item per clip, the decisions taken on it, and the rubric."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from api.core.types import UTCDateTime, text_enum, utcnow


class ReviewState(StrEnum):
    QUEUED = "queued"
    IN_REVIEW = "in_review"
    SELECTED_FOR_TRAINING = "selected_for_training"
    NOMINATED = "nominated"
    DISMISSED = "dismissed"
    NEEDS_INFO = "needs_info"


class DecisionKind(StrEnum):
    SELECT_FOR_TRAINING = "selected_for_training"
    NOMINATE = "nominated"
    DISMISS = "dismissed"
    NEEDS_INFO = "needs_info"


class ReviewItem(SQLModel, table=True):
    """A clip's place in the queue. `state` is never set by hand: api.review.service.derive_state
    computes it from the decisions, the officer's replies and the claim each time one of them
    changes (it is stored for the queue's indexes). A nomination's outcome is read from the awards'
    records, not from here."""

    __tablename__ = "review_items"
    __table_args__ = (  # the queue's own orders (migration 0004): a page reads its rows, no sort of all
        sa.Index("ix_review_items_priority_order", "priority", "queued_at", "id"),
        sa.Index("ix_review_items_state_priority_order", "state", "priority", "queued_at", "id"),
        sa.Index("ix_review_items_state_queued_order", "state", "queued_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    clip_id: int = Field(foreign_key="clips.id", unique=True, ondelete="CASCADE")
    state: ReviewState = Field(default=ReviewState.QUEUED, index=True, sa_type=text_enum(ReviewState))
    priority: float = Field(default=0.0, index=True)  # the recognizer's score: higher first
    claimed_by: int | None = Field(default=None, foreign_key="users.id")
    claimed_by_name: str | None = Field(default=None, max_length=100)
    claim_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    queued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Decision(SQLModel, table=True):
    """Append-only: revising a decision adds a new one that names the one it revises."""

    __tablename__ = "decisions"

    id: int | None = Field(default=None, primary_key=True)
    clip_id: int = Field(foreign_key="clips.id", index=True, ondelete="CASCADE")
    kind: DecisionKind = Field(sa_type=text_enum(DecisionKind), index=True)
    reviewer_id: int | None = Field(default=None, foreign_key="users.id")
    reviewer_name: str = Field(max_length=100)
    reason: str | None = None  # why dismissed, or the question for the officer
    rubric: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    notes: str | None = None
    revises_id: int | None = Field(default=None, foreign_key="decisions.id")
    # A nominate decision's nomination, made in the same transaction (migration 0014): the decision
    # is never recorded without it.
    nomination_id: int | None = Field(default=None, foreign_key="nominations.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class OfficerReply(SQLModel, table=True):
    """An officer's answer to a needs-info question; it sends the clip back to the queue."""

    __tablename__ = "officer_replies"

    id: int | None = Field(default=None, primary_key=True)
    clip_id: int = Field(foreign_key="clips.id", index=True, ondelete="CASCADE")
    decision_id: int = Field(foreign_key="decisions.id")
    user_id: int = Field(foreign_key="users.id")
    text: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RubricItem(SQLModel, table=True):
    __tablename__ = "rubric_items"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=60, unique=True)
    label: str = Field(max_length=200)
    position: int = 0
    active: bool = True


DEFAULT_RUBRIC = [
    ("introduced_self", "Introduced self"),
    ("explained_actions", "Explained actions"),
    ("showed_empathy", "Showed empathy"),
    ("offered_resources", "Offered resources"),
    ("life_saving_action", "Life-saving action"),
    ("community_connection", "Community connection"),
]
