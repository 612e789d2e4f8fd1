"""The watched export folder: `bestpart import --watch DIR`, or `bestpart worker` with
BESTPART_IMPORT_WATCH_DIR set.

The evidence system drops an export into DIR: a CSV manifest (DIR/*.csv) and the files it names.
A manifest is taken once it is complete: a done-marker `<manifest>.done` is there, or the manifest
and every file it names kept the same size and modification time across two looks at least
`settle` seconds apart (a copy still running changes one of them). It is then imported row by row
(api/imports/importer.py) and moved, with its files and an outcome.csv of what became of each row,
into DIR/imported/<id>-<name>/ (DIR/failed/<id>-<name>/ for a manifest that cannot be read at all).

A manifest is known by its path in DIR and its SHA-256 (manifest_imports), so however often the
watcher looks, whether it restarted, and however many workers watch the same folder, each is
imported once; one found again after it was imported (dropped a second time, or left behind by a
crash before the move) is only moved."""

import csv
import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from api.audit.service import Actor
from api.clips import ingest
from api.db import retry_when_busy, session_scope
from api.imports import importer, service
from api.imports.models import ImportStatus

log = logging.getLogger("bestpart.import.watch")
IMPORTED = "imported"
FAILED = "failed"
DONE_SUFFIX = ".done"
ACTOR = Actor("import-watch")

Signature = tuple[tuple[str, int, int] | tuple[str, None, None], ...]


def done_marker(manifest: Path) -> Path:
    return manifest.with_name(manifest.name + DONE_SUFFIX)


class Watcher:
    """Looks at one folder; each `look` imports the manifests that are complete. `clock` is
    injectable so that tests can make two looks "seconds apart" without waiting for them."""

    def __init__(self, folder: Path, settle: float, clock: Callable[[], float] = time.monotonic):
        self.folder = Path(folder).resolve()
        self.settle = settle
        self.clock = clock
        self.seen: dict[Path, tuple[Signature, float]] = {}  # manifest -> what it looked like, since when

    def look(self) -> list[int]:
        """One pass over the folder; returns the ids of the imports it finished."""
        finished = []
        manifests = sorted(p for p in self.folder.glob("*.csv") if p.is_file())
        for gone in set(self.seen) - set(manifests):
            del self.seen[gone]
        for manifest in manifests:
            if not self.complete(manifest):
                continue
            self.seen.pop(manifest, None)
            import_id = self.take(manifest)
            if import_id is not None:
                finished.append(import_id)
        return finished

    def complete(self, manifest: Path) -> bool:
        if done_marker(manifest).exists():
            return True
        now = self.clock()
        signature = _signature(manifest)
        before = self.seen.get(manifest)
        if before is None or before[0] != signature:
            self.seen[manifest] = (signature, now)  # new, or still changing: look again later
            return False
        return now - before[1] >= self.settle

    def take(self, manifest: Path) -> int | None:
        """Import one complete manifest (unless it is known already) and move it aside."""
        sha256 = importer.manifest_sha256(manifest)
        if not sha256:
            return None  # gone between the look and now (another worker moved it)

        def claim():
            with session_scope() as session:
                batch, mine = service.claim(
                    session, watch_path=str(manifest), sha256=sha256, imported_by=f"{ACTOR.name}:{self.folder}"
                )
                return batch.id, batch.status, mine

        import_id, status, mine = retry_when_busy(claim)
        if not mine and status == ImportStatus.IMPORTING:
            return None  # another live worker is importing it
        if not mine:  # finished before: only moved (it was dropped again, or the move was cut short)
            log.info("%s was imported already (import %s): moved aside", manifest.name, import_id)
            try:
                rows = ingest.read_manifest(manifest)
            except ingest.ManifestError:
                rows = []
            self.move(manifest, import_id, IMPORTED if status == ImportStatus.DONE else FAILED, rows, outcome=False)
            return None
        try:
            rows = ingest.read_manifest(manifest)
        except ingest.ManifestError as exc:
            log.warning("%s cannot be read: %s", manifest.name, exc.detail)
            _finish(import_id, str(exc.detail))
            self.move(manifest, import_id, FAILED, [])
            return import_id
        log.info("importing %s (%d rows, import %s)", manifest.name, len(rows), import_id)
        importer.import_rows(import_id, rows, ACTOR)
        _finish(import_id, None)
        self.move(manifest, import_id, IMPORTED, rows)
        return import_id

    def move(
        self, manifest: Path, import_id: int, where: str, rows: list[ingest.ManifestRow], outcome: bool = True
    ) -> Path:
        """The manifest, its done-marker, the files its rows name (kept at their paths relative
        to the folder) and outcome.csv, into DIR/<where>/<id>-<name>/."""
        target = _free(self.folder / where / f"{import_id}-{manifest.stem}")
        target.mkdir(parents=True)
        files = {row.path for row in rows if row.path is not None and row.path.is_file()}
        for path in sorted(files):
            relative = path.relative_to(self.folder)
            if relative.parts[0] in (IMPORTED, FAILED):
                continue  # never take back what an earlier import moved
            _move(path, target / relative)
        if rows and outcome:
            _write_outcome(import_id, target / "outcome.csv")
        marker = done_marker(manifest)
        if marker.exists():
            _move(marker, target / marker.name)
        _move(manifest, target / manifest.name)  # last: while it is in DIR, the import is not over

        def moved():
            with session_scope() as session:
                service.set_moved_to(session, import_id, str(target))

        retry_when_busy(moved)
        return target


def watch_forever(folder: Path, settle: float, stop: threading.Event) -> None:
    """Look at the folder every settle/2 seconds until `stop` is set; a failed pass is logged and
    the next pass tries again."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    watcher = Watcher(folder, settle)
    log.info("watching %s for evidence-system exports", watcher.folder)
    while True:
        try:
            watcher.look()
        except Exception:  # a database hiccup or an unreadable file must not end the watch
            log.exception("a pass over %s failed", folder)
        if stop.wait(max(0.1, settle / 2)):
            return


def _signature(manifest: Path) -> Signature:
    """Size and mtime of the manifest and of every file it names (None for one not there yet)."""
    paths = [manifest]
    try:
        paths += [row.path for row in ingest.read_manifest(manifest) if row.path is not None]
    except ingest.ManifestError:
        pass  # perhaps still being written: its own size tells
    found: list[tuple[str, int, int] | tuple[str, None, None]] = []
    for path in paths:
        try:
            stat = path.stat()
            found.append((str(path), stat.st_size, stat.st_mtime_ns))
        except OSError:
            found.append((str(path), None, None))
    return tuple(found)


def _finish(import_id: int, error: str | None) -> None:
    def once():
        with session_scope() as session:
            service.finish(session, import_id, error=error)

    retry_when_busy(once)


def _write_outcome(import_id: int, path: Path) -> None:
    with session_scope() as session:
        rows = service.rows_of(session, import_id)
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["row", "file", "outcome", "clip_id", "reason"])
        for row in rows:
            out.writerow([row.row_number, row.file, row.outcome, row.clip_id or "", row.reason or ""])


def _free(target: Path) -> Path:
    """`target`, or target-2, target-3 ... if it is taken."""
    candidate, n = target, 1
    while candidate.exists():
        n += 1
        candidate = target.with_name(f"{target.name}-{n}")
    return candidate


def _move(source: Path, destination: Path) -> None:
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, destination)  # a rename: DIR/imported is on DIR's file system
    except OSError as exc:  # left in place, and said: the import itself is recorded
        log.warning("could not move %s to %s: %s", source, destination, exc)
