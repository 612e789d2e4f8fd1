"""Backup and restore of a bestpart installation: its database, its store, the admins' cue rules.

    DEST/manifest.json                what is in the backup: every file's SHA-256, the audit head
    DEST/database-<UTC time>.db       SQLite's online backup (or .dump: pg_dump -Fc)
    DEST/rules.json                   the cue rules in force, when admins have edited them
    DEST/store/originals/ab/abc...    the store as in DATA_DIR/store (read-only originals,
    DEST/store/derived/..., exports/  derived files, lesson exports)

A backup into a folder that holds an earlier one copies only what is new (a file already there
with the hash the database records is kept), writes the new manifest last (the database file has
a new name each time, so until then the earlier manifest still describes a whole backup) and
then removes what the new manifest does not name. Nothing needs the service stopped.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, col

from api.audit.models import AuditHead
from api.audit.service import SYSTEM, Actor, head_of, record, verify
from api.clips.models import Asset, Clip
from api.clips.storage import CHUNK, Store, sha256_file
from api.config import Settings, get_settings
from api.curriculum.models import LessonExport

MANIFEST = "manifest.json"
FORMAT = 1
RULES = "rules.json"
SQLITE_NAME = "bestpart.db"  # where restore puts a SQLite database: the default in DATA_DIR
KEPT_IN_AN_EMPTY_DATA_DIR = {"models"}  # Whisper assembled from its wheels: a cache, not data

Say = Callable[[str], None]


class BackupError(Exception):
    """The backup could not be made; the message says why and what to do."""


class RestoreError(Exception):
    """The backup was not restored, or did not check out once restored; the message says which."""


@dataclass
class Manifest:
    """What a backup holds. `files` maps each path in the backup to its SHA-256."""

    created_at: str
    backend: str  # "sqlite" or "postgresql"
    database: str  # the database file's path in the backup
    audit_head: str  # SEQ:HASH of the newest audit record in the backed-up database
    clips: int
    files: dict[str, str]
    copied: int = 0  # files this backup copied; the rest were already in DEST
    kept: int = 0
    bytes_copied: int = 0
    format: int = FORMAT

    @property
    def anchor(self) -> tuple[int, str]:
        seq, _, digest = self.audit_head.partition(":")
        return int(seq), digest

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def load(cls, path: Path) -> "Manifest":
        try:
            data = json.loads(path.read_text())
            if data.get("format") != FORMAT:
                raise RestoreError(f"{path} is a backup of format {data.get('format')}, not {FORMAT}")
            return cls(**data)
        except FileNotFoundError:
            raise RestoreError(f"{path.parent} holds no bestpart backup: there is no {MANIFEST}") from None
        except (ValueError, TypeError, AttributeError) as exc:
            raise RestoreError(f"{path} is not a bestpart backup manifest: {exc}") from None


@dataclass(frozen=True)
class StoreFile:
    relative: str  # to the store's root
    sha256: str


@dataclass
class Snapshot:
    """A consistent copy of the database and what it says about the store."""

    file: Path
    backend: str
    audit_head: str
    clips: int
    store_files: list[StoreFile] = field(default_factory=list)


# --- backup ------------------------------------------------------------------------------------


def backup(
    dest: Path, settings: Settings | None = None, say: Say = lambda message: None, actor: Actor = SYSTEM
) -> Manifest:
    """Back the installation up into `dest` while it runs; raise BackupError with the reason.

    The database first (SQLite's online backup API, or pg_dump -Fc from one exported snapshot),
    then every store file that snapshot records, each hashed as it is copied and checked against
    the database's record. `manifest.json` names every file with its SHA-256 and the audit head."""
    settings = settings or get_settings()
    dest = dest.resolve()
    _check_destination(dest, settings)
    dest.mkdir(parents=True, exist_ok=True)
    name = f"database-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
    url = settings.resolved_database_url
    say("copying the database")
    snapshot = _snapshot_sqlite(url, dest / name) if url.startswith("sqlite") else _snapshot_postgres(url, dest / name)
    try:
        manifest = Manifest(
            datetime.now(UTC).isoformat(timespec="seconds"),
            snapshot.backend,
            snapshot.file.name,
            snapshot.audit_head,
            snapshot.clips,
            {snapshot.file.name: sha256_file(snapshot.file)},
        )
        _copy_store(Store(settings.store_dir), dest, snapshot.store_files, manifest, say)
        _copy_rules(settings, dest, manifest)
    except BaseException:
        snapshot.file.unlink(missing_ok=True)
        raise
    _write_atomically(dest / MANIFEST, manifest.to_json())
    _prune(dest, manifest)
    _audit_backup(url, actor, dest, manifest)
    return manifest


def manifest_digest(folder: Path) -> str:
    """SHA-256 of a backup's manifest: kept elsewhere, it shows later that the backup is the same."""
    return sha256_file(folder / MANIFEST)


def _check_destination(dest: Path, settings: Settings) -> None:
    data_dir = settings.data_dir.resolve()
    if dest.is_relative_to(data_dir) or data_dir.is_relative_to(dest):
        raise BackupError(
            f"{dest} is inside the data dir {data_dir} (or holds it): back up to another place, "
            "ideally another disk or machine"
        )
    if dest.exists() and any(dest.iterdir()) and not (dest / MANIFEST).exists():
        raise BackupError(
            f"{dest} is not empty and holds no earlier bestpart backup: choose an empty folder "
            "(or one an earlier backup wrote)"
        )


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for one that names none (sqlite://, in memory)."""
    database = make_url(url).database
    return Path(database) if database else None


def _snapshot_sqlite(url: str, base: Path) -> Snapshot:
    source = _sqlite_file(url)
    if source is None:
        raise BackupError(f"{url} names no database file (an in-memory database): nothing to back up")
    if not source.is_file():
        raise BackupError(f"there is no database at {source}: nothing to back up")
    target = base.with_suffix(".db")
    # The online backup API copies a consistent snapshot page by page while the service goes on
    # writing; in WAL mode readers never block the writer, so there is no downtime.
    with closing(sqlite3.connect(source, timeout=30)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    engine = _engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:  # read from the copy itself: exactly what it holds
            return Snapshot(target, "sqlite", _audit_head(conn), _count_clips(conn), _store_files(conn))
    finally:
        engine.dispose()


def _snapshot_postgres(url: str, base: Path) -> Snapshot:
    pg_dump = _postgres_tool("pg_dump", BackupError, "a PostgreSQL database is backed up with it", "back up again")
    target = base.with_suffix(".dump")
    libpq_url, env = _libpq(url)
    engine = _engine(url)
    try:
        # One exported snapshot for pg_dump and for our own reads: the dump, the audit head and the
        # list of store files are the same moment of the database.
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            exported = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            snapshot = Snapshot(target, "postgresql", _audit_head(conn), _count_clips(conn), _store_files(conn))
            _run_tool(
                [pg_dump, "--format=custom", f"--snapshot={exported}", f"--file={target}", f"--dbname={libpq_url}"],
                env,
                BackupError,
            )
        return snapshot
    finally:
        engine.dispose()


def _store_files(conn: Connection) -> list[StoreFile]:
    """Every file the database records, with its hash: originals, derived files, lesson exports."""
    files = [StoreFile(f"originals/{sha[:2]}/{sha}", sha) for (sha,) in conn.execute(select(col(Clip.sha256)))]
    files += [StoreFile(path, sha) for path, sha in conn.execute(select(col(Asset.path), col(Asset.sha256)))]
    files += [
        StoreFile(path, sha)
        for path, sha in conn.execute(
            select(col(LessonExport.path), col(LessonExport.sha256)).where(
                col(LessonExport.path).is_not(None), col(LessonExport.sha256).is_not(None)
            )
        )
        if path is not None and sha is not None  # the query's filter, for the type checker
    ]
    return files


def _audit_head(conn: Connection) -> str:
    head = conn.execute(select(col(AuditHead.seq), col(AuditHead.last_hash)).where(col(AuditHead.id) == 1)).first()
    return f"{head[0]}:{head[1]}" if head else f"0:{'0' * 64}"


def _count_clips(conn: Connection) -> int:
    return conn.execute(text("SELECT count(*) FROM clips")).scalar_one()


def _copy_store(store: Store, dest: Path, files: list[StoreFile], manifest: Manifest, say: Say) -> None:
    say(f"copying the store: {len(files)} files")
    problems = []
    for stored in files:
        relative = f"store/{stored.relative}"
        target = dest / relative
        if target.is_file() and sha256_file(target) == stored.sha256:
            manifest.kept += 1  # an earlier backup has it, intact
        else:
            problem = copy_verified(store.absolute(stored.relative), target, stored.sha256)
            if problem:
                problems.append(f"{store.absolute(stored.relative)}: {problem}")
                continue
            manifest.copied += 1
            manifest.bytes_copied += target.stat().st_size
        if relative.startswith("store/originals/"):
            target.chmod(0o444)
        manifest.files[relative] = stored.sha256
    if problems:
        raise BackupError(
            f"{len(problems)} store files are not what the database recorded, so the backup is not "
            "complete (run 'bestpart fixity'; put the originals back from an earlier backup):\n  "
            + "\n  ".join(problems)
        )


def _copy_rules(settings: Settings, dest: Path, manifest: Manifest) -> None:
    rules = settings.editable_rules_path
    if rules.is_file():
        digest = sha256_file(rules)
        if copy_verified(rules, dest / RULES, digest):
            raise BackupError(f"{rules} changed while it was copied: back up again")
        manifest.files[RULES] = digest


def copy_verified(source: Path, target: Path, expected: str) -> str | None:
    """Copy through a temp file beside the target, hashing as it goes; rename into place only if the
    bytes have the expected SHA-256. Returns what was wrong instead, or None."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    digest = hashlib.sha256()
    try:
        with open(source, "rb") as src, open(partial, "wb") as out:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except FileNotFoundError:
        partial.unlink(missing_ok=True)
        return "missing"
    if digest.hexdigest() != expected:
        partial.unlink(missing_ok=True)
        return f"its SHA-256 is {digest.hexdigest()}, not the {expected} recorded"
    os.replace(partial, target)
    return None


def _write_atomically(path: Path, content: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    with open(partial, "w") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    os.replace(partial, path)


def _prune(dest: Path, manifest: Manifest) -> None:
    """Remove what an earlier backup left that this one does not name (only our own kinds of file)."""
    for path in [*dest.glob("database-*"), *dest.glob(RULES), *(dest / "store").rglob("*")]:
        if path.is_file() and path.relative_to(dest).as_posix() not in manifest.files:
            path.unlink()


def _audit_backup(url: str, actor: Actor, dest: Path, manifest: Manifest) -> None:
    """A backup is a copy of every clip: recorded, like an export, in the live database's audit log."""
    with _session(url) as session:
        record(
            session,
            actor,
            "backup.create",
            object_type="backup",
            object_id=str(dest)[-100:],
            details={
                "audit_head": manifest.audit_head,
                "files": len(manifest.files),
                "copied": manifest.copied,
                "bytes_copied": manifest.bytes_copied,
                "manifest_sha256": manifest_digest(dest),
            },
        )


# --- restore -----------------------------------------------------------------------------------


@dataclass
class Restored:
    manifest: Manifest
    audit_head: str
    fixity_files: int


def restore(
    src: Path,
    data_dir: Path,
    database_url: str | None = None,
    anchor: tuple[int, str] | None = None,
    say: Say = lambda message: None,
    actor: Actor = SYSTEM,
) -> Restored:
    """Restore the backup in `src` into the empty `data_dir` (and, for a PostgreSQL backup, into
    the empty database at `database_url`); raise RestoreError with the reason.

    Every file's hash is checked against the manifest before anything is copied; once in place, the
    audit log is verified with the backup's head as its anchor (and `anchor` too, a head kept
    elsewhere), and fixity is checked over every clip."""
    src, data_dir = src.resolve(), data_dir.resolve()
    manifest = Manifest.load(src / MANIFEST)
    _check_target(data_dir, manifest, database_url)
    say(f"checking the {len(manifest.files)} files of the backup against its manifest")
    _verify_backup(src, manifest)
    say(f"copying into {data_dir}")
    url = _copy_into_place(src, data_dir, manifest, database_url)
    return _check_restored(url, data_dir, manifest, anchor, say, actor)


def _check_target(data_dir: Path, manifest: Manifest, database_url: str | None) -> None:
    if data_dir.exists() and any(p.name not in KEPT_IN_AN_EMPTY_DATA_DIR for p in data_dir.iterdir()):
        raise RestoreError(
            f"{data_dir} is not empty: restore only into an empty (or new) data dir, so that "
            "nothing of another installation is mixed with the backup or overwritten by it"
        )
    postgres_url = database_url if database_url and not database_url.startswith("sqlite") else None
    postgres = postgres_url is not None
    if (
        manifest.backend == "sqlite"
        and database_url
        and (postgres or _sqlite_file(database_url) != data_dir / SQLITE_NAME)
    ):
        raise RestoreError(
            f"this is a backup of a SQLite database, restored to {data_dir / SQLITE_NAME}: "
            "unset BESTPART_DATABASE_URL (or restore a backup of a PostgreSQL database)"
        )
    if manifest.backend == "postgresql" and not postgres:
        raise RestoreError(
            "this is a backup of a PostgreSQL database: set BESTPART_DATABASE_URL to an empty "
            "PostgreSQL database to restore it into"
        )
    if postgres_url is not None and _has_tables(postgres_url):
        raise RestoreError(
            f"the database {make_url(postgres_url).render_as_string()} is not empty: restore into a new, empty database"
        )


def _verify_backup(src: Path, manifest: Manifest) -> None:
    if manifest.database not in manifest.files:
        raise RestoreError(f"the manifest names no hash for the database file {manifest.database}")
    problems = []
    for relative, expected in manifest.files.items():
        _check_name(relative, manifest)
        try:
            actual = sha256_file(src / relative)
        except FileNotFoundError:
            actual = "missing"
        if actual != expected:
            problems.append(
                f"{relative}: {actual if actual == 'missing' else 'SHA-256 ' + actual}, the manifest says {expected}"
            )
    if problems:
        raise RestoreError(
            f"the backup in {src} is damaged or was altered; nothing was restored:\n  " + "\n  ".join(problems)
        )


def _check_name(relative: str, manifest: Manifest) -> None:
    """A manifest names files inside the backup, of the kinds a backup holds: never ../ or /etc."""
    parts = PurePosixPath(relative).parts
    if PurePosixPath(relative).is_absolute() or ".." in parts or not parts:
        inside = False
    elif relative == manifest.database:
        inside = len(parts) == 1 and relative.startswith("database-")
    else:
        inside = relative == RULES or (parts[0] == "store" and len(parts) > 2)
    if not inside:
        raise RestoreError(f"the manifest names {relative!r}, which is no file a bestpart backup holds")


def _copy_into_place(src: Path, data_dir: Path, manifest: Manifest, database_url: str | None) -> str:
    """Each file copied and hashed again on its way (a disk can fail between check and copy)."""
    for relative, expected in manifest.files.items():
        if relative == manifest.database and manifest.backend == "postgresql":
            continue
        target = data_dir / (SQLITE_NAME if relative == manifest.database else relative)
        if problem := copy_verified(src / relative, target, expected):
            raise RestoreError(
                f"{src / relative} changed while it was restored ({problem}): {data_dir} holds a "
                "part of the backup; empty it and restore again"
            )
        if relative.startswith("store/originals/"):
            target.chmod(0o444)  # as the store keeps them
    Store(data_dir / "store")  # its tmp dir, as the service expects
    if manifest.backend == "sqlite":
        return f"sqlite:///{data_dir / SQLITE_NAME}"
    if database_url is None:  # _check_target refuses a PostgreSQL backup without a database URL
        raise RestoreError("this is a backup of a PostgreSQL database: set BESTPART_DATABASE_URL to restore it into")
    _pg_restore(src / manifest.database, database_url)
    return database_url


def _postgres_tool(name: str, error: type[Exception], why: str, then: str) -> str:
    """The path of a PostgreSQL client tool, or `error` saying how to get it."""
    found = shutil.which(name)
    if found is None:
        raise error(
            f"{name} is not on PATH, and {why}: install the PostgreSQL client tools of your server's "
            f"major version (Debian/Ubuntu: apt install postgresql-client) or add their folder to PATH, "
            f"then {then}"
        )
    return found


def _pg_restore(dump: Path, database_url: str) -> None:
    pg_restore = _postgres_tool(
        "pg_restore", RestoreError, "a PostgreSQL backup is restored with it", "empty the data dir and restore again"
    )
    libpq_url, env = _libpq(database_url)
    _run_tool(
        [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={libpq_url}", str(dump)],
        env,
        RestoreError,
    )


def _check_restored(
    url: str, data_dir: Path, manifest: Manifest, anchor: tuple[int, str] | None, say: Say, actor: Actor
) -> Restored:
    from api.fixity.service import check

    say(f"verifying the audit log against the backup's head {manifest.audit_head}")
    left = f"\n(the restored files are left in {data_dir} to inspect; empty it before restoring again)"
    with _session(url) as session:
        problems = verify(session, manifest.anchor)
        if problems:
            raise RestoreError(
                "the restored audit log does not verify against the head recorded in the backup, "
                f"{manifest.audit_head}:\n  " + "\n  ".join(problems) + left
            )
        problems = verify(session, anchor) if anchor else []
        if anchor and problems:
            raise RestoreError(
                f"the restored audit log does not hold the head {anchor[0]}:{anchor[1]} you kept:\n  "
                + "\n  ".join(problems)
                + left
            )
    say("checking the fixity of every clip")
    engine = _engine(url)
    try:
        report = check(lambda: _unit_of_work(engine), None, store=Store(data_dir / "store"), actor=actor)
    finally:
        engine.dispose()
    if not report.ok:
        raise RestoreError(
            "the restored store failed its fixity check:\n  "
            + "\n  ".join(m.describe() for m in report.mismatches)
            + left
        )
    with _session(url) as session:
        record(
            session,
            actor,
            "backup.restore",
            object_type="backup",
            object_id=manifest.created_at,
            details={"audit_head": manifest.audit_head, "files": len(manifest.files), "clips": manifest.clips},
        )
        seq, digest = head_of(session)
    return Restored(manifest, f"{seq}:{digest}", report.files)


# --- shared --------------------------------------------------------------------------------------


def _engine(url: str) -> Engine:
    """An engine of our own: restore works on a database that is not (yet) the configured one."""
    return create_engine(url, poolclass=NullPool, connect_args={"timeout": 30} if url.startswith("sqlite") else {})


@contextmanager
def _unit_of_work(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session
        session.commit()


@contextmanager
def _session(url: str) -> Iterator[Session]:
    engine = _engine(url)
    try:
        with _unit_of_work(engine) as session:
            yield session
    finally:
        engine.dispose()


def _has_tables(url: str) -> bool:
    with _session(url) as session:
        return (
            session.execute(
                text(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                )
            ).scalar_one()
            > 0
        )


def _libpq(url: str) -> tuple[str, dict]:
    """The URL as libpq reads it, its password in the environment rather than in `ps` output."""
    parsed = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _run_tool(argv: list[str], env: dict, error: type[Exception]) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise error(f"{Path(argv[0]).name} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")


# --- the commands --------------------------------------------------------------------------------


def backup_command(args) -> int:
    """`bestpart backup DEST`: exit 0 with the audit head and manifest hash to keep, 1 with why not."""
    import sys

    from api.fixity.cli import cli_actor

    try:
        manifest = backup(args.dest, say=lambda message: print(message, file=sys.stderr), actor=cli_actor())
    except BackupError as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"backed up {manifest.clips} clips to {args.dest}: {len(manifest.files)} files, {manifest.copied} copied "
        f"({manifest.bytes_copied} bytes), {manifest.kept} already there"
    )
    print(f"audit head: {manifest.audit_head}")
    print(f"manifest sha256: {manifest_digest(args.dest)}  (keep both elsewhere)")
    return 0


def restore_command(args) -> int:
    """`bestpart restore SRC [--data-dir DIR] [--anchor SEQ:HASH]`: into an empty data dir (default
    BESTPART_DATA_DIR) and, for PostgreSQL, the empty BESTPART_DATABASE_URL. Exit 1 with why not."""
    import sys

    from api.fixity.cli import cli_actor

    settings = get_settings()
    data_dir = args.data_dir or settings.data_dir
    try:
        restored = restore(
            args.src,
            data_dir,
            settings.database_url,
            args.anchor,
            say=lambda message: print(message, file=sys.stderr),
            actor=cli_actor(),
        )
    except RestoreError as exc:
        print(f"restore failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"restored {restored.manifest.clips} clips from the backup of {restored.manifest.created_at} into "
        f"{data_dir}; the audit log verifies against {restored.manifest.audit_head}, and "
        f"{restored.fixity_files} stored files passed fixity"
    )
    print(f"audit head now: {restored.audit_head}")
    return 0
