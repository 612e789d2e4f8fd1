"""One manifest imported row by row through the one ingest path (api.clips.ingest), for the
one-shot `bestpart import` and the watched folder alike.

Each row is a unit of work of its own: the file is copied and hashed outside any transaction, then
its clip (or the tags added to the clip with the same bytes, or its refusal) and the row's outcome
commit together. So one bad row never stops the others, and an import that stopped half-way (a
kill, a crash) is taken up again from the first row without an outcome: nothing lands twice."""

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from api.audit.service import Actor
from api.clips import ingest
from api.db import retry_when_busy, session_scope
from api.imports import service
from api.imports.models import RowOutcome

log = logging.getLogger("bestpart.import")
SOURCE = "import"  # ClipTag.source and RejectedUpload.submitted_from: the manifest door


@dataclass
class RowResult:
    row_number: int
    name: str  # the file as the manifest names it
    path: Path | None
    outcome: RowOutcome
    clip_id: int | None = None
    reason: str | None = None


def manifest_sha256(manifest: Path) -> str:
    """The manifest's SHA-256; "" when it cannot be read (a failed import still has a record)."""
    try:
        return hashlib.sha256(manifest.read_bytes()).hexdigest()
    except OSError:
        return ""


def import_rows(
    import_id: int,
    rows: list[ingest.ManifestRow],
    actor: Actor,
    on_row: Callable[[RowResult], None] | None = None,
) -> None:
    """Every row of the manifest that has no outcome yet, each in its own transactions; `on_row`
    hears each outcome (the CLI prints it)."""
    with session_scope() as session:
        service.set_rows(session, import_id, len(rows))
        done = service.done_rows(session, import_id)
    # The machine's operator and the evidence system's export file anyone's footage.
    submitter = ingest.Submitter(actor=actor, any_badge=True)
    for number, row in enumerate(rows, start=1):
        if number in done:
            continue
        result = _import_row(import_id, number, row, submitter)
        if on_row is not None:
            on_row(result)


def _import_row(import_id: int, number: int, row: ingest.ManifestRow, submitter: ingest.Submitter) -> RowResult:
    if row.problem is not None:
        return _refused(import_id, number, row, row.problem)
    path = row.path  # a row without a problem names its file
    if path is None or not path.is_file():
        return _refused(import_id, number, row, "no such file")
    try:
        received = ingest.receive_local_file(path)  # the copy and hash, outside any transaction, once
    except OSError as exc:
        return _refused(import_id, number, row, str(exc.strerror or exc))

    def once() -> RowResult:
        # The refusal, when there is one, commits with the row's outcome (refusals_apart=False):
        # nothing else is written in this transaction that could roll it back.
        with session_scope() as session:
            outcome = ingest.ingest(session, received, row.fields, submitter, source=SOURCE, refusals_apart=False)
            if isinstance(outcome, ingest.Refused):
                result = RowResult(number, row.name, row.path, RowOutcome.REFUSED, reason=outcome.reason)
            else:
                kind = RowOutcome.DUPLICATE if outcome.duplicate else RowOutcome.ACCEPTED
                result = RowResult(number, row.name, row.path, kind, clip_id=outcome.clip.id)
            service.record_row(
                session, import_id, number, row.name, result.outcome, clip_id=result.clip_id, reason=result.reason
            )
        return result

    try:
        return retry_when_busy(once)  # each try a fresh transaction, the received copy waiting for it
    finally:
        received.discard()


def _refused(import_id: int, number: int, row: ingest.ManifestRow, reason: str) -> RowResult:
    """A row refused before its file could reach ingest (named outside the folder, missing, unreadable)."""

    def once() -> None:
        with session_scope() as session:
            service.record_row(session, import_id, number, row.name, RowOutcome.REFUSED, reason=reason)

    retry_when_busy(once)
    return RowResult(number, row.name, row.path, RowOutcome.REFUSED, reason=reason)
