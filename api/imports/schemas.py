from datetime import datetime

from pydantic import BaseModel


class ImportRowOut(BaseModel):
    row_number: int  # 1: the first row after the header
    file: str
    outcome: str  # accepted, duplicate or refused
    clip_id: int | None
    reason: str | None


class ManifestImportOut(BaseModel):
    """One manifest imported, and every refused row with its reason."""

    id: int
    manifest: str
    sha256: str
    source: str  # watch or cli
    status: str  # importing, done or failed
    rows: int
    accepted: int
    duplicates: int
    refused: int
    error: str | None  # why the manifest could not be read (status failed)
    moved_to: str | None
    imported_by: str
    started_at: datetime
    finished_at: datetime | None
    refusals: list[ImportRowOut]
