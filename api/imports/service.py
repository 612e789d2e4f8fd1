"""The records of manifest imports: claimed, filled row by row, finished, listed. Every function
takes the caller's session and never commits (api/imports/importer.py owns the transactions)."""

import os
import socket
from collections import defaultdict
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.core.errors import NotFound
from api.core.types import utcnow
from api.imports.models import ImportSource, ImportStatus, ManifestImport, ManifestImportRow, RowOutcome
from api.imports.schemas import ImportRowOut, ManifestImportOut
from api.pagination import Page, offset_page

# An import whose process has written no row for this long is taken over by another (or by the
# same worker after a restart): a row is one file's copy and hash, minutes at most for the largest.
STALE_AFTER = timedelta(minutes=10)
COUNTERS = {RowOutcome.ACCEPTED: "accepted", RowOutcome.DUPLICATE: "duplicates", RowOutcome.REFUSED: "refused"}


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


def start(
    session: Session, *, manifest: str, sha256: str, source: ImportSource, imported_by: str, watch_path: str | None
) -> ManifestImport:
    """A new import, claimed by this process. For a watched manifest that is already recorded
    (the same path and bytes), IntegrityError: see `claim`."""
    batch = ManifestImport(
        manifest=manifest[:1000],
        sha256=sha256,
        source=source.value,
        watch_path=watch_path[:1000] if watch_path else None,
        status=ImportStatus.IMPORTING.value,
        imported_by=imported_by[:200],
        claimed_by=this_process(),
    )
    session.add(batch)
    session.flush()
    return batch


def claim(session: Session, *, watch_path: str, sha256: str, imported_by: str) -> tuple[ManifestImport, bool]:
    """The record of a watched manifest, and whether this process is to import it now: a new one
    (recorded here), one this process was importing, or one whose importer ended (`_gone`) or wrote
    nothing for STALE_AFTER;
    not one finished already, nor one another live process is importing."""
    existing = by_watch_path(session, watch_path, sha256)
    if existing is None:
        try:
            with session.begin_nested():
                batch = start(
                    session,
                    manifest=watch_path,
                    sha256=sha256,
                    source=ImportSource.WATCH,
                    imported_by=imported_by,
                    watch_path=watch_path,
                )
            return batch, True
        except IntegrityError:  # another worker watching the same folder claimed it first
            existing = by_watch_path(session, watch_path, sha256)
            if existing is None:  # the unique index refused ours for the row that worker committed
                raise RuntimeError(f"the import of {watch_path} was claimed, but its record is not there") from None
            return existing, False
    if existing.status != ImportStatus.IMPORTING:
        return existing, False
    if _gone(existing.claimed_by) or existing.heartbeat_at < utcnow() - STALE_AFTER:
        existing.claimed_by = this_process()
        existing.heartbeat_at = utcnow()
        session.add(existing)
        return existing, True
    return existing, False


def _gone(claimed_by: str) -> bool:
    """Whether the process that claimed an import is this one, or a process of this host that has
    ended (a restarted worker goes on at once, not after STALE_AFTER)."""
    if claimed_by == this_process():
        return True
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def by_watch_path(session: Session, watch_path: str, sha256: str) -> ManifestImport | None:
    return session.exec(
        select(ManifestImport).where(ManifestImport.watch_path == watch_path[:1000], ManifestImport.sha256 == sha256)
    ).first()


def _batch(session: Session, import_id: int) -> ManifestImport:
    batch = session.get(ManifestImport, import_id)
    if batch is None:
        raise NotFound(f"no import {import_id}")
    return batch


def set_rows(session: Session, import_id: int, rows: int) -> None:
    batch = _batch(session, import_id)
    batch.rows = rows
    session.add(batch)


def done_rows(session: Session, import_id: int) -> set[int]:
    """The rows of an import that have their outcome already (an import taken over goes on after them)."""
    return set(session.exec(select(ManifestImportRow.row_number).where(ManifestImportRow.import_id == import_id)))


def record_row(
    session: Session,
    import_id: int,
    row_number: int,
    file: str,
    outcome: RowOutcome,
    *,
    clip_id: int | None = None,
    reason: str | None = None,
) -> None:
    """One row's outcome, counted on its import, in the transaction of the row's own work."""
    session.add(
        ManifestImportRow(
            import_id=import_id,
            row_number=row_number,
            file=file[:1000],
            outcome=outcome.value,
            clip_id=clip_id,
            reason=reason,
        )
    )
    batch = _batch(session, import_id)
    setattr(batch, COUNTERS[outcome], getattr(batch, COUNTERS[outcome]) + 1)
    batch.heartbeat_at = utcnow()
    session.add(batch)


def finish(session: Session, import_id: int, *, error: str | None = None) -> ManifestImport:
    """Done (every row has its outcome), or failed with the reason the manifest could not be read."""
    batch = _batch(session, import_id)
    batch.status = (ImportStatus.FAILED if error else ImportStatus.DONE).value
    batch.error = error
    batch.finished_at = utcnow()
    session.add(batch)
    return batch


def set_moved_to(session: Session, import_id: int, folder: str) -> None:
    """Where the import's manifest and files went (the first time: a copy dropped again later goes
    beside it, and the record keeps pointing at the one imported)."""
    batch = _batch(session, import_id)
    if batch.moved_to is None:
        batch.moved_to = folder[:1000]
        session.add(batch)


def rows_of(session: Session, import_id: int) -> list[ManifestImportRow]:
    return list(
        session.exec(
            select(ManifestImportRow)
            .where(ManifestImportRow.import_id == import_id)
            .order_by(col(ManifestImportRow.row_number))
        )
    )


def imports(session: Session, *, limit: int | None, offset: int = 0) -> Page[ManifestImportOut]:
    """The imports, newest first, each with its refused rows and their reasons: what
    GET /api/v1/imports answers and the admin page shows."""
    page = offset_page(session, select(ManifestImport), (col(ManifestImport.id).desc(),), limit=limit, offset=offset)
    refusals: dict[int, list[ImportRowOut]] = defaultdict(list)
    ids = [batch.id for batch in page.items]
    if ids:
        refused = session.exec(
            select(ManifestImportRow)
            .where(col(ManifestImportRow.import_id).in_(ids), ManifestImportRow.outcome == RowOutcome.REFUSED.value)
            .order_by(col(ManifestImportRow.row_number))
        )
        for row in refused:
            refusals[row.import_id].append(ImportRowOut.model_validate(row, from_attributes=True))
    return page.map(
        lambda batch: ManifestImportOut.model_validate({**batch.model_dump(), "refusals": refusals[batch.id]})
    )
