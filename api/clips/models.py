"""Clips, their tags, their pipeline stages, their derived assets, and refused uploads."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from api.core.types import UTCDateTime, text_enum, utcnow


class Category(StrEnum):
    DE_ESCALATION = "de-escalation"
    COMMUNITY_ENGAGEMENT = "community-engagement"
    LIFE_SAVING = "life-saving"


class ClipStatus(StrEnum):
    PROCESSING = "processing"
    READY = "ready"
    REJECTED = "rejected"  # the file is not a video we can process: the uploader's to fix
    FAILED = "failed"  # our side broke: retrying may help


class StageName(StrEnum):
    PROBE = "probe"
    THUMBNAILS = "thumbnails"
    PROXY = "proxy"
    TRANSCRIPT = "transcript"
    RECOGNIZE = "recognize"  # after the transcript: cue detection over its words


class StageState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Clip(SQLModel, table=True):
    __tablename__ = "clips"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True, index=True)
    size_bytes: int = Field(sa_type=sa.BigInteger)
    status: ClipStatus = Field(default=ClipStatus.PROCESSING, index=True, sa_type=text_enum(ClipStatus))
    reason: str | None = None
    # From the first ingest; later ingests of the same bytes add ClipTag rows.
    evidence_id: str | None = Field(default=None, index=True, max_length=200)
    badge_number: str | None = Field(default=None, index=True, max_length=50)
    recorded_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    incident_number: str | None = Field(default=None, max_length=200, index=True)  # survey responses link by it
    division: str | None = Field(default=None, max_length=200, index=True)
    # The evidence system's retention date: a training segment of the clip is withdrawn after it.
    retain_until: date | None = Field(default=None, sa_type=sa.Date, index=True)
    # What the probe found (a dict of media.probe.VideoInfo).
    media_info: dict | None = Field(default=None, sa_column=Column(JSON))
    # What the cue detector found (api.recognition.Recognition.to_dict()), its clip-level score
    # (indexed: it orders the review queue) and the digest of the rules file that produced it, so
    # an edit of the rules can find the clips to re-score.
    recognition: dict | None = Field(default=None, sa_column=Column(JSON))
    recognition_score: float | None = Field(default=None, index=True)
    rules_digest: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ready_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ClipTag(SQLModel, table=True):
    """One ingest's (or later one officer's) tagging of a clip."""

    __tablename__ = "clip_tags"

    id: int | None = Field(default=None, primary_key=True)
    clip_id: int = Field(foreign_key="clips.id", index=True, ondelete="CASCADE")
    badge_number: str | None = Field(default=None, max_length=50)
    evidence_id: str | None = Field(default=None, max_length=200)
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    markers: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    note: str | None = None
    source: str = Field(max_length=20)  # api, import, cli
    submitted_from: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ClipCategory(SQLModel, table=True):
    """Which categories a clip's tags name, one row each: what category filters read (an index,
    not a scan of every tag's JSON). Filled by triggers on clip_tags (migration 0006): never written here."""

    __tablename__ = "clip_categories"
    __table_args__ = (sa.Index("ix_clip_categories_category", "category", "clip_id"),)

    clip_id: int = Field(foreign_key="clips.id", primary_key=True, ondelete="CASCADE")
    category: str = Field(max_length=40, primary_key=True)


class Stage(SQLModel, table=True):
    """One pipeline stage of one clip, with the lease of the worker running it."""

    __tablename__ = "stages"
    __table_args__ = (sa.UniqueConstraint("clip_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    clip_id: int = Field(foreign_key="clips.id", index=True, ondelete="CASCADE")
    name: StageName = Field(sa_type=text_enum(StageName))
    state: StageState = Field(default=StageState.QUEUED, index=True, sa_type=text_enum(StageState))
    progress: float = 0.0
    attempts: int = 0
    error: str | None = None
    lease_owner: str | None = Field(default=None, max_length=200)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Asset(SQLModel, table=True):
    """A file derived from a clip's original, with its provenance."""

    __tablename__ = "assets"
    __table_args__ = (sa.UniqueConstraint("clip_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    clip_id: int = Field(foreign_key="clips.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=40)  # poster.jpg, sprite.jpg, thumbnails.vtt, proxy.mp4, ...
    path: str  # relative to the store
    content_type: str = Field(max_length=100)
    size_bytes: int = Field(sa_type=sa.BigInteger)
    sha256: str = Field(max_length=64)
    parent_sha256: str = Field(max_length=64)
    tool: str = Field(max_length=100)
    tool_version: str = Field(max_length=200)
    arguments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RejectedUpload(SQLModel, table=True):
    """An upload refused before it became a clip: kept as a record, never as bytes."""

    __tablename__ = "rejected_uploads"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str | None = Field(default=None, max_length=64)
    size_bytes: int = Field(sa_type=sa.BigInteger)
    reason: str
    filename: str | None = Field(default=None, max_length=500)
    badge_number: str | None = Field(default=None, max_length=50)
    submitted_from: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SpeakerCorrection(SQLModel, table=True):
    """A reviewer's word on who spoke one segment of a clip's transcript. transcript.json is a
    recorded derived file and stays as Whisper and the clustering made it; readers apply the
    latest correction per segment (api.clips.transcripts.read)."""

    __tablename__ = "speaker_corrections"

    id: int | None = Field(default=None, primary_key=True)
    clip_id: int = Field(foreign_key="clips.id", index=True, ondelete="CASCADE")
    segment: int  # index into transcript.json's segments
    segment_start: float  # where that segment started: a rerun of the stage that moved it voids this
    speaker: str = Field(max_length=20)  # "officer" or "person N"
    previous: str | None = Field(default=None, max_length=20)
    user_id: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Voiceprint(SQLModel, table=True):
    """An officer's voice as a speaker embedding (never audio): the running mean of the officer's
    voice over their clips, refined by reviewers' corrections. Finds the wearer when loudness can't."""

    __tablename__ = "voiceprints"

    badge_number: str = Field(primary_key=True, max_length=50)
    embedding: list[float] = Field(sa_column=Column(JSON, nullable=False))
    clips: int = 0
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
