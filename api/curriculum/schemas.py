"""What the curriculum API takes and returns."""

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

from api.curriculum.models import (
    DetectionState,
    ExportState,
    RedactionStatus,
    TrackAction,
    TrackKind,
    WordOrigin,
)
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
    available: bool = Field(
        description="false once the clip is no longer selected for training, or its retention has ended"
    )
    withdrawn_at: datetime | None = None
    withdrawn_reason: str | None = Field(default=None, description="why the segment was withdrawn from the lesson")
    retain_until: date | None = Field(default=None, description="the source's retention date (the evidence system's)")
    expires_in_days: int | None = Field(default=None, description="days until the source's retention ends")
    expiry_warning: bool = Field(default=False, description="the source's retention ends within the warning days")
    expired: bool = False


class LessonSummary(BaseModel):
    id: int
    course_id: BodyId
    title: str
    summary: str | None
    position: int
    created_at: datetime
    state: str = "draft"
    published_at: datetime | None = None
    published_by_name: str | None = None


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
    revoked_at: datetime | None = None
    revoked_reason: str | None = Field(default=None, description="why the export was revoked: its download answers 410")
    download_url: str | None = Field(description="set once the export is done (and while it is not revoked)")


# --- redaction of a lesson item -----------------------------------------------------------------


class KeyframeIn(BaseModel):
    t: float = Field(ge=0, description="seconds on the clip's timeline")
    box: list[float] = Field(min_length=4, max_length=4, description="[x, y, width, height] in the proxy's pixels")

    @field_validator("box")
    @classmethod
    def _positive_size(cls, box: list[float]) -> list[float]:
        if box[2] <= 0 or box[3] <= 0:
            raise ValueError("a box needs a width and a height above 0")
        return [round(float(v), 2) for v in box]


class ManualTrackIn(BaseModel):
    label: str | None = Field(default=None, max_length=200, description="what it hides: a screen, a document, a plate")
    keyframes: list[KeyframeIn] = Field(min_length=1, max_length=2000)


class KeyframesIn(BaseModel):
    """Add or move keyframes of a manual track: a keyframe at the time of an existing one moves it."""

    keyframes: list[KeyframeIn] = Field(min_length=1, max_length=2000)
    remove_times: list[float] = Field(default_factory=list, max_length=2000, description="keyframes to take out")


class KeepReason(StrEnum):
    FEATURED_OFFICER = "featured_officer"
    CONSENT = "consent"


class TrackEdit(BaseModel):
    action: TrackAction
    keep_reason: KeepReason | None = Field(default=None, description="why a face is kept visible (needed to keep)")
    keep_note: str | None = Field(
        default=None, max_length=2000, description="for consent: who consented, how, where the record is"
    )


class WordToggle(BaseModel):
    bleep: bool


class WordsIn(BaseModel):
    """Words a reviewer marks to bleep: a run in one transcript segment."""

    segment: int = Field(ge=0)
    first_word: int = Field(ge=0)
    last_word: int = Field(ge=0)


class PreviewIn(BaseModel):
    start: float = Field(ge=0, description="seconds on the clip's timeline, within the segment")
    seconds: float = Field(default=4.0, gt=0, le=10, description="how much to render")


class TrackPublic(BaseModel):
    id: int
    kind: TrackKind
    track_no: int | None
    label: str | None
    action: TrackAction
    keep_reason: str | None
    keep_note: str | None
    keyframes: list[dict]
    first_time: float | None
    last_time: float | None
    detections: int


class WordPublic(BaseModel):
    id: int
    origin: WordOrigin
    kind: str
    segment: int
    first_word: int
    last_word: int
    start: float
    end: float
    text: str
    speaker: str | None
    bleep: bool


