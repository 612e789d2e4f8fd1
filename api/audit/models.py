"""The append-only audit log: each record carries the hash of the one before it."""

from datetime import datetime

from sqlmodel import JSON, Column, Field, SQLModel

from api.core.types import UTCDateTime


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"

    seq: int = Field(primary_key=True)  # 1, 2, 3, … without gaps: a deleted record shows
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=200, index=True)  # username, "token:NAME" or "anonymous"
    actor_user_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=60, index=True)  # clip.view, auth.login, review.decide, ...
    object_type: str | None = Field(default=None, max_length=40)
    object_id: str | None = Field(default=None, max_length=100, index=True)
    outcome: str = Field(max_length=20)  # success, denied, failure
    source: str | None = Field(default=None, max_length=100)
    details: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """One row: the last sequence number and hash. Updating it first serialises writers."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    last_hash: str = Field(default="0" * 64, max_length=64)
