"""The one way a file becomes a clip, for every door: the API upload, `bestpart ingest`,
`bestpart import` and the watched export folder (a CSV manifest beside the files, imported row by
row by api/imports/importer.py), and the sample clips.

A door brings the file into the store's temp dir, hashed (`receive_local_file` here, or the upload's
streaming parser) and calls `ingest`, which checks it in one order for all of them:

1. what receiving found (too large),
2. the bytes: not empty, and a video container we accept (sniffed: never a playlist),
3. the fields (TagInput),
4. the own-footage rule: an officer files only their own footage; admins, the evidence system's
   ingest token and the machine's operator (CLI) file anyone's;

then stores the original under its SHA-256, creates the clip and its stages (or adds the tags to
the clip with the same bytes), and audits `clip.upload` in the caller's transaction. A refusal is
recorded (rejected_uploads, and `clip.upload` with outcome failure) in a short unit of work of its
own, committed at once: the caller's transaction may still roll back, the refusal stays.

A manifest names files in its own folder (`read_manifest`, `inside`): the one containment rule.
"""

import csv
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.audit.service import Actor, record
from api.clips import service
from api.clips.models import Clip, RejectedUpload
from api.clips.schemas import TagInput
from api.clips.stages import create_stages
from api.clips.storage import HashingWriter, TooLarge, copy_hashing
from api.config import get_settings
from api.core.errors import Forbidden, Invalid, ServiceError
from api.core.types import saved_id
from media.errors import MediaRejected
from media.sniff import SNIFF_BYTES, sniff_container

MANIFEST_FILE_COLUMN = "file"
OWN_FOOTAGE = "officers upload their own footage: badge_number must be yours"


@dataclass(frozen=True)
class Submitter:
    """Who files the clip, as the ingest rules and the records need it."""

    actor: Actor
    any_badge: bool  # may file footage under any badge (else only `badge_number`)
    badge_number: str | None = None
    submitted_from: str | None = None  # ClipTag/RejectedUpload.submitted_from

    @classmethod
    def of(cls, principal) -> "Submitter":
        """A signed-in principal (api.auth.Principal) uploading through the API."""
        return cls(
            actor=principal.actor,
            any_badge=service.files_for_any_badge(principal),
            badge_number=principal.badge_number,
            submitted_from=principal.source,
        )

    def may_file_for(self, badge_number: str) -> bool:
        return self.any_badge or badge_number == self.badge_number


@dataclass
class Received:
    """A file in the store's temp dir, hashed while it was written there; `problem` is what
    receiving it found already (too large). `discard` removes the temp file if ingest did not keep it."""

    temp: Path
    sha256: str | None
    size: int
    head: bytes = b""
    filename: str | None = None
    problem: ServiceError | None = None

    @classmethod
    def from_writer(cls, writer: HashingWriter, sha256: str | None, filename: str | None) -> "Received":
        return cls(writer.path, sha256, writer.size, writer.head[:SNIFF_BYTES], filename)

    def discard(self) -> None:
        self.temp.unlink(missing_ok=True)


@dataclass
class Ingested:
    clip: Clip
    duplicate: bool


@dataclass
class Refused:
    """Why the file did not become a clip, and the HTTP status that says so."""

    status: int
    reason: str


def receive_local_file(path: Path, filename: str | None = None) -> Received:
    """Copy a file from disk into the store's temp dir, hashing as it copies. No database work:
    no transaction stays open while a large file copies, and ingest can be tried again alone."""
    writer = HashingWriter(service.get_store().temp_path(), get_settings().max_upload_bytes)
    try:
        sha256 = copy_hashing(path, writer)
    except TooLarge as exc:
        writer.discard()
        received = Received.from_writer(writer, None, filename or path.name)
        received.problem = ServiceError(413, str(exc))
        return received
    except BaseException:
        writer.discard()
        raise
    return Received.from_writer(writer, sha256, filename or path.name)


def check(received: Received, fields: dict[str, list[str]], submitter: Submitter) -> TagInput:
    """The checks every door makes, in one order; raises the ServiceError that refuses the file."""
    if received.problem is not None:
        raise received.problem
    if received.size == 0:
        raise ServiceError(400, "the file is empty (0 bytes)")
    try:
        sniff_container(received.head)
    except MediaRejected as exc:
        raise ServiceError(415, str(exc)) from None
    tags = TagInput.from_fields(fields)  # InvalidTags: 422
    if not submitter.may_file_for(tags.badge_number):
        raise Forbidden(OWN_FOOTAGE)
    return tags


