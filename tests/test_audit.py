"""The audit trail: chained, append-only in the database, and tampering is found."""

import sqlite3
import subprocess
import sys

import pytest

from api.audit.service import verify
from api.db import session_scope
from tests.services import backend_env, bestpart


def run(*args, env):
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def audited(tmp_path):
    """A fresh database with a few audit records made through the real CLI."""
    env = backend_env("sqlite", tmp_path / "data")
    for name in ("ann", "bob", "cat"):
        add = bestpart(
            "users",
            "add",
            name,
            "--role",
            "reviewer",
            "--password-stdin",
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        add.communicate("a long enough password\n", timeout=60)
    return env, tmp_path / "data" / "bestpart.db"


def test_intact_log_verifies(audited):
    env, _ = audited
    result = run("audit", "verify", env=env)
    assert result.returncode == 0 and "intact" in result.stdout


@pytest.mark.parametrize(
    "statement, refusal",
    [
        ("UPDATE audit_events SET actor = 'mallory'", "append-only"),
        ("DELETE FROM audit_events", "append-only"),
        ("UPDATE audit_head SET seq = seq - 1", "only moves forward"),
        ("DELETE FROM audit_head", "only moves forward"),
    ],
)
def test_the_database_refuses_updates_and_deletes(audited, statement, refusal):
    _, db = audited
    with sqlite3.connect(db) as conn, pytest.raises(sqlite3.IntegrityError, match=refusal):
        conn.execute(statement)


@pytest.mark.parametrize(
    "tamper, finding",
    [
        ('UPDATE audit_events SET details = \'{"username": "mallory"}\' WHERE seq = 2', "record 2 was altered"),
        ("UPDATE audit_events SET at = '2020-01-01 00:00:00.000000' WHERE seq = 1", "record 1 was altered"),
        ("DELETE FROM audit_events WHERE seq = 2", "records 2..2 are missing"),
        ("DELETE FROM audit_events WHERE seq = 3", "ends at 2"),
    ],
)
def test_edited_or_deleted_records_are_detected(audited, tamper, finding):
    env, db = audited
    with sqlite3.connect(db) as conn:  # someone with the database file and the will to drop triggers
        conn.execute("DROP TRIGGER audit_events_no_update")
        conn.execute("DROP TRIGGER audit_events_no_delete")
        conn.execute(tamper)
    result = run("audit", "verify", env=env)
    assert result.returncode == 1 and finding in result.stdout, result.stdout


def test_a_cut_off_tail_with_the_head_wound_back_is_found_by_the_anchor(audited):
    env, db = audited
    first = run("audit", "verify", env=env)
    anchor = first.stdout.split("head: ")[1].split()[0]
    newest = int(anchor.split(":")[0])
    assert newest >= 3  # three users were added
    with sqlite3.connect(db) as conn:  # triggers dropped: the whole tail and the head rewritten
        for trigger in ("audit_events_no_delete", "audit_head_forward_only"):
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute("DELETE FROM audit_events WHERE seq >= 3")
        conn.execute("UPDATE audit_head SET seq = 2, last_hash = (SELECT hash FROM audit_events WHERE seq = 2)")
    assert run("audit", "verify", env=env).returncode == 0  # the chain alone cannot tell
    result = run("audit", "verify", "--anchor", anchor, env=env)
    assert result.returncode == 1 and f"before record {newest} that an earlier check saw" in result.stdout, (
        result.stdout
    )
    assert run("audit", "verify", "--anchor", "4:nonsense", env=env).returncode == 2


def test_in_process_log_stays_intact_through_the_suite(app_client):
    app_client.get("/api/v1/clips")
    with session_scope() as session:
        assert verify(session) == []


def test_admins_list_filter_and_export_the_log(app_client, anonymous):
    events = app_client.get("/api/v1/audit", params={"action": "user.create"}).json()
    assert events and all(e["action"] == "user.create" for e in events)
    assert all(len(e["hash"]) == 64 for e in events)
    exported = app_client.get("/api/v1/audit/export.csv", params={"action": "user.create"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    lines = exported.text.strip().splitlines()
    assert lines[0].startswith("seq,at,actor,action") and len(lines) == len(events) + 1
    assert app_client.get("/api/v1/audit/verify").json()["intact"] is True
    assert anonymous.get("/api/v1/audit").status_code == 401
