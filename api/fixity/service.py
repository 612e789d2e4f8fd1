"""Re-hash stored files against the SHA-256 the database recorded for them.

The audit log is the record, and the only one: each run is one `fixity.run` event (its counts),
each file that fails one `fixity.mismatch` event (object: the clip; details: the file, expected
and actual hash), and a file that failed before and passes again one `fixity.resolved` event.
Whether a clip's original is flagged is the newest of those events for it, and the sweep's place
in the store is the `cursor` of its last run, so no table keeps a second, alterable copy of the
truth (and restore can check a backup of any schema version without migrating it first).
"""

import hashlib
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.audit.models import AuditEvent
from api.audit.service import SYSTEM, Actor, record
from api.clips.models import Asset, Clip
from api.clips.storage import CHUNK, Store
from api.config import get_settings
from api.core.errors import NotFound
from api.core.types import saved_ids

ORIGINAL = "original"
MISSING = "missing"
RUN, MISMATCH, RESOLVED = "fixity.run", "fixity.mismatch", "fixity.resolved"
SWEEP = "sweep"
BATCH_CLIPS = 100  # clips whose files are listed, hashed and recorded together

SessionSource = Session | Callable[[], AbstractContextManager[Session]]
Failing = dict[tuple[int, str], str | None]  # (clip id, file) → the hash its last check found


@dataclass(frozen=True)
class StoredFile:
    """One file the database vouches for: which clip, which file, where, and its recorded hash."""

    clip_id: int
    file: str  # "original" or the asset's kind (proxy.mp4, ...)
    relative: str  # to the store's root
    expected: str
    size: int  # as recorded (for progress only)


@dataclass(frozen=True)
class Mismatch:
    clip_id: int
    file: str
    path: str  # relative to the store's root
    expected: str
    actual: str  # the SHA-256 found, "missing", or "unreadable: why"

    def describe(self) -> str:
        return f"clip {self.clip_id} {self.file} ({self.path}): expected sha256 {self.expected}, actual {self.actual}"


@dataclass
class FixityProgress:
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    current: str | None = None  # "clip 12 proxy.mp4"


@dataclass
class FixityReport:
    scope: str  # "all", "clip 12" or "sweep"
    clips: int = 0
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    mismatches: list[Mismatch] = field(default_factory=list)
    resolved: list[tuple[int, str]] = field(default_factory=list)  # (clip id, file) that failed before
    skipped: int = 0  # derived files their stage replaced while we hashed

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def counts(self) -> dict:
        return {
            "clips": self.clips,
            "files": self.files,
            "bytes": self.bytes,
            "mismatches": len(self.mismatches),
            "resolved": len(self.resolved),
            "skipped": self.skipped,
            "seconds": round(self.seconds, 2),
        }


# --- running checks ----------------------------------------------------------------------------


def check(
    source: SessionSource,
    clip_id: int | None = None,
    on_progress: Callable[[FixityProgress], None] | None = None,
    *,
    store: Store | None = None,
    actor: Actor = SYSTEM,
) -> FixityReport:
    """Re-hash every stored original and derived file of every clip (or of one clip), in 1 MiB
    chunks, and record the run and each mismatch in the audit log.

    `source` is a session factory (e.g. api.db.session_scope): the files are listed in one short
    transaction per batch of clips, hashed with no transaction open, and the results recorded in
    another. A plain Session is used as it is, and its owner must commit. Raises NotFound."""
    with _unit(source) as session:
        if clip_id is None:
            ids = saved_ids(session.exec(select(col(Clip.id)).order_by(col(Clip.id))))
        elif session.get(Clip, clip_id) is None:
            raise NotFound(f"there is no clip {clip_id}")
        else:
            ids = [clip_id]
    return _run(source, ids, "all" if clip_id is None else f"clip {clip_id}", store, on_progress, actor)


def sweep(batch: int, source: SessionSource | None = None, store: Store | None = None) -> int:
    """Check the `batch` clips least recently swept: the ones after the last sweep's cursor, in id
    order, wrapping round, so that sweeps walk the whole store over time a bounded step at a time.
    Returns how many clips were checked. Meant for a periodic worker job."""
    if source is None:
        from api.db import session_scope

        source = session_scope
    with _unit(source) as session:
        ids = _next_clip_ids(session, _sweep_cursor(session), batch)
    if not ids:
        return 0
    _run(source, ids, SWEEP, store, None, SYSTEM, {"cursor": ids[-1]})
    return len(ids)


