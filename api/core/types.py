"""Column types and the clock every table uses."""

from datetime import UTC, datetime
from enum import StrEnum

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
