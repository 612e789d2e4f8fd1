"""`bestpart surveys import FILE.csv`: the same import as POST /api/v1/surveys/import, from a shell.

It prints how many rows were accepted, left unchanged (imported before with the same values) and
refused, then each refusal with its line, and exits 1 when any row was refused (or the file as a
whole could not be read), 0 otherwise. api/cli.py wires it in:

    from api.surveys import cli as surveys_cli
    surveys_cli.add_parser(commands, prepare=_migrate)
"""

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path

from api.audit.service import Actor
from api.core.errors import Invalid
from api.surveys.schemas import CSV_COLUMNS
from api.surveys.service import MAX_FILE_BYTES, import_file

CLI_ACTOR_PREFIX = "cli"  # the same actor name as api/cli.py's other commands: cli:<login>


def add_parser(subparsers, prepare: Callable[[], None] | None = None) -> argparse.ArgumentParser:
    """`surveys import FILE` under the given subparsers; `prepare` runs first (the migration)."""
    surveys = subparsers.add_parser("surveys", help="customer-satisfaction survey results").add_subparsers(
        required=True, metavar="ACTION"
    )
    load = surveys.add_parser(
        "import",
        help=f"import survey responses from a CSV ({CSV_COLUMNS}); each bad row is reported, "
        "and importing the same file again changes nothing",
    )
    load.add_argument("file", type=Path, metavar="FILE.csv")
    load.set_defaults(run=lambda args: run(args, prepare=prepare))
    return load


def run(args, prepare: Callable[[], None] | None = None, out=None, err=None) -> int:
    """Import args.file; print the outcome. 0 when every row was taken or already there, else 1."""
    from api.db import session_scope

    out, err = out or sys.stdout, err or sys.stderr
    path: Path = args.file
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            print(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MB: split it", file=err)
            return 1
        data = path.read_bytes()
    except OSError as exc:
        print(f"{path}: cannot read it ({exc.strerror or exc})", file=err)
        return 1
    if prepare:
        prepare()
    actor = Actor(f"{CLI_ACTOR_PREFIX}:{getpass.getuser()}")
    try:
        with session_scope() as session:
            batch = import_file(session, actor, path.name, data)
            accepted, unchanged, refused = batch.accepted, batch.unchanged, batch.refused
            refusals = list(batch.refusals)
            rows = batch.rows
    except Invalid as exc:
        print(f"refused: {exc}", file=err)
        return 1
    print(f"{rows} rows: {accepted} accepted, {unchanged} unchanged, {refused} refused", file=out)
    for refusal in refusals:
        survey = f" (survey {refusal['survey_id']})" if refusal.get("survey_id") else ""
        print(f"line {refusal['line']}{survey}: {refusal['problem']}", file=err)
    return 1 if refused else 0
