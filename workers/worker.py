"""`bestpart worker`: the Huey consumer, the reconciler that rescues the stages of dead workers and
sends again the jobs the queue lost (and keeps the dashboard's figures fresh, workers/stats.py),
and (with BESTPART_IMPORT_WATCH_DIR set) the watched evidence-system export folder
(api/imports/watch.py)."""

import logging
import threading
import time
from datetime import timedelta

from api.clips.service import get_store
from api.config import get_settings
from api.core import jobs
from api.core.types import utcnow
from api.db import session_scope
from workers.queue import get_huey

log = logging.getLogger("bestpart.worker")


def reconcile_forever(stop: threading.Event) -> None:
    lease = get_settings().stage_lease_seconds
    from workers.exports import RetentionWatch
    from workers.stats import StatsWatch

    rules, retention, stats = RulesWatch(), RetentionWatch(), StatsWatch()
    rules.check()  # at start: rules edited while no worker ran still re-score the clips
    stats.check()  # at start: the dashboard's figures, before anyone opens it
    # A pass every half lease; the figures' check more often when they must be fresher than that.
    every = max(0.5, lease / 2)
    tick = max(0.5, min(every, stats.every or every))
    last = time.monotonic()
    while not stop.wait(tick):
        if time.monotonic() - last >= every - tick / 2:
            last = time.monotonic()
            try:
                reconcile(lease)
            except Exception:  # a database or queue hiccup must not end the reconciler
                log.exception("reconciler pass failed")
            rules.check()
            retention.check()  # at most hourly: expired sources leave their lessons
        stats.check()  # the snapshots half BESTPART_STATS_CACHE_SECONDS old are computed again


def reconcile(lease: float) -> list[jobs.Job]:
    """One pass: stages whose worker stopped heartbeating go back to the queue; then every queued
    stage that has waited a lease for a job the queue does not hold gets it sent again (the queue
    was wiped, or a send failed after its commit). Returns the jobs sent again."""
    from api.clips.stages import requeue_abandoned, waiting_for_a_job

    with session_scope() as session:
        for clip_id, stage in requeue_abandoned(session, lease):
            log.warning("clip.%s clip=%s: its worker stopped; requeued", stage.value, clip_id)
    with session_scope() as session:
        wanted = waiting_for_a_job(session, utcnow() - timedelta(seconds=lease))
    sent = jobs.send_missing(wanted)
    for job_name, args in sent:
        log.warning("%s%s was queued in the database but not in the queue: sent again", job_name, args)
    return sent


class RulesWatch:
    """Notices an edit of the cue rules (by the file's digest) and enqueues clips.rescore once."""

    def __init__(self):
        self.seen: str | None = None

    def check(self) -> None:
        from api.clips.recognition import current_rules, rescore_needed

        try:
            digest = current_rules().digest
            if digest == self.seen:
                return
            with session_scope() as session:
                needed = rescore_needed(session, digest)
            if needed:
                log.info("cue rules %s are new to some ready clips: re-scoring them", digest[:12])
                jobs.enqueue("clips.rescore")
            self.seen = digest
        except Exception:  # an unreadable rules file must not end the reconciler
            log.exception("checking the cue rules failed")


def run_worker(threads: int | None = None) -> None:
    import importlib

    from workers.queue import JOB_MODULES

    for module in set(JOB_MODULES.values()):
        importlib.import_module(module)  # registers its tasks with the consumer

    get_store().clean_temp()
    stop = threading.Event()
    threading.Thread(target=reconcile_forever, args=(stop,), daemon=True, name="reconciler").start()
    settings = get_settings()
    if settings.import_watch_dir is not None:
        from api.imports.watch import watch_forever

        threading.Thread(
            target=watch_forever,
            args=(settings.import_watch_dir, settings.import_watch_settle_seconds, stop),
            daemon=True,
            name="import-watch",
        ).start()
    consumer = get_huey().create_consumer(
        workers=threads or get_settings().worker_threads,
        worker_type="thread",
        periodic=get_settings().fixity_interval_minutes > 0,
        initial_delay=0.05,  # poll quickly when idle: a new upload should start at once
        backoff=1.5,
        max_delay=0.5,
    )
    try:
        consumer.run()
    finally:
        stop.set()
