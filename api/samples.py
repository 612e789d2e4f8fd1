"""The sample clips that ship with bestpart, for a first run on an empty database.

They come in through the one ingest path (api.clips.ingest), read from a CSV manifest beside the
files as `bestpart import` reads an evidence-system export, so the pipeline processes them like any
other clip and a newcomer sees a working review queue within a minute. Loading them again adds
nothing: a file whose bytes are already stored is counted as present and left alone (no second tag
either). The files are synthetic (espeak-ng speech over generated video), not evidence.
"""

from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from api.audit.service import Actor, record
from api.clips import ingest
from api.clips.service import clip_by_sha
from api.clips.storage import sha256_file
from api.core.types import saved_id

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
    return [(row.path, row.fields) for row in ingest.read_manifest(folder / MANIFEST) if row.path is not None]


def load_samples(session: Session, actor: Actor, folder: Path = SAMPLES_DIR) -> SampleLoad:
    """Ingest the sample clips that are not stored yet. The caller commits (jobs go out after it).

    A refusal is recorded in the caller's transaction, not apart: the caller (the admin page) may
    hold SQLite's write lock already, and a second connection would wait for it in vain. The files
    ship with bestpart: a refusal is our fault, and `samples.load` reports it in the same place."""
    result = SampleLoad()
    submitter = ingest.Submitter(actor=actor, any_badge=True)
    for row in ingest.read_manifest(folder / MANIFEST):
        if row.path is None:  # its problem says why, without the name
            result.problems.append(f"{row.name}: {row.problem}")
            continue
        path = row.path
        if not path.is_file():
            result.problems.append(f"{path.name}: missing from the samples folder")
            continue
        existing = clip_by_sha(session, sha256_file(path))
        if existing is not None:
            result.present.append(saved_id(existing))
            continue
        received = ingest.receive_local_file(path)
        try:
            outcome = ingest.ingest(session, received, row.fields, submitter, source=SOURCE, refusals_apart=False)
        finally:
            received.discard()
        if isinstance(outcome, ingest.Refused):
            result.problems.append(f"{path.name}: {outcome.reason}")
            continue
        (result.present if outcome.duplicate else result.added).append(saved_id(outcome.clip))
    record(
        session,
        actor,
        "samples.load",
        outcome="success" if not result.problems else "failure",
        details={"added": result.added, "present": result.present, "problems": result.problems},
    )
    return result
