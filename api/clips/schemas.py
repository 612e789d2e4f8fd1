"""What the clip API reads and writes."""

import json
from datetime import UTC, date, datetime

from pydantic import BaseModel, Field, ValidationError, field_validator

from api.clips.models import Category, ClipStatus, StageName, StageState
from api.core.errors import Invalid


class InvalidTags(Invalid):
    """Ingest fields that cannot be accepted; the message names the field and the problem."""


class Marker(BaseModel):
    at: float = Field(ge=0, description="seconds from the start of the clip")
    note: str = Field(default="", max_length=1000)


class TagInput(BaseModel):
    badge_number: str = Field(min_length=1, max_length=50)
    categories: list[Category] = Field(min_length=1)
    evidence_id: str | None = Field(default=None, max_length=200)
    recorded_at: datetime | None = None
    incident_number: str | None = Field(default=None, max_length=200)
    division: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=5000)
    markers: list[Marker] = Field(default_factory=list, max_length=500)
    retain_until: date | None = Field(default=None, description="the evidence system's retention date (YYYY-MM-DD)")

    @field_validator("categories", mode="before")
    @classmethod
    def split_categories(cls, value):
        """Accept the field repeated, comma-separated, or both."""
        if isinstance(value, str):
            value = [value]
        return [part.strip() for item in value for part in str(item).split(",") if part.strip()]

    @field_validator("badge_number", "evidence_id", "incident_number", "division", "note", mode="before")
    @classmethod
    def blank_is_none(cls, value):
        if isinstance(value, str):
            value = value.strip()
        return value or None

    @field_validator("recorded_at")
    @classmethod
    def in_utc(cls, value: datetime | None) -> datetime | None:
        """Stored in UTC; a time without a zone is taken as UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @classmethod
    def from_fields(cls, fields: dict[str, list[str]]) -> "TagInput":
        """Build from form or CSV fields (every value a list of strings)."""
        data: dict = {name: values[-1] for name, values in fields.items() if values and values[-1].strip()}
        data["categories"] = fields.get("categories", [])
        if "markers" in data:
            try:
                data["markers"] = json.loads(data["markers"]) if data["markers"].strip() else []
            except ValueError:
                raise InvalidTags(
                    'markers: not valid JSON (expected a list of {"at": seconds, "note": text})'
                ) from None
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise InvalidTags(describe_errors(exc)) from None


def describe_errors(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "input"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


class OfficerTagIn(BaseModel):
    categories: list[Category] = Field(min_length=1)
    markers: list[Marker] = Field(default_factory=list, max_length=500)
    note: str | None = Field(default=None, max_length=5000)


class StagePublic(BaseModel):
    name: StageName
    state: StageState
    progress: float
    attempts: int
    error: str | None


class TagPublic(BaseModel):
    badge_number: str | None
    evidence_id: str | None
    categories: list[str]
    markers: list[Marker]
    note: str | None
    source: str
    created_at: datetime


class HighlightPublic(BaseModel):
    """A moment the cue detector found, timed by the transcript's words."""

    start: float = Field(description="seconds into the clip")
    end: float
    cue: str
    category: str
    label: str
    words: list[str]
    confidence: float = Field(description="geometric mean of Whisper's probabilities for these words")
    uncertain: bool = Field(description="Whisper was unsure of a word here: check the video before relying on it")
    speaker: str | None = Field(
        None, description='who said it: "officer" or "person N" (null before speakers were told apart)'
    )


class DuplicateReceipt(BaseModel):
    """The answer to an upload of bytes already here in a clip the uploader may not see: that their
    tags were kept, and nothing of the clip or of anyone else's tags."""

    duplicate: bool = True
    sha256: str
    detail: str


class ClipPublic(BaseModel):
    id: int
    status: ClipStatus
    reason: str | None
    duplicate: bool = False
    sha256: str
    size_bytes: int
    evidence_id: str | None
    badge_number: str | None
    recorded_at: datetime | None
    incident_number: str | None
    division: str | None
    retain_until: date | None = None
    categories: list[str]
    markers: list[Marker]
    tags: list[TagPublic]
    media: dict | None
    progress: float
    stages: list[StagePublic]
    assets: dict[str, str]
    created_at: datetime
    ready_at: datetime | None
    # From the recognize stage: empty until it has run.
    score: float | None = Field(default=None, description="positive-interaction score, 0..1; orders the review queue")
    category_scores: dict[str, float] = Field(default_factory=dict)
    suggested_categories: list[str] = Field(default_factory=list)
    highlights: list[HighlightPublic] = Field(default_factory=list)
    counter_cues: list[HighlightPublic] = Field(
        default_factory=list, description='evidence against, e.g. "stop resisting"'
    )
    signals: list[HighlightPublic] = Field(
        default_factory=list, description='what others said of the officer ("thank you, officer"): shown, not scored'
    )
    rules_version: int | None = None
    fixity: str = Field(
        default="ok",
        description='"failed" when the original failed its latest fixity check, '
        "is missing or changed size: it is then not served",
    )
    fixity_reason: str | None = None


class WordPublic(BaseModel):
    start: float
    end: float
    word: str
    probability: float
    speaker: str | None = None


class SegmentPublic(BaseModel):
    start: float
    end: float
    text: str
    words: list[WordPublic]
    speaker: str | None = Field(None, description='"officer" (the camera wearer) or "person 1", "person 2", ...')
    speaker_confidence: float | None = Field(None, ge=0, le=1)
    corrected: bool = Field(False, description="a reviewer set this segment's speaker")


class SpeakerPublic(BaseModel):
    speaker: str
    seconds: float
    loudness_db: float


class TranscriptPublic(BaseModel):
    language: str | None
    model: str
    segments: list[SegmentPublic]
    speakers: list[SpeakerPublic] = []
    coverage: dict = Field(
        {},
        description="speech regions, regions decoded again, speech still unheard, "
        "words the hallucination guards removed",
    )


class SpeakerCorrectionIn(BaseModel):
    segments: list[int] = Field(
        min_length=1, max_length=500, description="indexes into the transcript's segments: one turn"
    )
    speaker: str = Field(max_length=20, description='"officer" or "person N"')


class AssetProvenance(BaseModel):
    kind: str
    content_type: str
    size_bytes: int
    sha256: str
    parent_sha256: str
    tool: str
    tool_version: str
    arguments: list[str]
    created_at: datetime


from api.core.errors import ErrorOut as RejectedPublic  # noqa: E402, F401  one error shape everywhere (for routes)


def __getattr__(name: str):
    # MyClipPublic moved to api.review.schemas (it is where a clip stands in review); this keeps
    # api/clips/routes.py working until it imports it from there. To be removed then.
    if name == "MyClipPublic":
        from api.review.schemas import MyClipPublic

        return MyClipPublic
    raise AttributeError(name)
