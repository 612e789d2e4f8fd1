"""Jobs: named (`clip.probe`), sent to the queue only after the transaction that asked for them
commits, and sent again when one is lost.

The web process sends a job as its name and arguments: it never imports the task modules (they
bring OpenCV, Whisper and the model runtimes), only Huey and this file. The worker registers the
tasks under the same names, so the message finds them there. A job that was asked for but is not
in the queue (the queue was wiped, or the send failed after the commit) is found by
`send_missing`, which the worker's reconciler runs over what the database says should be queued.
"""

import logging
import uuid
from collections.abc import Iterable
from functools import lru_cache

from sqlalchemy import event
from sqlmodel import Session

from api.config import get_settings

log = logging.getLogger("bestpart.jobs")

# Job name prefix → the module that registers those tasks with the worker. A message names its task
# as `<module>.<job name>` (Huey's registry key); the module is named here, never imported here.
JOB_MODULES = {
    "clip.": "workers.tasks",
    "clips.": "workers.tasks",
    "lesson.": "workers.exports",
    "notify.": "workers.notifications",
    "surveys.": "workers.surveys",
}
_PENDING = "bestpart_jobs_pending"  # session.info: asked for in the open transaction
_COMMITTED = "bestpart_jobs_committed"  # session.info: their transaction committed; not sent yet

Job = tuple[str, tuple]  # (job name, arguments)


@lru_cache
def get_huey():
    """SqliteHuey in the data dir by default, RedisHuey for BESTPART_QUEUE_URL=redis://…"""
    from huey import RedisHuey, SqliteHuey

    settings = get_settings()
    url = settings.resolved_queue_url
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("bestpart", url=url)
    if url.startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return SqliteHuey("bestpart", filename=url.removeprefix("sqlite:///"), timeout=30)
    raise ValueError(f"BESTPART_QUEUE_URL must be redis://… or sqlite:///…, not {url!r}")


def task_module(job_name: str) -> str:
    """The module whose tasks include this job (a KeyError-like ValueError for an unknown one)."""
    for prefix, module in JOB_MODULES.items():
        if job_name.startswith(prefix):
            return module
    raise ValueError(f"no task module runs jobs named {job_name!r}")


def task_key(job_name: str) -> str:
    """The name Huey's registry knows the task by, in the worker: `workers.tasks.clip.probe`."""
    return f"{task_module(job_name)}.{job_name}"


def enqueue(job_name: str, *args) -> None:
    """Send one job now, by name: the message Huey's own task call would send, built without the
    task (and so without importing the module that defines it)."""
    from huey.registry import Message

    huey = get_huey()
    message = Message(uuid.uuid4().hex, task_key(job_name), None, 0, 0, None, tuple(args), {})
    huey.storage.enqueue(huey.serializer.serialize(message))


def queued_jobs() -> set[Job]:
    """Every job waiting in the queue or its schedule, as (job name, arguments)."""
    huey = get_huey()
    found = set()
    for data in [*huey.storage.enqueued_items(), *huey.storage.scheduled_items()]:
        message = huey.serializer.deserialize(data)
        for prefix, module in JOB_MODULES.items():
            if message.name.startswith(f"{module}.{prefix}"):
                found.add((message.name.removeprefix(f"{module}."), tuple(message.args or ())))
                break
    return found


def send_missing(expected: Iterable[Job]) -> list[Job]:
    """Send each expected job that is not in the queue; returns those sent. A job sent twice is
    harmless (each task holds a lease, or is otherwise idempotent), a job never sent is a clip
    stuck for good: so when unsure, send."""
    expected = list(dict.fromkeys((name, tuple(args)) for name, args in expected))
    if not expected:
        return []
    waiting = queued_jobs()
    missing = [job for job in expected if job not in waiting]
    for job_name, args in missing:
        enqueue(job_name, *args)
    return missing


# --- after the commit -----------------------------------------------------------------------


def enqueue_after_commit(session: Session, job_name: str, *args) -> None:
    """Send a job once the session's transaction commits, so a worker never sees uncommitted rows;
    a transaction rolled back takes its jobs with it."""
    task_module(job_name)  # an unknown name fails here, where it was asked for
    if not session.in_transaction():
        session.begin()  # so that a rollback before any statement still ends it (no I/O here)
    session.info.setdefault(_PENDING, []).append((job_name, tuple(args)))


def take_committed(session: Session) -> list[Job]:
    """The jobs whose transactions committed, once each (for session_scope to send)."""
    return session.info.pop(_COMMITTED, [])


def send(jobs: Iterable[Job]) -> None:
    """Send committed jobs. The rows are committed: a queue that fails now must not undo the answer,
    so the failure is logged and the reconciler's sweep (send_missing) sends the job later."""
    for job_name, args in jobs:
        try:
            enqueue(job_name, *args)
        except Exception:
            log.exception("could not send %s%s after its commit; the reconciler will send it again", job_name, args)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if pending := session.info.pop(_PENDING, None):
        session.info.setdefault(_COMMITTED, []).extend(pending)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction) -> None:
    # Every rollback, even of a transaction that had not reached the database yet; a savepoint's
    # (nested) leaves the jobs of the transaction around it.
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)