def _run(
    source: SessionSource,
    ids: list[int],
    scope: str,
    store: Store | None,
    on_progress: Callable[[FixityProgress], None] | None,
    actor: Actor,
    extra: dict | None = None,
) -> FixityReport:
    store = store or Store(get_settings().store_dir)
    report, started = FixityReport(scope), time.monotonic()
    with _unit(source) as session:
        files_total, bytes_total = _totals(session, None if scope == "all" else ids)
        failing = open_failures(session)
    progress = FixityProgress(0, files_total, 0, bytes_total)
    for start in range(0, len(ids), BATCH_CLIPS):
        batch = ids[start : start + BATCH_CLIPS]
        with _unit(source) as session:
            files = stored_files(session, batch, store)
        results = [(stored, _hash(store.absolute(stored.relative), stored, progress, on_progress)) for stored in files]
        with _unit(source) as session:
            _record_results(session, actor, results, failing, report)
        report.clips += len(batch)
    report.seconds = time.monotonic() - started
    with _unit(source) as session:
        record(
            session,
            actor,
            RUN,
            object_type="fixity",
            object_id=scope,
            outcome="failure" if report.mismatches else "success",
            details={**report.counts(), **(extra or {})},
        )
    return report


def stored_files(session: Session, clip_ids: list[int], store: Store) -> list[StoredFile]:
    """Every file the database records for these clips: each original, then its derived files."""
    files = [
        StoredFile(clip_id, ORIGINAL, store.relative(store.original_path(sha)), sha, size)
        for clip_id, sha, size in session.exec(
            select(Clip.id, Clip.sha256, Clip.size_bytes).where(col(Clip.id).in_(clip_ids))
        )
        if clip_id is not None  # a primary key read back, never NULL; the model types it int | None
    ]
    files += [
        StoredFile(clip_id, kind, path, sha, size)
        for clip_id, kind, path, sha, size in session.exec(
            # sqlmodel's select() is typed for at most 4 columns; it takes any number
            select(Asset.clip_id, Asset.kind, Asset.path, Asset.sha256, Asset.size_bytes).where(  # type: ignore[call-overload]
                col(Asset.clip_id).in_(clip_ids)
            )
        )
    ]
    return sorted(files, key=lambda f: (f.clip_id, f.file != ORIGINAL, f.file))


def _totals(session: Session, clip_ids: list[int] | None) -> tuple[int, int]:
    """How many files and bytes a run will read (by the database's record), for its progress."""
    clips = select(func.count(), func.coalesce(func.sum(Clip.size_bytes), 0))
    assets = select(func.count(), func.coalesce(func.sum(Asset.size_bytes), 0))
    if clip_ids is not None:
        clips, assets = clips.where(col(Clip.id).in_(clip_ids)), assets.where(col(Asset.clip_id).in_(clip_ids))
    (c, cb), (a, ab) = session.exec(clips).one(), session.exec(assets).one()
    return c + a, int(cb) + int(ab)


def _hash(
    path: Path, stored: StoredFile, progress: FixityProgress, on_progress: Callable[[FixityProgress], None] | None
) -> str:
    """The file's SHA-256, streamed; "missing" or "unreadable: why" when it cannot be read."""
    progress.current = f"clip {stored.clip_id} {stored.file}"
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                progress.bytes_done += len(chunk)
                if on_progress:
                    on_progress(progress)
    except FileNotFoundError:
        return MISSING
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    finally:
        progress.files_done += 1
        if on_progress:
            on_progress(progress)
    return digest.hexdigest()


def _record_results(
    session: Session,
    actor: Actor,
    results: list[tuple[StoredFile, str]],
    failing: Failing,
    report: FixityReport,
) -> None:
    for stored, actual in results:
        key = (stored.clip_id, stored.file)
        if actual == stored.expected:
            report.files += 1
            report.bytes += stored.size
            if failing.pop(key, None) is not None:
                record(
                    session,
                    actor,
                    RESOLVED,
                    object_type="clip",
                    object_id=stored.clip_id,
                    details={"file": stored.file, "path": stored.relative, "sha256": actual},
                )
                report.resolved.append(key)
        elif stored.file != ORIGINAL and _replaced_meanwhile(session, stored):
            report.skipped += 1
        else:
            mismatch = Mismatch(stored.clip_id, stored.file, stored.relative, stored.expected, actual)
            record(
                session,
                actor,
                MISMATCH,
                object_type="clip",
                object_id=stored.clip_id,
                outcome="failure",
                details={"file": stored.file, "path": stored.relative, "expected": stored.expected, "actual": actual},
            )
            failing[key] = actual
            report.mismatches.append(mismatch)


def _replaced_meanwhile(session: Session, stored: StoredFile) -> bool:
    """A stage run again (e.g. a retried proxy) renames a new file into place and records its new
    hash: that is not damage, and the next check sees the new record."""
    now = session.exec(select(Asset.sha256).where(Asset.clip_id == stored.clip_id, Asset.kind == stored.file)).first()
    return now != stored.expected


def _sweep_cursor(session: Session) -> int:
    details = session.exec(
        select(AuditEvent.details)
        .where(
            AuditEvent.action == RUN,
            AuditEvent.object_type == "fixity",
            AuditEvent.object_id == SWEEP,
        )
        .order_by(col(AuditEvent.seq).desc())
        .limit(1)
    ).first()
    return int((details or {}).get("cursor", 0))


