"""Acts of Excellence: nominations, the committee's votes on them, and the awards that follow."""

from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from api.core.types import UTCDateTime, text_enum, utcnow


class NotSaved(RuntimeError):
    """A row's id was read before the row was flushed: a bug in the caller, never a request's fault."""


class _Row(Protocol):
    id: int | None


def saved_id(row: _Row) -> int:
    """The id of a row read from the database or flushed (`id` is None only before the flush)."""
    if row.id is None:
        raise NotSaved(f"{type(row).__name__} has no id before it is flushed")
    return row.id


class NominationSource(StrEnum):
    """Where a nomination came from: the review team (from the queue, with its clips), or a colleague
    (any employee, from the nomination form: who, what happened, when, a clip optionally)."""

    REVIEW = "review"
    COLLEAGUE = "colleague"


class NominationState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class Nomination(SQLModel, table=True):
    __tablename__ = "nominations"

    id: int | None = Field(default=None, primary_key=True)
    narrative: str
    state: NominationState = Field(default=NominationState.PENDING, index=True, sa_type=text_enum(NominationState))
    # The kind of act (an api.clips.models.Category value): named by the nominator, or the category
    # the nominated clips' tags name most. The awards record is filtered by it.
    category: str | None = Field(default=None, max_length=40)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_by_name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    source: NominationSource = Field(
        default=NominationSource.REVIEW,
        index=True,
        sa_type=text_enum(NominationSource),
        sa_column_kwargs={"server_default": NominationSource.REVIEW.value},
    )
    occurred_on: date | None = None  # when it happened, as a colleague's nomination says
    # Set when the votes settle it: the members who voted with the outcome, when, and the rule in
    # force then (a later change of the quorum or majority does not rewrite past decisions).
    decided_by_name: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reason: str | None = None
    award_name: str | None = Field(default=None, max_length=200)
    quorum: int | None = None
    majority: float | None = None


class NominationOfficer(SQLModel, table=True):
    __tablename__ = "nomination_officers"

    nomination_id: int = Field(foreign_key="nominations.id", primary_key=True, ondelete="CASCADE")
    badge_number: str = Field(primary_key=True, max_length=50, index=True)


class NominationClip(SQLModel, table=True):
    __tablename__ = "nomination_clips"

    id: int | None = Field(default=None, primary_key=True)
    nomination_id: int = Field(foreign_key="nominations.id", index=True, ondelete="CASCADE")
    clip_id: int = Field(foreign_key="clips.id", index=True)
    moments: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class VoteChoice(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    RECUSE = "recuse"  # the member steps aside: counted neither for nor against, nor toward the quorum


class CommitteeVote(SQLModel, table=True):
    """One committee member's vote on (or recusal from) one nomination: one each, never changed."""

    __tablename__ = "committee_votes"
    __table_args__ = (sa.UniqueConstraint("nomination_id", "user_id", name="uq_committee_votes_member"),)

    id: int | None = Field(default=None, primary_key=True)
    nomination_id: int = Field(foreign_key="nominations.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", index=True)
    voter_name: str = Field(max_length=100)
    choice: VoteChoice = Field(sa_type=text_enum(VoteChoice))
    reason: str | None = None
    # What an approving member proposes; the first approving vote names the award.
    award_name: str | None = Field(default=None, max_length=200)
    awarded_on: date | None = None
    cast_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Award(SQLModel, table=True):
    __tablename__ = "awards"

    id: int | None = Field(default=None, primary_key=True)
    nomination_id: int = Field(foreign_key="nominations.id", index=True)
    badge_number: str = Field(max_length=50, index=True)
    award_name: str = Field(max_length=200)
    awarded_on: date
    # The person's division at the time (a civilian employee's unit): the directory's affiliation.
    division: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=40, index=True)  # the nomination's, at the time
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
