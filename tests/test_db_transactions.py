"""SQLite transactions: reads never take or wait for the write lock; writes take it before writing."""

import sqlite3
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session

from api.db import LOCK_FIRST, is_busy, retry_when_busy, sqlite_engine


@pytest.fixture
def engine(tmp_path):
    engine = sqlite_engine(f"sqlite:///{tmp_path / 'probe.db'}")
    with Session(engine) as session:
        session.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        session.execute(text("INSERT INTO counter VALUES (1, 0)"))
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def other_writer(tmp_path, engine):
    """Another process's connection, as plain sqlite3 (a worker, `bestpart ingest`)."""
    connection = sqlite3.connect(tmp_path / "probe.db", isolation_level=None, timeout=0)
    yield connection
    connection.close()


def count(session: Session) -> int:
    return session.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one()


def test_a_read_goes_on_while_another_connection_holds_the_write_lock(engine, other_writer):
    other_writer.execute("BEGIN IMMEDIATE")
    other_writer.execute("UPDATE counter SET n = 99")
    with Session(engine) as session:
        assert count(session) == 0  # the last committed value; it took no lock, so it waited for none
        session.commit()
    other_writer.execute("COMMIT")


def test_a_read_transaction_leaves_the_write_lock_free(engine, other_writer):
    with Session(engine) as session:
        count(session)
        other_writer.execute("BEGIN IMMEDIATE")  # timeout=0: raises at once if the reader held it
        other_writer.execute("ROLLBACK")


def test_a_transaction_that_read_and_then_writes_is_not_refused_when_another_wrote_between(engine, other_writer):
    # A plain deferred transaction would fail its UPDATE at once (SQLITE_BUSY_SNAPSHOT).
    with Session(engine) as session:
        assert count(session) == 0
        other_writer.execute("UPDATE counter SET n = n + 1")  # committed after our snapshot began
        session.execute(text("UPDATE counter SET n = n + 10"))
        assert count(session) == 11, "the write lands on the newest data, not the stale snapshot"
        session.commit()


def test_a_writer_waits_for_the_lock_and_then_writes(engine, other_writer):
    other_writer.execute("BEGIN IMMEDIATE")
    other_writer.execute("UPDATE counter SET n = n + 1")
    waiting = threading.Event()

    def write():
        with Session(engine) as session:
            count(session)
            waiting.set()
            session.execute(text("UPDATE counter SET n = n + 10"))  # waits under busy_timeout
            session.commit()

    writer = threading.Thread(target=write)
    writer.start()
    waiting.wait(10)
    other_writer.execute("COMMIT")
    writer.join(30)
    with Session(engine) as session:
        assert count(session) == 11


def test_a_savepoint_takes_the_write_lock_first(engine, other_writer):
    with Session(engine) as session:
        count(session)
        with session.begin_nested():
            session.execute(text("UPDATE counter SET n = 5"))
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other_writer.execute("BEGIN IMMEDIATE")  # we hold it until commit
        session.commit()
        assert count(session) == 5


def test_lock_first_takes_the_write_lock_at_the_first_read(engine, other_writer):
    with engine.connect().execution_options(**{LOCK_FIRST: True}) as connection:
        connection.execute(text("SELECT n FROM counter"))
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other_writer.execute("BEGIN IMMEDIATE")
        connection.rollback()


def locked() -> OperationalError:
    return OperationalError("UPDATE ...", {}, sqlite3.OperationalError("database is locked"))


def test_overload_is_told_from_faults():
    assert is_busy(locked()) and is_busy(PoolTimeout("QueuePool limit of size 10 overflow 70 reached"))
    assert not is_busy(OperationalError("SELECT ...", {}, sqlite3.OperationalError("no such table: clip")))


def test_retry_when_busy_tries_again_and_gives_up_on_a_fault():
    tries = []

    def flaky():
        tries.append(1)
        if len(tries) < 3:
            raise locked()
        return "done"

    assert retry_when_busy(flaky, pause=0) == "done" and len(tries) == 3
    always = []

    def stuck():
        always.append(1)
        raise locked()

    with pytest.raises(OperationalError, match="locked"):
        retry_when_busy(stuck, tries=2, pause=0)
    assert len(always) == 2
    faults = []

    def broken():
        faults.append(1)
        raise OperationalError("SELECT ...", {}, sqlite3.OperationalError("disk I/O error"))

    with pytest.raises(OperationalError, match="disk"):
        retry_when_busy(broken, pause=0)
    assert len(faults) == 1, "a fault is not retried"
