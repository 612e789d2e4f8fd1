"""manifest_imports: each run of a manifest; manifest_import_rows: what became of each of its rows."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from api.core.types import UTCDateTime, utcnow


class ImportSource(StrEnum):
    WATCH = "watch"  # the watched folder (BESTPART_IMPORT_WATCH_DIR or `bestpart import --watch`)
    CLI = "cli"  # a one-shot `bestpart import MANIFEST.csv`


class ImportStatus(StrEnum):
    IMPORTING = "importing"
    DONE = "done"  # every row has its outcome (accepted, duplicate or refused)
    FAILED = "failed"  # the manifest as a whole could not be read


class RowOutcome(StrEnum):
    ACCEPTED = "accepted"  # a new clip
    DUPLICATE = "duplicate"  # the same bytes were a clip already: the row's tags were added to it
    REFUSED = "refused"


class ManifestImport(SQLModel, table=True):
    """One manifest imported. A watched folder's manifest is known by its path there and its
    SHA-256 (unique together), so it is imported once however often the watcher looks, restarts
    included; a one-shot CLI run has no `watch_path` and is recorded each time it is run."""

    __tablename__ = "manifest_imports"
    __table_args__ = (sa.UniqueConstraint("watch_path", "sha256", name="uq_manifest_imports_watch_path"),)

    id: int | None = Field(default=None, primary_key=True)
    manifest: str = Field(max_length=1000)  # its path when it was read
    sha256: str = Field(max_length=64)  # of the manifest's bytes ("" when they could not be read)
    source: str = Field(max_length=10)  # ImportSource
    watch_path: str | None = Field(default=None, max_length=1000)
    status: str = Field(max_length=10, index=True)  # ImportStatus
    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    refused: int = 0
    error: str | None = Field(default=None, sa_type=sa.Text)  # why the manifest could not be read
    moved_to: str | None = Field(default=None, max_length=1000)  # the folder it was moved into
    imported_by: str = Field(max_length=200)
    claimed_by: str = Field(max_length=200)  # host:pid of the process importing it
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    heartbeat_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)  # the last row done
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ManifestImportRow(SQLModel, table=True):
    """One row's outcome, written in the same transaction as the row's clip (or its refusal), so
    an import taken over after a crash goes on from the first row without one."""

    __tablename__ = "manifest_import_rows"
    __table_args__ = (sa.UniqueConstraint("import_id", "row_number", name="uq_manifest_import_rows_row"),)

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="manifest_imports.id", index=True)
    row_number: int  # 1: the first row after the header
    file: str = Field(max_length=1000)  # as the manifest names it
    outcome: str = Field(max_length=10)  # RowOutcome
    clip_id: int | None = Field(default=None)
    reason: str | None = Field(default=None, sa_type=sa.Text)
