"""What search reads and answers."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from api.clips.models import Category, ClipStatus
from api.review.models import ReviewState


class SearchFilters(BaseModel):
    """The review queue's filters, so a search narrows the same way the queue does."""

    status: ClipStatus | None = Field(default=None, description="the clip's processing status")
    review_state: ReviewState | None = Field(default=None, description="the clip's state in the review queue")
    category: Category | None = Field(default=None, description="a category any tag gave the clip")
    division: str | None = Field(default=None, max_length=200)
    badge_number: str | None = Field(default=None, max_length=50, description="the recording officer")
    date_from: date | None = Field(default=None, description="recorded on or after (UTC; upload date if unknown)")
    date_to: date | None = Field(default=None, description="recorded on or before")

    @field_validator("division", "badge_number")
    @classmethod
    def no_nul(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:  # PostgreSQL refuses NUL in text: a 422, not a 500
            raise ValueError("must not contain NUL characters")
        return value


class SearchQuery(SearchFilters):
    q: str = Field(min_length=1, max_length=300, description='words, all of which must match; "a phrase" in quotes')
    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=10_000)


class SearchHit(BaseModel):
    kind: Literal["transcript", "marker", "metadata"]
    at: float | None = Field(description="seconds into the clip to jump to; null for a metadata hit")
    snippet: str = Field(description="HTML-escaped text around the match, matched words in <mark>")
    score: float = Field(description="relevance: higher is better")


class SearchClip(BaseModel):
    id: int
    status: ClipStatus
    evidence_id: str | None
    incident_number: str | None
    badge_number: str | None
    officer_name: str | None
    division: str | None
    recorded_at: datetime | None
    categories: list[str]
    suggested_categories: list[str]
    recognition_score: float | None
    poster: str | None


class SearchResult(BaseModel):
    clip: SearchClip
    score: float = Field(description="the best hit's relevance")
    hits: list[SearchHit] = Field(description="the clip's best hits, best first")


class SearchPage(BaseModel):
    q: str
    results: list[SearchResult]
    limit: int
    offset: int
    has_more: bool