class RedactionPublic(BaseModel):
    id: int
    item_id: BodyId
    lesson_id: BodyId
    clip_id: BodyId
    status: RedactionStatus
    version: int
    detection: DetectionState
    detection_error: str | None
    detected_at: datetime | None
    in_point: float | None
    out_point: float | None
    stale: bool = Field(description="the item's segment changed since the detection: detect again")
    detector: dict | None
    settings: dict | None
    frame_rate: str | None
    width: int | None
    height: int | None
    editors: list[dict]
    edits: list[dict]
    approved_by_name: str | None
    approved_at: datetime | None
    approved_version: int | None
    self_approval: bool = Field(description="whether the one who prepared it may approve it (a setting)")
    tracks: list[TrackPublic]
    words: list[WordPublic]
    proxy_url: str
    preview_state: DetectionState | None = None
    preview_start: float | None = None
    preview_end: float | None = None
    preview_version: int | None = Field(default=None, description="the version the preview shows")
    preview_error: str | None = None
    preview_url: str | None = Field(default=None, description="the latest preview render, when there is one")


# --- the governed release ------------------------------------------------------------------------


class ExportIn(BaseModel):
    burn_captions: bool = Field(default=False, description="burn the captions into the stitched lesson.mp4 as well")


class RetentionIn(BaseModel):
    retain_until: date | None = Field(description="the evidence system's retention date; null clears it")


class RetentionPublic(BaseModel):
    clip_id: int
    retain_until: date | None


class NoticePublic(BaseModel):
    id: int
    lesson_id: BodyId
    badge_number: str
    officer_name: str | None
    shown: dict = Field(description="item id → the approved redaction version the officer was shown")
    state: str
    notified_at: datetime
    respond_by: datetime
    responded_at: datetime | None
    responded_by_name: str | None
    objection: str | None
    decided_at: datetime | None
    decided_by_name: str | None
    decision_note: str | None
    page_url: str


class ItemReleasePublic(BaseModel):
    item_id: int
    redaction_version: int | None
    render_state: str | None
    render_error: str | None = None


class ReleasePublic(BaseModel):
    lesson_id: int
    state: str
    published_at: datetime | None
    published_by_name: str | None
    requested: bool
    can_publish: bool
    blockers: list[str]
    items: list[ItemReleasePublic]
    notices: list[NoticePublic]
    player_url: str | None = Field(description="where trainees watch it, once published")


class NoticeResponseIn(BaseModel):
    consent: bool = Field(description="true: I agree to the segment being shown; false: I object")
    objection: str | None = Field(default=None, max_length=5000, description="why (needed to object)")


class DecisionKind(StrEnum):
    RELEASE = "release"
    WITHHOLD = "withhold"


class DecisionIn(BaseModel):
    decision: DecisionKind
    note: str = Field(min_length=1, max_length=5000, description="why: recorded with the objection")


class NoticeSegmentPublic(BaseModel):
    item_id: int
    title: str
    duration: float
    state: str
    video_url: str | None
    captions_url: str | None
    annotations: list[dict]


class NoticeDetailPublic(NoticePublic):
    lesson_title: str
    open: bool = Field(description="the officer may still consent or object")
    segments: list[NoticeSegmentPublic]


class PlayerSegmentPublic(BaseModel):
    item_id: int
    position: int
    title: str | None
    duration: float
    video_url: str
    captions_url: str
    annotations: list[dict] = Field(description="[{offset: seconds into the segment, text}]")


class PlayerPublic(BaseModel):
    lesson_id: int
    title: str
    summary: str | None
    course_title: str
    published_at: datetime | None
    segments: list[PlayerSegmentPublic]
    withdrawn: int = Field(description="segments of the published lesson no longer shown (source withdrawn or expired)")


class PublishedLessonPublic(BaseModel):
    id: int
    title: str
    summary: str | None
    course_title: str
    published_at: datetime | None
    player_url: str


class ViewPublic(BaseModel):
    id: int
    lesson_id: BodyId
    user_id: int | None
    user_name: str
    started_at: datetime
    last_seen_at: datetime
    ranges: list[list] = Field(description="[item id, start, end]: seconds into that segment, merged")
    watched_seconds: float
    lesson_seconds: float


class RangesIn(BaseModel):
    ranges: list[list[float]] = Field(max_length=500, description="[item id, start, end] as the player played them")

    @field_validator("ranges")
    @classmethod
    def _triples(cls, ranges: list[list[float]]) -> list[list[float]]:
        for entry in ranges:
            if len(entry) != 3 or entry[2] < entry[1] or entry[1] < 0:
                raise ValueError("each range is [item id, start, end] with 0 <= start <= end")
        return ranges
