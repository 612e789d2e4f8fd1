"""Record and verify the audit trail. No code path updates or deletes an audit row
(the database refuses it too: see the triggers in the migration)."""

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from api.audit.models import AuditEvent, AuditHead
from api.core.types import utcnow
from api.pagination import KeysetPage, keyset_page

GENESIS = "0" * 64
OUTCOMES = ("success", "denied", "failure")


@dataclass(frozen=True)
class Actor:
    """Who acts and from where; the auth layer builds it from the request."""

    name: str
    user_id: int | None = None
    source: str | None = None


SYSTEM = Actor("system")


def now_centiseconds() -> datetime:
    at = utcnow()
    return at.replace(microsecond=at.microsecond // 10_000 * 10_000)


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    object_type: str | None = None,
    object_id: object = None,
    outcome: str = "success",
    details: dict | None = None,
) -> AuditEvent:
    """Append one record, chained to the one before it."""
    # The UPDATE takes the head's row lock (the write lock on SQLite) before we read it, so two
    # writers can never chain onto the same record.
    session.execute(update(AuditHead).where(col(AuditHead.id) == 1).values(seq=AuditHead.seq + 1))
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)).one()
    event = AuditEvent(
        seq=head.seq,
        at=now_centiseconds(),
        actor=actor.name,
        actor_user_id=actor.user_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        outcome=outcome,
        source=actor.source,
        details=details or {},
        prev_hash=head.last_hash,
        hash="",
    )
    event.hash = event_hash(event)
    session.add(event)
    head.last_hash = event.hash
    session.add(head)
    session.flush()
    return event


def event_hash(event: AuditEvent) -> str:
    body = json.dumps(
        {
            "seq": event.seq,
            "at": event.at.astimezone(UTC).isoformat(timespec="milliseconds"),
            "actor": event.actor,
            "actor_user_id": event.actor_user_id,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "outcome": event.outcome,
            "source": event.source,
            "details": event.details,
            "prev_hash": event.prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def verify(session: Session, anchor: tuple[int, str] | None = None) -> list[str]:
    """Walk the chain; return one line per problem (an empty list means intact).

    The chain alone cannot show that its newest records were cut off by someone who also wound the
    head back (with the database's triggers dropped). `anchor` is a head seen by an earlier check and
    kept outside the database, (seq, hash): the chain must still hold that record unchanged."""
    problems = []
    expected_seq, prev = 1, GENESIS
    for event in session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))).yield_per(1000):
        if event.seq != expected_seq:
            problems.append(f"records {expected_seq}..{event.seq - 1} are missing (deleted?)")
        if event.prev_hash != prev:
            problems.append(f"record {event.seq} does not follow the record before it")
        if event_hash(event) != event.hash:
            problems.append(f"record {event.seq} was altered after it was written")
        if anchor and event.seq == anchor[0] and event.hash != anchor[1]:
            problems.append(f"record {event.seq} is not the one an earlier check saw")
        expected_seq, prev = event.seq + 1, event.hash
    head = session.get(AuditHead, 1)
    if head and head.seq != expected_seq - 1:
        problems.append(f"the log should end at record {head.seq} but ends at {expected_seq - 1} (records removed?)")
    elif head and head.last_hash != prev:
        problems.append("the last record is not the one the log last wrote")
    if anchor and anchor[0] >= expected_seq:
        problems.append(
            f"the log ends at record {expected_seq - 1}, before record {anchor[0]} that an earlier "
            "check saw (records removed?)"
        )
    return problems


def head_of(session: Session) -> tuple[int, str]:
    """(seq, hash) of the newest record: what to keep elsewhere and pass to a later verify."""
    head = session.get(AuditHead, 1)
    return (head.seq, head.last_hash) if head else (0, GENESIS)


def record_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(AuditEvent)).one()


@dataclass
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def shown(self) -> dict[str, str]:
        """The filters in force, as the audit records of a search say them (and as a link repeats them)."""
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in vars(self).items() if v}


EQUAL_FILTERS = ("actor", "action", "object_type", "object_id", "outcome")


def _matching(where: AuditFilter):
    query = select(AuditEvent)
    for column in EQUAL_FILTERS:
        if value := getattr(where, column):
            query = query.where(getattr(AuditEvent, column) == value)
    if where.since:
        query = query.where(AuditEvent.at >= where.since)
    if where.until:
        query = query.where(AuditEvent.at < where.until)
    return query


def search(
    session: Session, where: AuditFilter, *, limit: int | None = 100, before: int | None = None, offset: int = 0
) -> KeysetPage[AuditEvent]:
    """The matching records, newest first: those older than record `before` (keyset paging: the
    log grows while it is read), at most `limit` (all with None), after skipping `offset`."""
    return keyset_page(session, _matching(where).offset(offset), AuditEvent.seq, before=before, limit=limit)


def view(
    session: Session, actor: Actor, where: AuditFilter, *, limit: int, before: int | None = None, offset: int = 0
) -> KeysetPage[AuditEvent]:
    """A search of the log, itself audited with its filters; recorded after the search, so the
    page read does not show its own record."""
    found = search(session, where, limit=limit, before=before, offset=offset)
    record(session, actor, "audit.view", details={"filters": where.shown()})
    return found


def export(session: Session, actor: Actor, where: AuditFilter) -> list[AuditEvent]:
    """Every matching record, newest first, for the CSV export; the export is audited (first: a
    complete export holds its own record)."""
    record(session, actor, "audit.export", details={"filters": where.shown()})
    return search(session, where, limit=None).items


CSV_COLUMNS = [
    "seq",
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "outcome",
    "source",
    "details",
    "prev_hash",
    "hash",
]


def as_csv(events: Iterable[AuditEvent]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield _drain(buffer)
    for event in events:
        row = event.model_dump()
        row["at"] = event.at.isoformat(timespec="milliseconds")
        row["details"] = json.dumps(event.details, sort_keys=True)
        writer.writerow([row[column] for column in CSV_COLUMNS])
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
