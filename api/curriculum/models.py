"""The training curriculum: courses, ordered lessons, lesson items cut from selected clips."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from api.core.types import UTCDateTime, text_enum, utcnow


class Course(SQLModel, table=True):
    __tablename__ = "courses"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    description: str | None = None
    created_by_name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LessonState(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Lesson(SQLModel, table=True):
    __tablename__ = "lessons"

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="courses.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=200)
    summary: str | None = None
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Published: every signed-in employee may watch it (the player). What plays is the snapshot
    # taken at publication (`published_items`: each item's approved redaction version, its render,
    # its annotations), so a later edit changes nothing trainees see until the lesson is published
    # again; an item withdrawn since (its clip no longer selected, or its retention ended) is skipped.
    state: LessonState = Field(
        default=LessonState.DRAFT, sa_type=text_enum(LessonState), sa_column_kwargs={"server_default": "draft"}
    )
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_by_name: str | None = Field(default=None, max_length=100)
    published_items: list[dict] | None = Field(default=None, sa_column=Column(JSON))


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
    # Set when the source's retention ended (clips.retain_until passed): the segment leaves the
    # player and the exports, and every export holding it is revoked.
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_reason: str | None = None
    expiry_warned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the 30-day warning, once


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
    # The stitched lesson.mp4 carries the captions as a soft track always; burned in too when asked.
    burn_captions: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # Revoked when a source is withdrawn from training or an item removed: the download answers 410.
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_reason: str | None = None


class LessonExportItem(SQLModel, table=True):
    """Which lesson items (and clips) an export holds: what a withdrawal revokes."""

    __tablename__ = "lesson_export_items"

    export_id: int = Field(foreign_key="lesson_exports.id", primary_key=True, ondelete="CASCADE")
    item_id: int = Field(primary_key=True)  # no foreign key: the item may be removed, the record stays
    clip_id: int = Field(foreign_key="clips.id", index=True)
    redaction_version: int | None = None


# --- redaction of a lesson item ----------------------------------------------------------------


class RedactionStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


class DetectionState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Redaction(SQLModel, table=True):
    """How one lesson item's segment is redacted: its tracks and words, and who approved it.

    `version` counts every change; an approval holds for the version approved only, so any edit
    after it returns the redaction to draft. `editors` are the people who prepared this version
    (detection requested or edits made since the last approval): the approver must be someone else
    unless the self-approval setting allows it."""

    __tablename__ = "redactions"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="lesson_items.id", unique=True, ondelete="CASCADE")
    status: RedactionStatus = Field(default=RedactionStatus.DRAFT, sa_type=text_enum(RedactionStatus))
    version: int = 1
    detection: DetectionState = Field(default=DetectionState.QUEUED, sa_type=text_enum(DetectionState))
    detection_error: str | None = None
    detected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # What the detection ran on: the export renders the same segment of the same proxy, so the
    # tracker gives the same track ids (media.tracking) and a kept track is the face chosen.
    in_point: float | None = None
    out_point: float | None = None
    proxy_sha256: str | None = Field(default=None, max_length=64)
    detector: dict | None = Field(default=None, sa_column=Column(JSON))
    settings: dict | None = Field(default=None, sa_column=Column(JSON))
    frame_rate: str | None = Field(default=None, max_length=40)
    width: int | None = None
    height: int | None = None
    editors: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    edits: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    approved_by_id: int | None = Field(default=None, foreign_key="users.id")
    approved_by_name: str | None = Field(default=None, max_length=100)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approved_version: int | None = None
    # The latest preview render of a few seconds (of the draft as it stood at preview_version).
    preview_state: DetectionState | None = Field(default=None, sa_type=text_enum(DetectionState))
    preview_path: str | None = None  # relative to the store
    preview_start: float | None = None
    preview_end: float | None = None
    preview_version: int | None = None
    preview_error: str | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TrackKind(StrEnum):
    DETECTED = "detected"
    MANUAL = "manual"


class TrackAction(StrEnum):
    BLUR = "blur"
    KEEP = "keep"


class RedactionTrack(SQLModel, table=True):
    """A detected face track or a region a reviewer drew. `keyframes` are [{"t": source seconds,
    "box": [x, y, w, h]}] in the proxy's pixels: a manual track's keyframes (interpolated between),
    a detected track's boxes sampled from the detection pass (for the editor's overlay)."""

    __tablename__ = "redaction_tracks"

    id: int | None = Field(default=None, primary_key=True)
    redaction_id: int = Field(foreign_key="redactions.id", index=True, ondelete="CASCADE")
    kind: TrackKind = Field(sa_type=text_enum(TrackKind))
    track_no: int | None = None  # the tracker's id, for a detected track
    label: str | None = Field(default=None, max_length=200)
    action: TrackAction = Field(default=TrackAction.BLUR, sa_type=text_enum(TrackAction))
    keep_reason: str | None = Field(default=None, max_length=40)  # featured_officer | consent
    keep_note: str | None = None  # who consented, how, where the consent is kept
    keyframes: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    first_time: float | None = None
    last_time: float | None = None
    first_detected_frame: int | None = None
    last_detected_frame: int | None = None
    detections: int = 0


class WordOrigin(StrEnum):
    DETECTED = "detected"
    REVIEWER = "reviewer"


class RedactionWord(SQLModel, table=True):
    """A run of spoken words to bleep (or, toggled off, to leave): PII found in the transcript or
    words a reviewer chose. `segment`, `first_word`, `last_word` index the clip's transcript."""

    __tablename__ = "redaction_words"

    id: int | None = Field(default=None, primary_key=True)
    redaction_id: int = Field(foreign_key="redactions.id", index=True, ondelete="CASCADE")
    origin: WordOrigin = Field(sa_type=text_enum(WordOrigin))
    kind: str = Field(max_length=20)  # a PII kind (api.redaction.pii.KINDS) or "reviewer"
    segment: int
    first_word: int
    last_word: int
    start: float
    end: float
    text: str
    speaker: str | None = Field(default=None, max_length=40)
    bleep: bool = True


