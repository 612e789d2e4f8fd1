"""The `bestpart` command: serve, worker, migrate, ingest, import."""

import argparse
import csv
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return args.run(args) or 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bestpart",
        description="Body-worn-camera tagging, recognition and video review. "
        "Settings come from BESTPART_* environment variables (see README).",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the web service with an embedded worker")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-worker", action="store_true", help="run no worker (run `bestpart worker` elsewhere)")
    serve.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="comma-separated addresses of the HTTPS proxy whose X-Forwarded-Proto/-For are "
        "trusted (HSTS and Secure cookies then apply); default 127.0.0.1",
    )
    serve.set_defaults(run=cmd_serve)

    worker = commands.add_parser("worker", help="run pipeline workers only")
    worker.add_argument("--threads", type=int, default=None, help="concurrent jobs (default BESTPART_WORKER_THREADS)")
    worker.set_defaults(run=cmd_worker)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(run=lambda args: _migrate())

    ingest = commands.add_parser("ingest", help="ingest video files with their tags")
    ingest.add_argument("files", nargs="+", type=Path, metavar="FILE")
    ingest.add_argument("--badge", required=True, help="badge number of the recording officer")
    ingest.add_argument(
        "--category",
        action="append",
        required=True,
        help="de-escalation, community-engagement or life-saving (repeatable)",
    )
    ingest.add_argument("--evidence-id")
    ingest.add_argument("--recorded-at", help="ISO 8601")
    ingest.add_argument("--incident-number")
    ingest.add_argument("--division")
    ingest.add_argument("--note")
    ingest.add_argument("--markers", help='JSON list of {"at": seconds, "note": text}')
    ingest.set_defaults(run=cmd_ingest)

    manifest = commands.add_parser(
        "import",
        help="import an evidence-system export folder from its CSV manifest, once or watching a folder",
        description="Import MANIFEST.csv once, or with --watch DIR take each manifest dropped into DIR once "
        "it and its files are complete (a MANIFEST.csv.done marker, or sizes unchanged for "
        "BESTPART_IMPORT_WATCH_SETTLE_SECONDS), then move it with its files into DIR/imported/ "
        "(DIR/failed/ for a manifest that cannot be read). Each import is listed on /admin/imports.",
    )
    what = manifest.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "manifest",
        nargs="?",
        type=Path,
        metavar="MANIFEST.csv",
        help="columns: file, evidence_id, badge_number, recorded_at, categories, "
        "incident_number, division, note (files relative to the manifest's folder)",
    )
    what.add_argument(
        "--watch",
        type=Path,
        metavar="DIR",
        help="keep watching DIR for new manifests until stopped (as `bestpart worker` does with "
        "BESTPART_IMPORT_WATCH_DIR set)",
    )
    manifest.set_defaults(run=cmd_import)
    _add_account_commands(commands)
    return parser


def _add_account_commands(commands) -> None:
    users = commands.add_parser("users", help="user accounts").add_subparsers(required=True, metavar="ACTION")
    add = users.add_parser("add", help="create a user (the password is read from standard input)")
    add.add_argument("name")
    add.add_argument(
        "--role", action="append", required=True, help="officer, reviewer, trainer, committee or admin (repeatable)"
    )
    add.add_argument("--badge", help="badge number, for officers")
    add.add_argument("--display-name")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from standard input (never from the command line)",
    )
    add.add_argument(
        "--own-password",
        action="store_true",
        help="the user typed this password themselves: no change is asked at the first sign-in "
        "(otherwise a password someone else set must be changed then)",
    )
    add.set_defaults(run=cmd_users_add)
    unlock = users.add_parser(
        "unlock", help="unlock an account locked by failed sign-ins (locks end by themselves after 10 minutes)"
    )
    unlock.add_argument("name")
    unlock.set_defaults(run=cmd_users_unlock)
    reset = users.add_parser("reset", help="issue a one-time password-reset link (valid 24 hours) for a user")
    reset.add_argument("name")
    reset.set_defaults(run=cmd_users_reset)

    tokens = commands.add_parser("tokens", help="API tokens").add_subparsers(required=True, metavar="ACTION")
    create = tokens.add_parser("create", help="create a token; it is printed once, alone on the last line")
    create.add_argument("name")
    owner = create.add_mutually_exclusive_group(required=True)
    owner.add_argument("--user", help="a personal token acting with this user's roles")
    owner.add_argument("--scope", help="a service token with this scope (ingest)")
    create.add_argument("--expires-in-days", type=int, metavar="N", help="refused after N days (default: never)")
    create.set_defaults(run=cmd_tokens_create)

    officers = commands.add_parser("officers", help="the officer directory").add_subparsers(
        required=True, metavar="ACTION"
    )
    load = officers.add_parser(
        "import",
        help="load the directory (officers and civilian employees) from a CSV: badge_number,name,division[,kind,unit]",
    )
    load.add_argument("csv", type=Path)
    load.set_defaults(run=cmd_officers_import)

    from api.surveys import cli as surveys_cli

    surveys_cli.add_parser(commands, prepare=_migrate)

    audit = commands.add_parser("audit", help="the audit trail").add_subparsers(required=True, metavar="ACTION")
    verify = audit.add_parser("verify", help="check the hash chain; exit 1 if a record was altered or removed")
    verify.add_argument(
        "--anchor",
        metavar="SEQ:HASH",
        type=_anchor,
        help="a head printed by an earlier verify and kept outside the database: "
        "the chain must still hold that record unchanged",
    )
    verify.set_defaults(run=cmd_audit_verify)

    fixity = commands.add_parser(
        "fixity", help="re-hash the stored originals and derived files; exit 1 naming any that changed"
    )
    fixity.add_argument("--clip", type=int, metavar="ID", help="check this clip only")
    fixity.set_defaults(run=cmd_fixity)

    backup = commands.add_parser(
        "backup", help="back up the database, the store and the cue rules into DEST while the service runs"
    )
    backup.add_argument("dest", type=Path, metavar="DEST")
    backup.set_defaults(run=cmd_backup)

    restore = commands.add_parser(
        "restore", help="restore a backup into an empty data dir, then verify the audit log and fixity"
    )
    restore.add_argument("src", type=Path, metavar="SRC")
    restore.add_argument("--data-dir", type=Path, help="the empty data dir to restore into (default BESTPART_DATA_DIR)")
    restore.add_argument(
        "--anchor",
        metavar="SEQ:HASH",
        type=_anchor,
        help="a head kept elsewhere: the restored audit log must still hold it",
    )
    restore.set_defaults(run=cmd_restore)


