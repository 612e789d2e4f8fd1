"""Accounts, roles, sessions, API tokens, login attempts, and the officer directory."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from api.core.policies import INGEST_SCOPE, Role  # noqa: F401  Role: where the users slice's callers find it
from api.core.types import UTCDateTime, utcnow


class TokenScope(StrEnum):
    INGEST = INGEST_SCOPE  # the evidence system's push


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100, unique=True, index=True)
    display_name: str | None = Field(default=None, max_length=200)
    password_hash: str
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    badge_number: str | None = Field(default=None, max_length=50, index=True)
    email: str | None = Field(default=None, max_length=320)  # where notifications are mailed, if anywhere
    active: bool = True
    must_change_password: bool = False
    # A lock after too many failed sign-ins refuses new password sign-ins until locked_until (or an
    # admin's unlock); locked_at says since when, and is cleared once the lock has lapsed.
    locked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > utcnow()


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
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None: until revoked

    def expired(self, moment: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= moment


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempts"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100, index=True)
    succeeded: bool
    source: str | None = Field(default=None, max_length=100, index=True)  # the per-address throttle counts by it
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class PasswordReset(SQLModel, table=True):
    """A one-time code an admin issued so that a user can choose a new password. Only its SHA-256
    is kept; it works once, until expires_at."""

    __tablename__ = "password_resets"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    code_hash: str = Field(max_length=64, unique=True, index=True)
    issued_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ServerKey(SQLModel, table=True):
    """A random key the server signs with (the sign-in form's CSRF token), shared by every process
    that uses the database."""

    __tablename__ = "server_keys"

    name: str = Field(primary_key=True, max_length=40)
    secret: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PersonKind(StrEnum):
    SWORN = "sworn"  # an officer, in a division
    CIVILIAN = "civilian"  # a civilian employee, in a unit


class Officer(SQLModel, table=True):
    """The department's directory of people: sworn officers (in a division) and civilian employees
    (in a unit), keyed by badge number (a civilian's employee number). A user account is linked to
    the entry whose badge it carries: the badge is the one link, so it cannot disagree with itself."""

    __tablename__ = "officers"

    badge_number: str = Field(primary_key=True, max_length=50)
    name: str = Field(max_length=200)
    kind: str = Field(default=PersonKind.SWORN.value, max_length=20, sa_column_kwargs={"server_default": "sworn"})
    division: str | None = Field(default=None, max_length=200, index=True)
    unit: str | None = Field(default=None, max_length=200, index=True)
    active: bool = True
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow})


__all__ = [
    "ApiToken",
    "AuthSession",
    "LoginAttempt",
    "Officer",
    "PasswordReset",
    "PersonKind",
    "Role",
    "ServerKey",
    "TokenScope",
    "User",
    "sa",
]
