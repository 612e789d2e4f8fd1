"""Jobs: sent by name after the commit (never for a rolled-back transaction), the stage registry the
worker builds its tasks from, and the sweep that sends again a stage's job the queue lost."""

import os
import sqlite3
import subprocess
from datetime import timedelta

import pytest
from sqlmodel import select

from api.clips.models import Stage, StageName, StageState
from api.clips.stages import PIPELINE, STAGES, finish, take_lease, waiting_for_a_job
from api.core import jobs
from api.core.types import utcnow
from api.db import session_scope
from tests.accounts import fresh_copy
from tests.services import backend_env, bestpart, upload, wait_until


@pytest.fixture
def empty_queue(app):
    """The session's queue, emptied (this file's tests look at what is in it)."""
    jobs.get_huey().storage.flush_queue()
    yield
    jobs.get_huey().storage.flush_queue()


def test_a_job_goes_out_after_the_commit_and_never_for_a_rollback(empty_queue):
    with session_scope() as session:
        jobs.enqueue_after_commit(session, "clip.probe", 90001)
        assert ("clip.probe", (90001,)) not in jobs.queued_jobs(), "not before the commit"
    assert ("clip.probe", (90001,)) in jobs.queued_jobs()

    with pytest.raises(RuntimeError), session_scope() as session:
        jobs.enqueue_after_commit(session, "clip.probe", 90002)
        raise RuntimeError("the request failed")
    with session_scope() as session:
        jobs.enqueue_after_commit(session, "clip.probe", 90003)
        session.rollback()  # e.g. a refusal that rolls back before it records
        jobs.enqueue_after_commit(session, "clip.probe", 90004)
    queued = jobs.queued_jobs()
    assert ("clip.probe", (90002,)) not in queued and ("clip.probe", (90003,)) not in queued
    assert ("clip.probe", (90004,)) in queued


def test_a_savepoint_rolled_back_keeps_the_jobs_of_its_transaction(empty_queue):
    with session_scope() as session:
        jobs.enqueue_after_commit(session, "clip.probe", 90011)
        with pytest.raises(RuntimeError), session.begin_nested():
            raise RuntimeError("a duplicate insert, say")
    assert ("clip.probe", (90011,)) in jobs.queued_jobs()


def test_an_unknown_job_name_fails_where_it_is_asked_for():
    with pytest.raises(ValueError, match="no task module"), session_scope() as session:
        jobs.enqueue_after_commit(session, "cilp.probe", 1)


def test_every_declared_stage_is_a_registered_task_the_message_finds():
    import workers.tasks

    registered = workers.tasks.huey._registry._registry
    assert {spec.job for spec in PIPELINE} | {"clips.rescore"} == set(workers.tasks.JOBS)
    for job_name in workers.tasks.JOBS:
        assert jobs.task_key(job_name) in registered, job_name
    assert set(STAGES) == set(StageName)
    for spec in PIPELINE:  # what a stage runs after is declared before it: the order is a real one
        assert all(PIPELINE.index(STAGES[before]) < PIPELINE.index(spec) for before in spec.after)


def test_every_job_the_web_can_send_is_registered_where_the_map_says():
    import importlib

    for module_name in set(jobs.JOB_MODULES.values()):
        module = importlib.import_module(module_name)
        registered = module.huey._registry._registry
        for job_name in module.JOBS:
            assert jobs.task_module(job_name) == module_name, job_name
            assert jobs.task_key(job_name) in registered, job_name


def _stages(clip_id: int) -> dict[StageName, Stage]:
    with session_scope() as session:
        return {s.name: s for s in session.exec(select(Stage).where(Stage.clip_id == clip_id))}


def test_the_sweep_sends_a_lost_stage_job_once_and_only_when_it_is_due(app_client, fixtures, tmp_path, empty_queue):
    clip_id = upload(app_client, fresh_copy(fixtures / "silent.mkv", tmp_path, "sweep")).json()["id"]
    probe = ("clip.probe", (clip_id,))
    assert probe in jobs.queued_jobs(), "the upload sent the probe after its commit"
    with session_scope() as session:
        assert probe not in waiting_for_a_job(session, utcnow() - timedelta(hours=1)), "too recent to count as lost"
        due = [job for job in waiting_for_a_job(session, utcnow() + timedelta(seconds=1)) if job[1] == (clip_id,)]
    assert due == [probe], "only the probe waits for no other stage"
    assert jobs.send_missing(due) == [], "its job is in the queue"

    jobs.get_huey().storage.flush_queue()  # the queue is wiped
    assert probe not in jobs.queued_jobs()
    assert jobs.send_missing(due) == [probe]
    assert probe in jobs.queued_jobs()
    assert jobs.send_missing(due) == [], "sent once: now it is in the queue"


def test_finishing_a_stage_sends_the_stages_that_run_after_it(app_client, fixtures, tmp_path, empty_queue):
    clip_id = upload(app_client, fresh_copy(fixtures / "silent.mkv", tmp_path, "after")).json()["id"]
    jobs.get_huey().storage.flush_queue()
    with session_scope() as session:
        assert take_lease(session, clip_id, StageName.PROBE, "test-worker", 60)
    with session_scope() as session:
        assert finish(session, clip_id, StageName.PROBE, "test-worker")
    sent = [job for job in jobs.queued_jobs() if job[1] == (clip_id,)]
    assert sorted(sent) == sorted((spec.job, (clip_id,)) for spec in PIPELINE if spec.after == (StageName.PROBE,))
    assert _stages(clip_id)[StageName.RECOGNIZE].state == StageState.QUEUED
    with session_scope() as session:  # recognize waits for the transcript: no job is due for it
        due = waiting_for_a_job(session, utcnow() + timedelta(seconds=1))
    assert ("clip.recognize", (clip_id,)) not in due
    assert {("clip.transcript", (clip_id,)), ("clip.proxy", (clip_id,))} <= set(due)


def test_a_clip_whose_queue_was_wiped_is_swept_up_by_the_worker_and_finishes(fixtures, tmp_path):
    """`bestpart ingest` queues the probe; the queue is then lost; a real worker's reconciler finds
    the queued stage without a job, sends it again, and the clip goes all the way to ready."""
    env = {**backend_env("sqlite", tmp_path / "data"), "BESTPART_STAGE_LEASE_SECONDS": "2"}
    ingest = bestpart(
        "ingest",
        str(fixtures / "silent.mkv"),
        "--badge",
        "77",
        "--category",
        "life-saving",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert ingest.wait(timeout=120) == 0, ingest.stdout.read()
    db = tmp_path / "data" / "bestpart.db"
    queue = tmp_path / "data" / "queue.db"
    with sqlite3.connect(queue) as conn:
        assert conn.execute("SELECT count(*) FROM task").fetchone()[0] == 1, "the probe is queued"
    for suffix in ("", "-wal", "-shm"):  # the queue is wiped
        (tmp_path / "data" / f"queue.db{suffix}").unlink(missing_ok=True)

    def status():
        with sqlite3.connect(db, timeout=30) as conn:
            return conn.execute("SELECT status, reason FROM clips").fetchone()

    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        worker = bestpart("worker", env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: status()[0] != "processing", 180, f"the clip never left processing; see {log}")
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    assert status() == ("ready", None), log.read_text()
    said = log.read_text()
    assert "clip.probe(1,) was queued in the database but not in the queue: sent again" in said
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT DISTINCT state FROM stages").fetchall() == [("done",)]
        assert conn.execute("SELECT attempts FROM stages WHERE name = 'probe'").fetchone() == (1,)
    assert os.path.exists(queue)