def cmd_fixity(args) -> int:
    from api.fixity.cli import fixity_command

    return fixity_command(args)  # it migrates itself


def cmd_backup(args) -> int:
    from api.backup import backup_command

    return backup_command(args)  # no _migrate(): a backup changes nothing


def cmd_restore(args) -> int:
    from api.backup import restore_command

    return restore_command(args)  # no _migrate(): it would create a database, and the target must be empty


CLI_ACTOR_NAME = "cli"


def _cli_actor():
    import getpass

    from api.audit.service import Actor

    return Actor(f"{CLI_ACTOR_NAME}:{getpass.getuser()}")


def cmd_users_add(args) -> int:
    from api.core.errors import ServiceError
    from api.db import session_scope
    from api.users.service import create_user, person

    password = sys.stdin.readline().rstrip("\n")
    _migrate()
    try:
        with session_scope() as session:
            user = create_user(
                session,
                _cli_actor(),
                args.name,
                password,
                args.role,
                badge_number=args.badge,
                display_name=args.display_name,
                must_change_password=not args.own_password,
            )
            who = person(session, user.badge_number)
    except ServiceError as exc:  # a taken name, a weak password, an unknown role
        print(f"not created: {exc}", file=sys.stderr)
        return 1
    print(f"created {user.username} ({', '.join(user.roles)})")
    if who is not None and who.in_directory:
        print(f"  — {who.label}")
    elif user.badge_number:
        print(
            f"  badge {user.badge_number} is not in the officer directory: linked to nobody until `bestpart officers import` adds it"
        )
    return 0


def cmd_users_unlock(args) -> int:
    from api.db import session_scope
    from api.users.service import unlock, user_by_name

    _migrate()
    with session_scope() as session:
        user = user_by_name(session, args.name)
        if user is None:
            print(f"no user named {args.name!r}", file=sys.stderr)
            return 1
        unlock(session, _cli_actor(), user)
    print(f"unlocked {args.name}")
    return 0


def cmd_users_reset(args) -> int:
    from api.db import session_scope
    from api.users.service import issue_password_reset, user_by_name

    _migrate()
    with session_scope() as session:
        user = user_by_name(session, args.name)
        if user is None:
            print(f"no user named {args.name!r}", file=sys.stderr)
            return 1
        reset, code = issue_password_reset(session, _cli_actor(), user)
    print(
        f"a one-time reset link for {args.name}, valid until {reset.expires_at:%Y-%m-%d %H:%M} UTC; "
        "open it on this server:"
    )
    print(f"/reset?code={code}")
    return 0


