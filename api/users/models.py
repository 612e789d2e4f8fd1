"""Accounts, roles, sessions, API tokens, login attempts, and the officer directory."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from api.clips.models import UTCDateTime, utcnow


class Role(StrEnum):
    OFFICER = "officer"
    REVIEWER = "reviewer"
    TRAINER = "trainer"
    COMMITTEE = "committee"
    ADMIN = "admin"


class TokenScope(StrEnum):
    INGEST = "ingest"  # the evidence system's push


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100, unique=True, index=True)
    display_name: str | None = Field(default=None, max_length=200)
    password_hash: str
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    badge_number: str | None = Field(default=None, max_length=50, index=True)
    active: bool = True
    must_change_password: bool = False
    locked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuthSession(SQLModel, table=True):
    """A signed-in browser or script. The token itself is never stored, only its SHA-256."""

    __tablename__ = "auth_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiToken(SQLModel, table=True):
    """A personal token (acts with its user's roles) or a service token (acts within its scope)."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    scope: str | None = Field(default=None, max_length=30)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempts"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100, index=True)
    succeeded: bool
    source: str | None = Field(default=None, max_length=100)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class Officer(SQLModel, table=True):
    """The department's officer directory; a user account links to it by badge number."""

    __tablename__ = "officers"

    badge_number: str = Field(primary_key=True, max_length=50)
    name: str = Field(max_length=200)
    division: str | None = Field(default=None, max_length=200, index=True)
    active: bool = True
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow})


__all__ = ["ApiToken", "AuthSession", "LoginAttempt", "Officer", "Role", "TokenScope", "User", "sa"]