# --- the governed release: renders, the featured officers' notice, views ----------------------


class ReleaseRender(SQLModel, table=True):
    """One item's segment rendered through its approved redaction (version `redaction_version`),
    with its redacted captions: what the featured officer is shown and what the player plays."""

    __tablename__ = "release_renders"
    __table_args__ = (sa.UniqueConstraint("item_id", "redaction_version", name="uq_release_render_version"),)

    id: int | None = Field(default=None, primary_key=True)
    lesson_id: int = Field(foreign_key="lessons.id", index=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="lesson_items.id", ondelete="CASCADE")
    clip_id: int = Field(foreign_key="clips.id", index=True)
    redaction_version: int
    state: DetectionState = Field(default=DetectionState.QUEUED, sa_type=text_enum(DetectionState))
    path: str | None = None  # the MP4, relative to the store
    captions_path: str | None = None  # its WebVTT
    sha256: str | None = Field(default=None, max_length=64)
    duration: float | None = None
    error: str | None = None
    provenance: dict | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NoticeState(StrEnum):
    PENDING = "pending"  # notified; the window runs
    CONSENTED = "consented"  # the officer agreed before the window closed
    OBJECTED = "objected"  # an objection waits for a lead: publication is blocked
    RELEASED = "released"  # a lead decided the lesson may be published over the objection
    WITHHELD = "withheld"  # a lead upheld the objection: not published while it features the officer


class ReleaseNotice(SQLModel, table=True):
    """A featured officer's notice of a lesson about to be published: which segments (item id →
    approved redaction version) they were shown, until when they may object, and what happened."""

    __tablename__ = "release_notices"
    __table_args__ = (sa.UniqueConstraint("lesson_id", "badge_number", name="uq_release_notice_officer"),)

    id: int | None = Field(default=None, primary_key=True)
    lesson_id: int = Field(foreign_key="lessons.id", index=True, ondelete="CASCADE")
    badge_number: str = Field(max_length=50, index=True)
    officer_name: str | None = Field(default=None, max_length=200)
    shown: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: NoticeState = Field(default=NoticeState.PENDING, sa_type=text_enum(NoticeState))
    notified_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    respond_by: datetime = Field(sa_type=UTCDateTime)
    responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    responded_by_name: str | None = Field(default=None, max_length=100)
    objection: str | None = None
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by_name: str | None = Field(default=None, max_length=100)
    decision_note: str | None = None


class LessonView(SQLModel, table=True):
    """One viewing of a published lesson: who, when, and the ranges they played (each
    [item id, start, end] in seconds of that segment, merged), reported by the player as it plays."""

    __tablename__ = "lesson_views"

    id: int | None = Field(default=None, primary_key=True)
    lesson_id: int = Field(foreign_key="lessons.id", index=True, ondelete="CASCADE")
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    user_name: str = Field(max_length=100)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ranges: list[list] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    watched_seconds: float = 0.0
    lesson_seconds: float = 0.0
