"""The training curriculum: courses, ordered lessons, lesson items cut from selected clips."""

from datetime import datetime
from enum import StrEnum

from sqlmodel import JSON, Column, Field, SQLModel

from api.core.types import UTCDateTime, text_enum, utcnow


class Course(SQLModel, table=True):
    __tablename__ = "courses"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    description: str | None = None
    created_by_name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Lesson(SQLModel, table=True):
    __tablename__ = "lessons"

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="courses.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=200)
    summary: str | None = None
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LessonItem(SQLModel, table=True):
    __tablename__ = "lesson_items"

    id: int | None = Field(default=None, primary_key=True)
    lesson_id: int = Field(foreign_key="lessons.id", index=True, ondelete="CASCADE")
    clip_id: int = Field(foreign_key="clips.id", index=True)
    position: int = 0
    title: str | None = Field(default=None, max_length=200)
    in_point: float
    out_point: float
    annotations: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class ExportState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class LessonExport(SQLModel, table=True):
    __tablename__ = "lesson_exports"

    id: int | None = Field(default=None, primary_key=True)
    lesson_id: int = Field(foreign_key="lessons.id", index=True, ondelete="CASCADE")
    state: ExportState = Field(default=ExportState.QUEUED, sa_type=text_enum(ExportState))
    progress: float = 0.0
    path: str | None = None
    size_bytes: int | None = None
    sha256: str | None = Field(default=None, max_length=64)
    error: str | None = None
    requested_by_name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
