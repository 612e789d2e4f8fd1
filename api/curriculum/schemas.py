"""What the curriculum API takes and returns."""

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from api.curriculum.models import ExportState
from api.params import BodyId


class CourseIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20000)


class CourseUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20000)


class LessonIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    summary: str | None = Field(default=None, max_length=20000)
    position: int | None = Field(
        default=None, ge=0, le=100_000, description="0-based place in the course; default: last"
    )


class LessonUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    summary: str | None = Field(default=None, max_length=20000)
    position: int | None = Field(default=None, ge=0, le=100_000, description="move the lesson to this 0-based place")


class Annotation(BaseModel):
    at: float = Field(ge=0, description="seconds into the clip, within [in_point, out_point]")
    text: str = Field(min_length=1, max_length=2000, description="what went well at this moment")


class ItemIn(BaseModel):
    clip_id: BodyId
    in_point: float = Field(ge=0, description="seconds into the clip where the segment starts")
    out_point: float = Field(gt=0, description="seconds into the clip where the segment ends")
    title: str | None = Field(default=None, max_length=200)
    annotations: list[Annotation] = Field(default_factory=list, max_length=200)


class ItemUpdate(BaseModel):
    in_point: float | None = Field(default=None, ge=0)
    out_point: float | None = Field(default=None, gt=0)
    title: str | None = Field(default=None, max_length=200)
    annotations: list[Annotation] | None = Field(default=None, max_length=200)

    @field_validator("in_point", "out_point")
    @classmethod
    def _no_null_point(cls, value: float | None) -> float:
        # Only called for a value sent: a segment always has both ends, so null is a mistake.
        if value is None:
            raise ValueError("a segment needs both ends: leave the field out to keep it, not null")
        return value


class ItemReorder(BaseModel):
    item_ids: list[BodyId] = Field(min_length=1, description="every item of the lesson, in the new order")


class LessonReorder(BaseModel):
    lesson_ids: list[BodyId] = Field(min_length=1, description="every lesson of the course, in the new order")


class ItemPublic(BaseModel):
    id: int
    lesson_id: BodyId
    clip_id: BodyId
    position: int
    title: str | None
    in_point: float
    out_point: float
    duration: float
    annotations: list[Annotation]
    proxy_url: str = Field(description="play [in_point, out_point] of this to play the item")
    available: bool = Field(description="false once the clip is no longer selected for training")


class LessonSummary(BaseModel):
    id: int
    course_id: BodyId
    title: str
    summary: str | None
    position: int
    created_at: datetime


class LessonPublic(LessonSummary):
    course_title: str
    duration: float
    items: list[ItemPublic]


class CourseSummary(BaseModel):
    id: int
    title: str
    description: str | None
    created_by_name: str
    created_at: datetime


class CoursePublic(CourseSummary):
    lessons: list[LessonSummary]


class LessonOutlinePublic(LessonSummary):
    items: int = Field(description="how many segments the lesson has")
    duration: float = Field(description="seconds: its segments together")


class CourseOutlinePublic(CourseSummary):
    """A course with its lessons in order, as the curriculum page shows it."""

    lessons: list[LessonOutlinePublic]


class ClipLessonPublic(BaseModel):
    """A lesson that uses a clip, and the segments of the clip it uses."""

    lesson_id: BodyId
    lesson_title: str
    course_id: BodyId
    course_title: str
    item_ids: list[BodyId]


class ExportPublic(BaseModel):
    id: int
    lesson_id: BodyId
    state: ExportState
    progress: float
    error: str | None
    size_bytes: int | None
    sha256: str | None
    requested_by_name: str
    created_at: datetime
    finished_at: datetime | None
    download_url: str | None = Field(description="set once the export is done")
