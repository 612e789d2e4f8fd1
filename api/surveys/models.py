from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from api.core.types import UTCDateTime, utcnow


class SurveyImport(SQLModel, table=True):
    """One file imported: how many rows, and what became of each that was not taken."""

    __tablename__ = "survey_imports"

    id: int | None = Field(default=None, primary_key=True)
    filename: str = Field(max_length=300)
    sha256: str = Field(max_length=64)
    rows: int
    accepted: int
    unchanged: int  # imported before, with the same values
    refused: int
    refusals: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    imported_by: str = Field(max_length=200)
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SurveyResponse(SQLModel, table=True):
    """One person's answer about one incident. `comment` is their own words as sent, for admins;
    `comment_shown` is what everyone else sees: the same with personal details replaced by
    "[redacted]", None until the worker has checked it."""

    __tablename__ = "survey_responses"

    id: int | None = Field(default=None, primary_key=True)
    survey_id: str = Field(max_length=100, unique=True, index=True)
    incident_number: str = Field(max_length=200, index=True)
    responded_on: date = Field(sa_type=sa.Date, index=True)
    division: str | None = Field(default=None, max_length=200)
    score: float  # as sent: 1-5, or a percentage
    scale: str = Field(max_length=10)  # "1-5" or "percent"
    satisfaction: float  # 0-1: (score - 1) / 4, or percent / 100
    comment: str | None = Field(default=None, sa_type=sa.Text)
    comment_shown: str | None = Field(default=None, sa_type=sa.Text)
    badge_number: str | None = Field(default=None, max_length=50, index=True)
    import_id: int = Field(foreign_key="survey_imports.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
