"""Column types, the clock every table uses, and the id of a saved row."""

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

import sqlalchemy as sa


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite keeps no zone, so we put it back)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def text_enum(enum: type[StrEnum]) -> sa.Enum:
    """An enum stored as its plain value in a VARCHAR: a new member needs no ALTER TYPE."""
    return sa.Enum(enum, native_enum=False, length=30, values_callable=lambda e: [m.value for m in e])


class NotSaved(RuntimeError):
    """A row's id was read before the row was flushed: a bug in the caller, never a request's fault."""


class _Row(Protocol):
    @property
    def id(self) -> int | None: ...


def saved_id(row: _Row) -> int:
    """The id of a row read from the database or flushed (`id` is None only before the flush)."""
    if row.id is None:
        raise NotSaved(f"{type(row).__name__} has no id before it is flushed")
    return row.id


def saved_ids(ids: Iterable[int | None]) -> list[int]:
    """Primary keys read back from the database (`select(col(Model.id))`), which are never None."""
    found = []
    for row_id in ids:
        if row_id is None:
            raise NotSaved("a primary key read back as None")
        found.append(row_id)
    return found
