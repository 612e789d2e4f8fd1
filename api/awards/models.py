"""Acts of Excellence: nominations, the committee's decision, and the awards that follow."""

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import JSON, Column, Field, SQLModel

from api.core.types import UTCDateTime, text_enum, utcnow


class NominationState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class Nomination(SQLModel, table=True):
    __tablename__ = "nominations"

    id: int | None = Field(default=None, primary_key=True)
    narrative: str
    state: NominationState = Field(default=NominationState.PENDING, index=True, sa_type=text_enum(NominationState))
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_by_name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_by_name: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reason: str | None = None
    award_name: str | None = Field(default=None, max_length=200)


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


class Award(SQLModel, table=True):
    __tablename__ = "awards"

    id: int | None = Field(default=None, primary_key=True)
    nomination_id: int = Field(foreign_key="nominations.id", index=True)
    badge_number: str = Field(max_length=50, index=True)
    award_name: str = Field(max_length=200)
    awarded_on: date
    division: str | None = Field(default=None, max_length=200)  # the officer's division at the time
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