def cmd_tokens_create(args) -> int:
    from api.core.errors import NotFound, ServiceError
    from api.db import session_scope
    from api.users.service import create_token, user_by_name

    _migrate()
    try:
        with session_scope() as session:
            user = None
            if args.user:
                user = user_by_name(session, args.user)
                if user is None:
                    raise NotFound(f"no user named {args.user!r}")
            _, secret = create_token(
                session, _cli_actor(), args.name, user=user, scope=args.scope, expires_in_days=args.expires_in_days
            )
    except ServiceError as exc:
        print(f"not created: {exc}", file=sys.stderr)
        return 1
    print(f"token {args.name!r} for {args.user or 'scope ' + args.scope}; it is shown once:")
    print(secret)
    return 0


def cmd_officers_import(args) -> int:
    from api.db import session_scope
    from api.search.service import import_people  # the directory, and the clips of renamed badges re-indexed

    _migrate()
    with open(args.csv, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    with session_scope() as session:
        result = import_people(session, _cli_actor(), rows)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    print(f"{result.imported} people imported, {len(result.problems)} rows skipped")
    if result.linked:
        print(f"accounts linked: {', '.join(result.linked)}")
    return 1 if result.problems else 0


def _anchor(text: str) -> tuple[int, str]:
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise argparse.ArgumentTypeError(f"{text!r} is not SEQ:HASH as printed by 'bestpart audit verify'")
    return int(seq), digest.lower()


def cmd_audit_verify(args) -> int:
    from api.audit.service import head_of, verify
    from api.db import session_scope

    _migrate()
    with session_scope() as session:
        problems = verify(session, args.anchor)
        seq, digest = head_of(session)
    for problem in problems:
        print(problem)
    print("the audit trail is intact" if not problems else f"{len(problems)} problems found")
    if not problems:
        print(f"head: {seq}:{digest}  (keep it elsewhere; a later 'verify --anchor' checks it is still there)")
    return 1 if problems else 0


def _bootstrap_admin() -> str | None:
    """The one-time password of the admin account made on an empty database, else None."""
    from api.db import session_scope
    from api.users.service import bootstrap_admin

    with session_scope() as session:
        return bootstrap_admin(session)


def _announce_admin(server, password: str, url: str) -> None:
    """Once the server listens, below its start-up lines where nobody misses it: the password."""
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.1)
    lines = [
        "An administrator account was created: admin / " + password,
        f"Sign in at {url} and choose a new password; this one works once.",
    ]
    rule = "+" + "-" * (max(map(len, lines)) + 4) + "+"
    framed = [rule, *(f"|  {line.ljust(len(rule) - 6)}  |" for line in lines), rule]
    print("\n" + "\n".join(framed) + "\n", flush=True)


def _port_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _migrate() -> None:
    from api.migrate import upgrade

    upgrade()


def cmd_serve(args) -> int:
    import uvicorn

    from api.app import create_app

    if _port_taken(args.host, args.port):
        print(
            f"bestpart serve: port {args.port} on {args.host} is already in use (another bestpart, or "
            "another server); choose a free one with --port N",
            file=sys.stderr,
        )
        return 1
    _migrate()
    password = _bootstrap_admin()
    from api.clips.service import get_store

    get_store().clean_temp(uploads=True)  # what a killed server was receiving is lost: its client retries
    worker = None
    if not args.no_worker:
        worker = subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], preexec_fn=_die_with_parent)
    # Uvicorn re-raises the SIGTERM it caught once it has shut down; as an exception it lets the
    # finally below stop the worker instead of killing this process on the spot.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(),
            host=args.host,
            port=args.port,
            log_level="info",
            proxy_headers=True,
            forwarded_allow_ips=args.forwarded_allow_ips,
        )
    )
    if password:
        url = f"http://{args.host}:{args.port}"
        threading.Thread(target=_announce_admin, args=(server, password, url), daemon=True).start()
    try:
        server.run()
    finally:
        if worker:
            worker.send_signal(signal.SIGINT)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
    return 0


def _exit_on_signal(signum, _frame) -> None:
    raise SystemExit(128 + signum)


