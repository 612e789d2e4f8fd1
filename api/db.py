"""Engine and sessions. The request (or the task) owns the transaction; jobs go out after commit
(api.core.jobs: by name, so the web process never imports the worker's task modules)."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Annotated, TypeVar

from fastapi import Depends
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session, create_engine

from api.config import get_settings
from api.core import jobs
from api.core.errors import ServiceError
from api.core.jobs import enqueue_after_commit

__all__ = ["enqueue_after_commit"]  # kept here for the callers that import it from api.db
T = TypeVar("T")

# Starlette runs sync routes and dependencies on AnyIO's thread pool (40 threads by default): a
# connection kept for each, so that a busy server does not open and close one per request (a new
# PostgreSQL connection is a new server process: 0.1-0.8 s each under load, measured), and some
# more for requests holding theirs while they wait for a thread. SQLite's connections are only
# file handles; PostgreSQL's default of 100 must leave room for the workers. A request that finds
# none free within pool_timeout is answered 503 (DatabaseBusy) rather than held on to.
THREADS = 40
SQLITE_POOL = {"pool_size": THREADS, "max_overflow": THREADS, "pool_timeout": 10}
SERVER_POOL = {"pool_size": THREADS, "max_overflow": 10, "pool_timeout": 10}
BUSY_TIMEOUT_SECONDS = 30
RETRY_AFTER_SECONDS = 2
_TXN = "bestpart_sqlite_transaction"  # connection.info: None, "pending", "read" or "write"
# An execution option for work whose reads must not go stale before it writes, such as a
# migration that reads the schema version (`engine.connect().execution_options(**{LOCK_FIRST:
# True})`): its transaction takes the write lock at its first statement.
LOCK_FIRST = "bestpart_lock_first"


@lru_cache
def get_engine() -> Engine:
    url = get_settings().resolved_database_url
    if url.startswith("sqlite"):
        get_settings().data_dir.mkdir(parents=True, exist_ok=True)
        return sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True, **SERVER_POOL)


def sqlite_engine(url: str) -> Engine:
    """SQLite in WAL, its transactions taking the write lock only to write (below)."""
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_SECONDS}, **SQLITE_POOL
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _begin_at_first_statement)
    event.listen(engine, "before_cursor_execute", _lock_before_first_write)
    for ended in ("commit", "rollback"):
        event.listen(engine, ended, _transaction_ended)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.close()


# SQLite has one writer at a time. A transaction that only reads must not take the write lock:
# under WAL it reads its snapshot while writers go on, and waits for nobody. A transaction that
# writes must take the lock *before* its first write with BEGIN IMMEDIATE, which waits its turn
# under busy_timeout: a deferred transaction that has read and then writes is refused at once
# (SQLITE_BUSY, no wait) whenever another connection holds the lock or committed since its
# snapshot. So each transaction begins at its first statement, as that statement needs; one that
# read first and then writes is begun again as IMMEDIATE (it has written nothing, so nothing is
# lost). Its later statements then see the newest data, and what it read before is as fresh as
# under PostgreSQL's READ COMMITTED, which the code runs under there: writes that depend on a
# read re-check it (UPDATE ... WHERE, unique constraints, the audit head's UPDATE first).


def _begin_at_first_statement(connection) -> None:
    connection.info[_TXN] = "pending"


def _transaction_ended(connection) -> None:
    connection.info[_TXN] = None


def _lock_before_first_write(connection, _cursor, statement, _parameters, _context, _executemany) -> None:
    state = connection.info.get(_TXN)
    reads = _only_reads(statement) and not connection.get_execution_options().get(LOCK_FIRST)
    if state is None or state == "write" or (state == "read" and reads):
        return
    raw = connection.connection.dbapi_connection
    if state == "read":
        raw.execute("ROLLBACK")
    raw.execute("BEGIN" if reads else "BEGIN IMMEDIATE")
    connection.info[_TXN] = "read" if reads else "write"


def _only_reads(statement: str) -> bool:
    """SELECT, EXPLAIN and a PRAGMA that sets nothing; anything else (SAVEPOINT included) may write."""
    head = statement.lstrip()[:8].upper()
    return head.startswith(("SELECT", "EXPLAIN")) or (head.startswith("PRAGMA") and "=" not in statement)


class DatabaseBusy(ServiceError):
    """The database could not take this request in time (write lock or connection pool): 503, and
    the client should send it again after Retry-After. Nothing of it was kept."""

    def __init__(self):
        super().__init__(
            503,
            f"the database is busy right now and nothing was saved: send the request again "
            f"after {RETRY_AFTER_SECONDS} s (an upload sent again is recognised by its bytes)",
        )
        self.headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}


BUSY_MESSAGES = (
    "database is locked",
    "database table is locked",
    "database is busy",
    "too many clients",
    "remaining connection slots",
)


def is_busy(exc: BaseException) -> bool:
    """Overload rather than a fault: SQLite's lock not free within busy_timeout, no pooled
    connection free within pool_timeout, or PostgreSQL out of connection slots."""
    if isinstance(exc, PoolTimeout):
        return True
    return isinstance(exc, OperationalError) and any(m in str(exc.orig).lower() for m in BUSY_MESSAGES)


def retry_when_busy(work: Callable[[], T], tries: int = 6, pause: float = 0.5) -> T:
    """Run a unit of work (its own session_scope) again, after a doubling pause, while the database
    is busy; re-raise once the tries are spent. For callers without HTTP's 503 and Retry-After."""
    for attempt in range(tries - 1):
        try:
            return work()
        except (OperationalError, PoolTimeout) as exc:
            if not is_busy(exc):
                raise
        time.sleep(pause * 2**attempt)
    return work()


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work: commit on success, roll back on error, then send the jobs its committed
    transactions asked for (a request may commit more than once; a rolled-back one sends none)."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            jobs.send(jobs.take_committed(session))  # committed earlier in the request: still sent
            raise
        committed = jobs.take_committed(session)
    jobs.send(committed)


def get_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


# scope="function": commit before the response is sent, so a 201 means the row is there.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
