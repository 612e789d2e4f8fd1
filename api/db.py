"""Engine and sessions. The request (or the task) owns the transaction; jobs go out after commit."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Annotated

from fastapi import Depends
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from api.config import get_settings

AFTER_COMMIT_JOBS = "after_commit_jobs"


@lru_cache
def get_engine() -> Engine:
    url = get_settings().resolved_database_url
    if url.startswith("sqlite"):
        get_settings().data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _begin_immediate(connection) -> None:
    """Take SQLite's write lock up front. A transaction that reads and then writes would otherwise
    fail at once (SQLITE_BUSY, no retry) when another process committed in between; taking the lock
    first makes it wait its turn under busy_timeout instead. Transactions here are short."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def enqueue_after_commit(session: Session, job_name: str, *args) -> None:
    """Send a job once the session commits, so a worker never sees uncommitted rows."""
    session.info.setdefault(AFTER_COMMIT_JOBS, []).append((job_name, args))


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work: commit on success, roll back on error, then send queued jobs."""
    from workers.queue import enqueue

    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        jobs = session.info.pop(AFTER_COMMIT_JOBS, [])
    for job_name, args in jobs:
        enqueue(job_name, *args)


def get_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


# scope="function": commit before the response is sent, so a 201 means the row is there.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