def _next_clip_ids(session: Session, cursor: int, batch: int) -> list[int]:
    after = saved_ids(
        session.exec(select(col(Clip.id)).where(col(Clip.id) > cursor).order_by(col(Clip.id)).limit(batch))
    )
    if len(after) < batch:  # the end of the store: go round to its start
        after += saved_ids(
            session.exec(
                select(col(Clip.id)).where(col(Clip.id) <= cursor).order_by(col(Clip.id)).limit(batch - len(after))
            )
        )
    return after


@contextmanager
def _unit(source: SessionSource) -> Iterator[Session]:
    if isinstance(source, Session):
        yield source  # the caller's transaction: it commits
    else:
        with source() as session:
            yield session


# --- what the checks found ---------------------------------------------------------------------


def open_failures(session: Session) -> Failing:
    """(clip id, file) → the hash last found, for every file whose newest fixity result is a
    mismatch. Reads only fixity.mismatch and fixity.resolved events: few, where the store is sound."""
    failing: Failing = {}
    for action, object_id, details in session.exec(
        select(AuditEvent.action, AuditEvent.object_id, AuditEvent.details)
        .where(col(AuditEvent.action).in_((MISMATCH, RESOLVED)), AuditEvent.object_type == "clip")
        .order_by(col(AuditEvent.seq))
    ):
        file = details.get("file")
        if not isinstance(file, str):  # names no file: no stored file's result can match or clear it
            continue
        key = (_clip_id(object_id), file)
        if action == MISMATCH:
            failing[key] = details.get("actual")
        else:
            failing.pop(key, None)
    return failing


def failed_originals(session: Session) -> dict[int, str]:
    """Clip id → why, for every clip whose original failed its latest fixity check."""
    reasons = {}
    for event in session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.action).in_((MISMATCH, RESOLVED)), AuditEvent.object_type == "clip")
        .order_by(col(AuditEvent.seq))
    ):
        if event.details.get("file") != ORIGINAL:
            continue
        if event.action == MISMATCH:
            reasons[_clip_id(event.object_id)] = _reason(event.details, event.at)
        else:
            reasons.pop(_clip_id(event.object_id), None)
    return reasons


def _clip_id(object_id: str | None) -> int:
    """The clip a fixity event is about (record() gives every clip event the clip's id)."""
    if object_id is None:
        raise ValueError("a fixity event about a clip names no clip")
    return int(object_id)


def original_problem(session: Session, clip: Clip, store: Store | None = None) -> str | None:
    """Why this clip's original must not be served (None if nothing is known against it): its
    latest fixity check failed, or it is gone from the store or has changed size since the upload
    (both seen at once, without hashing, between checks)."""
    events = session.exec(
        select(AuditEvent.action, AuditEvent.details, AuditEvent.at)
        .where(
            AuditEvent.object_type == "clip",
            AuditEvent.object_id == str(clip.id),
            col(AuditEvent.action).in_((MISMATCH, RESOLVED)),
        )
        .order_by(col(AuditEvent.seq).desc())
    )
    for action, details, at in events:
        if details.get("file") == ORIGINAL:
            if action == MISMATCH:
                return _reason(details, at)
            break
    store = store or Store(get_settings().store_dir)
    try:
        size = store.original_path(clip.sha256).stat().st_size
    except FileNotFoundError:
        return "the original is missing from the store"
    if size != clip.size_bytes:
        return f"the original in the store is {size} bytes, not the {clip.size_bytes} bytes uploaded"
    return None


def hash_open_file(file) -> str:
    """The SHA-256 of an open file from its start; leaves it at its start again, to be served."""
    digest = hashlib.sha256()
    file.seek(0)
    while chunk := file.read(CHUNK):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def record_original_mismatch(session: Session, actor: Actor, clip: Clip, store: Store, actual: str) -> str:
    """A mismatch found outside a run (at a download): recorded as a run would, so the clip is
    flagged from now on. Returns the reason to give."""
    details = {
        "file": ORIGINAL,
        "path": store.relative(store.original_path(clip.sha256)),
        "expected": clip.sha256,
        "actual": actual,
    }
    event = record(session, actor, MISMATCH, object_type="clip", object_id=clip.id, outcome="failure", details=details)
    return _reason(details, event.at)


def fixity_fields(session: Session, clip: Clip) -> dict:
    """For the clip's JSON: {"fixity": "failed", "fixity_reason": why} or {"fixity": "ok", ...: None}."""
    problem = original_problem(session, clip)
    return {"fixity": "failed" if problem else "ok", "fixity_reason": problem}


def _reason(details: Mapping[str, object], at: datetime) -> str:
    when = at.strftime("%Y-%m-%d %H:%M UTC")
    if details.get("actual") == MISSING:
        return f"the original was missing from the store at the fixity check of {when}"
    return (
        f"the original failed its fixity check of {when}: its SHA-256 is {details.get('actual')}, "
        f"not the {details.get('expected')} it was stored under"
    )