def _die_with_parent() -> None:
    """In the embedded worker: the kernel ends it when `serve` dies, even by kill -9."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def cmd_worker(args) -> int:
    from workers.worker import run_worker

    _migrate()
    run_worker(args.threads)
    return 0


def cmd_ingest(args) -> int:
    fields = {
        "badge_number": [args.badge],
        "categories": args.category,
        "evidence_id": [args.evidence_id or ""],
        "recorded_at": [args.recorded_at or ""],
        "incident_number": [args.incident_number or ""],
        "division": [args.division or ""],
        "note": [args.note or ""],
        "markers": [args.markers or ""],
    }
    _migrate()
    return _ingest_all([(path, fields) for path in args.files], source="cli")


def cmd_import(args) -> int:
    if args.watch is not None:
        return _watch(args.watch)
    from api.clips.ingest import ManifestError, read_manifest
    from api.db import retry_when_busy, session_scope
    from api.imports import importer, service
    from api.imports.models import ImportSource

    _migrate()
    actor = _cli_actor()

    def start():
        with session_scope() as session:
            return service.start(
                session,
                manifest=str(args.manifest.resolve()),
                sha256=importer.manifest_sha256(args.manifest),
                source=ImportSource.CLI,
                imported_by=actor.name,
                watch_path=None,
            ).id

    def finish(error: str | None):
        with session_scope() as session:
            service.finish(session, import_id, error=error)

    import_id = retry_when_busy(start)  # the run is recorded (and listed on /admin/imports) either way
    try:
        rows = read_manifest(args.manifest)
    except ManifestError as exc:
        reason = str(exc.detail)
        retry_when_busy(lambda: finish(reason))
        print(reason, file=sys.stderr)
        return 2
    from tqdm import tqdm

    failures: list[str] = []
    counts = {"accepted": 0, "duplicate": 0}
    with tqdm(total=len(rows), desc="ingesting", unit="file", file=sys.stderr, disable=len(rows) < 2) as progress:

        def said(row) -> None:
            progress.update()
            where = row.path or row.name
            if row.outcome == "refused":
                failures.append(f"{where}: {row.reason}")
                return
            counts[row.outcome] += 1
            if row.outcome == "duplicate":
                print(f"{where}: already here as clip {row.clip_id}; tags added")
            else:
                print(f"{where}: clip {row.clip_id}")

        try:
            importer.import_rows(import_id, rows, actor, on_row=said)
        except BaseException as exc:  # interrupted, or our own fault: the record says it stopped
            stopped = f"stopped before its last row: {type(exc).__name__} {exc}".strip()
            retry_when_busy(lambda: finish(stopped))
            raise
    retry_when_busy(lambda: finish(None))
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    print(
        f"{counts['accepted']} added, {counts['duplicate']} already present, {len(failures)} failed (import {import_id})"
    )
    return 1 if failures else 0


def _watch(folder: Path) -> int:
    from api.config import get_settings
    from api.imports.watch import watch_forever

    if folder.exists() and not folder.is_dir():
        print(f"{folder} is not a folder", file=sys.stderr)
        return 2
    _migrate()
    stop = threading.Event()

    def stopping(signum, _frame) -> None:
        # The first signal ends the watch after the pass at hand; a second ends it at once (an
        # import cut short goes on from its next row when the watch starts again).
        if stop.is_set():
            raise SystemExit(128 + signum)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stopping)
    print(f"watching {folder.resolve()} for evidence-system exports; Ctrl-C stops", file=sys.stderr)
    watch_forever(folder, get_settings().import_watch_settle_seconds, stop)
    return 0


def _ingest_all(jobs: list[tuple[Path | str, dict]], source: str) -> int:
    from tqdm import tqdm

    failures: list[str] = []
    added = duplicates = 0
    for path, fields in tqdm(jobs, desc="ingesting", unit="file", file=sys.stderr, disable=len(jobs) < 2):
        outcome = _ingest_one(path, fields, source)
        if isinstance(outcome, str):
            failures.append(outcome)
        elif outcome.duplicate:
            duplicates += 1
            print(f"{path}: already here as clip {outcome.clip.id}; tags added")
        else:
            added += 1
            print(f"{path}: clip {outcome.clip.id}")
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    print(f"{added} added, {duplicates} already present, {len(failures)} failed")
    return 1 if failures else 0


def _ingest_one(path: Path | str, fields: dict, source: str):
    """One file through api.clips.ingest: the ingest's outcome, or what went wrong as a line."""
    from api.clips import ingest
    from api.db import is_busy, retry_when_busy, session_scope

    if isinstance(path, str):
        return path
    if not path.is_file():
        return f"{path}: no such file"
    try:
        received = ingest.receive_local_file(path)  # the copy and hash, outside any transaction, done once
    except OSError as exc:
        return f"{path}: {exc.strerror or exc}"
    # The operator of this machine files anyone's footage, as the evidence system does.
    submitter = ingest.Submitter(actor=_cli_actor(), any_badge=True)

    def once():
        # Tried again while the database is busy (the server and its worker write too): each try a
        # fresh transaction, the received copy waiting for it.
        with session_scope() as session:
            return ingest.ingest(session, received, fields, submitter, source=source)

    try:
        outcome = retry_when_busy(once)
    except OSError as exc:
        return f"{path}: {exc.strerror or exc}"
    except Exception as exc:
        if not is_busy(exc):
            raise
        return f"{path}: the database stayed busy; run the command again (files already in are recognised)"
    finally:
        received.discard()
    return f"{path}: {outcome.reason}" if isinstance(outcome, ingest.Refused) else outcome


if __name__ == "__main__":
    sys.exit(main())
