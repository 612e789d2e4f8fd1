"""The sample clips that ship with bestpart, for a first run on an empty database.

They are ingested the way `bestpart import` ingests an evidence-system export (a CSV manifest beside
the files, each file copied into the store through ingest_local_file), so the pipeline processes them
like any other clip and a newcomer sees a working review queue within a minute. Loading them again
adds nothing: a file whose bytes are already stored is counted as present and left alone (no second
tag either). The files are synthetic (espeak-ng speech over generated video), not evidence.
"""

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from api.audit.service import Actor, record
from api.clips.schemas import InvalidTags, TagInput
from api.clips.service import Refused, clip_by_sha, ingest_local_file

# Data files, not code: the web UI ships them, so they live beside its templates.
SAMPLES_DIR = Path(__file__).resolve().parent.parent / "review_ui" / "samples"
MANIFEST = "samples.csv"
SOURCE = "sample"  # ClipTag.source: how the clip came in


@dataclass
class SampleLoad:
    """What a load did: clip ids added now, clip ids already stored, and files that failed (why)."""

    added: list[int] = field(default_factory=list)
    present: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def sample_rows(folder: Path = SAMPLES_DIR) -> list[tuple[Path, dict[str, list[str]]]]:
    """The manifest's rows as (file, ingest fields); files named outside the folder are skipped."""
    folder = folder.resolve()
    with open(folder / MANIFEST, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    found = []
    for row in rows:
        fields = {key.strip(): [(value or "").strip()] for key, value in row.items() if key}
        name = fields.pop("file", [""])[0]
        path = (folder / name).resolve()
        if name and not Path(name).is_absolute() and path.parent == folder:
            found.append((path, fields))
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_samples(session: Session, actor: Actor, folder: Path = SAMPLES_DIR) -> SampleLoad:
    """Ingest the sample clips that are not stored yet. The caller commits (jobs go out after it)."""
    result = SampleLoad()
    for path, fields in sample_rows(folder):
        if not path.is_file():
            result.problems.append(f"{path.name}: missing from the samples folder")
            continue
        existing = clip_by_sha(session, _sha256(path))
        if existing is not None:
            result.present.append(existing.id)
            continue
        try:
            tags = TagInput.from_fields(fields)
        except InvalidTags as exc:
            result.problems.append(f"{path.name}: {exc}")
            continue
        outcome = ingest_local_file(session, path, tags, source=SOURCE)
        if isinstance(outcome, Refused):
            result.problems.append(f"{path.name}: {outcome.reason}")
            continue
        (result.present if outcome.duplicate else result.added).append(outcome.clip.id)
        record(
            session,
            actor,
            "clip.upload",
            object_type="clip",
            object_id=outcome.clip.id,
            details={"sha256": outcome.clip.sha256, "duplicate": outcome.duplicate, "via": SOURCE},
        )
    record(
        session,
        actor,
        "samples.load",
        outcome="success" if not result.problems else "failure",
        details={"added": result.added, "present": result.present, "problems": result.problems},
    )
    return result
