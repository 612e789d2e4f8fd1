"""`bestpart fixity [--clip ID]`: re-hash the store and name every file that is not what was stored."""

import getpass
import sys

from api.audit.service import Actor


def cli_actor() -> Actor:
    """The same actor name api.cli gives the commands it runs."""
    return Actor(f"cli:{getpass.getuser()}")


def fixity_command(args) -> int:
    """Check every clip (or `args.clip`), progress on stderr; exit 1 naming each failing file with
    its expected and actual hash, 2 if the clip does not exist, 0 when everything is intact."""
    from tqdm import tqdm

    from api.core.errors import NotFound
    from api.db import session_scope
    from api.fixity.service import check
    from api.migrate import upgrade

    upgrade()
    # delay: a check of a few small files prints no bar at all
    bar = tqdm(total=0, unit="B", unit_scale=True, unit_divisor=1024, desc="fixity", file=sys.stderr, delay=1)
    seen = 0

    def on_progress(progress) -> None:
        nonlocal seen
        bar.total = max(progress.bytes_total, progress.bytes_done)
        bar.update(progress.bytes_done - seen)
        seen = progress.bytes_done
        bar.set_postfix_str(f"{progress.files_done}/{progress.files_total} files, {progress.current}", refresh=False)

    try:
        report = check(session_scope, args.clip, on_progress, actor=cli_actor())
    except NotFound as exc:
        print(exc, file=sys.stderr)
        return 2
    finally:
        bar.close()
    for mismatch in report.mismatches:
        print(f"FAILED {mismatch.describe()}")
    for clip_id, file in report.resolved:
        print(f"clip {clip_id} {file}: intact again (it had failed before)")
    print(
        f"{report.clips} clips, {report.files + len(report.mismatches)} files checked: "
        + ("all intact" if report.ok else f"{len(report.mismatches)} FAILED")
    )
    return 0 if report.ok else 1