def ingest(
    session: Session,
    received: Received,
    fields: dict[str, list[str]],
    submitter: Submitter,
    *,
    source: str,
    refusals_apart: bool = True,
) -> Ingested | Refused:
    """Check the received file (see `check`) and make it a clip, or add its tags to the clip with
    the same bytes; audited in `session`, which the caller commits. A refusal is recorded and
    committed in a unit of work of its own (`refusals_apart`), before anything is written in
    `session`, and returned. `source` names the door (ClipTag.source: api, cli, import, sample)."""
    try:
        tags = check(received, fields, submitter)
    except ServiceError as exc:
        refused = Refused(exc.status, str(exc.detail))
        badges = fields.get("badge_number")
        badge = badges[-1] if badges else None
        if refusals_apart:
            record_refusal_apart(received, refused, submitter, badge, source)
        else:
            record_refusal(session, received, refused, submitter, badge, source)
        return refused
    result = store_clip(session, received, tags, source=source, submitted_from=submitter.submitted_from)
    record(
        session,
        submitter.actor,
        "clip.upload",
        object_type="clip",
        object_id=result.clip.id,
        details={"sha256": result.clip.sha256, "duplicate": result.duplicate, "via": source},
    )
    return result


def store_clip(
    session: Session, received: Received, tags: TagInput, *, source: str, submitted_from: str | None
) -> Ingested:
    """Turn a checked file into a clip, or add its tags to the clip with the same bytes."""
    sha256 = received.sha256
    if sha256 is None:  # only a file with a problem (too large) was not hashed, and check() refused it
        raise RuntimeError("store_clip needs a file that was received whole")
    existing = service.clip_by_sha(session, sha256)
    if existing is None:
        try:
            with session.begin_nested():
                clip = _new_clip(session, received, sha256, tags)
        except IntegrityError:  # the same bytes arrived at the same moment through another door
            existing = service.clip_by_sha(session, sha256)
    if existing is not None:
        received.discard()
        service.add_tag(session, existing, tags, source, submitted_from)
        return Ingested(existing, duplicate=True)
    service.get_store().keep_original(received.temp, sha256)
    service.add_tag(session, clip, tags, source, submitted_from)
    return Ingested(clip, duplicate=False)


def _new_clip(session: Session, received: Received, sha256: str, tags: TagInput) -> Clip:
    clip = Clip(
        sha256=sha256,
        size_bytes=received.size,
        evidence_id=tags.evidence_id,
        badge_number=tags.badge_number,
        recorded_at=tags.recorded_at,
        incident_number=tags.incident_number,
        division=tags.division,
        retain_until=tags.retain_until,
    )
    session.add(clip)
    session.flush()
    create_stages(session, saved_id(clip))  # and the first job, sent after the commit
    return clip


def record_refusal_apart(
    received: Received, refused: Refused, submitter: Submitter, badge: str | None, source: str
) -> None:
    """record_refusal in a short transaction of its own, committed now. The caller's session must
    not hold the write lock (SQLite has one writer): every door refuses before it writes."""
    from api.db import session_scope

    with session_scope() as own:
        record_refusal(own, received, refused, submitter, badge, source)


def record_refusal(
    session: Session, received: Received, refused: Refused, submitter: Submitter, badge: str | None, source: str
) -> None:
    """The refused upload as a record (never its bytes), and its audit record."""
    session.add(
        RejectedUpload(
            sha256=received.sha256,
            size_bytes=received.size,
            reason=refused.reason,
            filename=(received.filename or "")[:500] or None,
            badge_number=(badge or "")[:50] or None,
            submitted_from=submitter.submitted_from or source,
        )
    )
    record(
        session,
        submitter.actor,
        "clip.upload",
        outcome="failure",
        details={"reason": refused.reason, "sha256": received.sha256, "size": received.size, "via": source},
    )


# --- manifests ------------------------------------------------------------------------------


class ManifestError(Invalid):
    """The manifest as a whole cannot be read: not a CSV we can decode, or no 'file' column."""


@dataclass
class ManifestRow:
    """One row: the file it names (or why that name is refused) and the ingest fields."""

    name: str
    path: Path | None
    fields: dict[str, list[str]] = field(default_factory=dict)
    problem: str | None = None  # why the name is refused (said without the name: it is `name`)


def read_manifest(manifest: Path) -> list[ManifestRow]:
    """The rows of an evidence-system export's CSV manifest, every file name checked by `inside`."""
    folder = manifest.resolve().parent
    try:
        with open(manifest, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ManifestError(f"cannot read the manifest: {exc}") from None
    if not rows or MANIFEST_FILE_COLUMN not in rows[0]:
        raise ManifestError(f"the manifest has no rows, or no {MANIFEST_FILE_COLUMN!r} column")
    found = []
    for row in rows:
        fields = {key.strip(): [(value or "").strip()] for key, value in row.items() if key}
        name = fields.pop(MANIFEST_FILE_COLUMN, [""])[0]
        path = inside(folder, name)
        if path is None:
            found.append(ManifestRow(name, None, fields, "not a file inside the export folder"))
        else:
            found.append(ManifestRow(name, path, fields))
    return found


def inside(folder: Path, name: str) -> Path | None:
    """The file a manifest names, if it is inside the manifest's folder (at any depth, links
    followed: a link pointing out is out); None for anything else (absolute, `..`, empty)."""
    folder = folder.resolve()
    if not name or Path(name).is_absolute():
        return None
    candidate = (folder / name).resolve()
    return candidate if folder in candidate.parents else None
