"""The `bestpart` command as a user runs it: ingest, import, --help, serve's worker lifecycle."""

import os
import re
import signal
import socket
import sqlite3
import subprocess

import pytest

from tests.services import backend_env, bestpart, serve_process, wait_until


def run(*args: str, env: dict) -> subprocess.CompletedProcess:
    proc = bestpart(*args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


@pytest.fixture
def env(tmp_path):
    return backend_env("sqlite", tmp_path / "data")


def clips(env) -> list[tuple]:
    db = os.path.join(env["BESTPART_DATA_DIR"], "bestpart.db")
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT evidence_id, badge_number, division FROM clips ORDER BY id").fetchall()


def test_help_lists_every_command(env):
    out = run("--help", env=env).stdout
    for command in ("serve", "worker", "migrate", "ingest", "import"):
        assert command in out


def test_ingest_reports_each_file_and_fails_when_any_failed(env, fixtures, tmp_path):
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video at all")
    result = run(
        "ingest",
        str(fixtures / "silent.mkv"),
        str(notes),
        str(tmp_path / "missing.mp4"),
        "--badge",
        "4711",
        "--category",
        "community-engagement",
        "--evidence-id",
        "EV-9",
        env=env,
    )
    assert result.returncode == 1
    assert "silent.mkv: clip 1" in result.stdout
    assert "1 added, 0 already present, 2 failed" in result.stdout
    assert "notes.mp4: the file is text, not a video" in result.stderr
    assert "missing.mp4: no such file" in result.stderr
    assert clips(env) == [("EV-9", "4711", None)]

    again = run("ingest", str(fixtures / "silent.mkv"), "--badge", "4711", "--category", "life-saving", env=env)
    assert again.returncode == 0 and "already here as clip 1" in again.stdout


def test_ingest_counts_an_oversize_file_as_a_failure_and_records_it(env, fixtures):
    env = {**env, "BESTPART_MAX_UPLOAD_BYTES": "1000"}
    result = run("ingest", str(fixtures / "silent.mkv"), "--badge", "4711", "--category", "life-saving", env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "silent.mkv: the file is larger than the 1000 bytes accepted" in result.stderr
    assert "0 added, 0 already present, 1 failed" in result.stdout
    db = os.path.join(env["BESTPART_DATA_DIR"], "bestpart.db")
    with sqlite3.connect(db) as conn:
        refused = conn.execute("SELECT badge_number, reason FROM rejected_uploads").fetchall()
    assert refused == [("4711", "the file is larger than the 1000 bytes accepted")]
    assert clips(env) == []


def test_ingest_refuses_a_bad_category(env, fixtures):
    result = run("ingest", str(fixtures / "silent.mkv"), "--badge", "1", "--category", "bravery", env=env)
    assert result.returncode == 1 and "categories" in result.stderr
    assert clips(env) == []


def test_import_reads_an_evidence_export_folder(env, fixtures, tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    for name in ("speech.mp4", "mjpeg_pcm.avi"):
        (export / name).write_bytes((fixtures / name).read_bytes())
    (export / "manifest.csv").write_text(
        "file,evidence_id,badge_number,recorded_at,categories,incident_number,division,note\n"
        'speech.mp4,EV-1,101,2026-10-01T08:00:00Z,"de-escalation,life-saving",I-1,North,calm\n'
        "mjpeg_pcm.avi,EV-2,102,,community-engagement,,South,\n"
        "gone.mp4,EV-3,103,,de-escalation,,,\n"
        "../../etc/passwd,EV-4,104,,de-escalation,,,\n"
        "speech.mp4,EV-5,,,de-escalation,,,\n"
    )
    result = run("import", str(export / "manifest.csv"), env=env)
    assert result.returncode == 1
    assert "2 added, 0 already present, 3 failed" in result.stdout
    assert "gone.mp4: no such file" in result.stderr
    assert "not a file inside the export folder" in result.stderr
    assert "badge_number" in result.stderr  # the last row has no badge
    assert clips(env) == [("EV-1", "101", "North"), ("EV-2", "102", "South")]
    # The run is recorded as the watched folder's are, for /admin/imports: each row's outcome too.
    assert imports(env) == [("cli", "done", 5, 2, 0, 3)]
    db = os.path.join(env["BESTPART_DATA_DIR"], "bestpart.db")
    with sqlite3.connect(db) as conn:
        outcomes = conn.execute("SELECT file, outcome, reason FROM manifest_import_rows ORDER BY row_number").fetchall()
    assert outcomes[:4] == [
        ("speech.mp4", "accepted", None),
        ("mjpeg_pcm.avi", "accepted", None),
        ("gone.mp4", "refused", "no such file"),
        ("../../etc/passwd", "refused", "not a file inside the export folder"),
    ]

    again = run("import", str(export / "manifest.csv"), env=env)  # a one-shot run is run again when asked
    assert "0 added, 2 already present, 3 failed" in again.stdout
    assert imports(env)[1] == ("cli", "done", 5, 0, 2, 3)


def test_import_of_an_unreadable_manifest_says_why(env, tmp_path):
    bad = tmp_path / "manifest.csv"
    bad.write_text("name,size\nx,1\n")
    result = run("import", str(bad), env=env)
    assert result.returncode == 2 and "'file' column" in result.stderr
    assert imports(env) == [("cli", "failed", 0, 0, 0, 0)]


def test_import_watch_takes_each_manifest_dropped_into_the_folder(env, fixtures, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    log_path = tmp_path / "watch.log"
    with open(log_path, "wb") as log:
        watch = bestpart(
            "import",
            "--watch",
            str(drop),
            env={**env, "BESTPART_IMPORT_WATCH_SETTLE_SECONDS": "0.5"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            (drop / "speech.mp4").write_bytes((fixtures / "speech.mp4").read_bytes())
            (drop / "day.csv").write_text("file,evidence_id,badge_number,categories\nspeech.mp4,EV-W,101,life-saving\n")
            wait_until(lambda: (drop / "imported" / "1-day" / "day.csv").exists(), 60, f"not imported; see {log_path}")
            assert imports(env) == [("watch", "done", 1, 1, 0, 0)]
            assert clips(env) == [("EV-W", "101", None)]
            watch.send_signal(signal.SIGTERM)
            assert watch.wait(timeout=30) == 0
        finally:
            if watch.poll() is None:
                watch.kill()
    assert "watching" in log_path.read_text()


def test_import_needs_a_manifest_or_a_folder_to_watch(env, tmp_path):
    assert run("import", env=env).returncode == 2
    both = run("import", str(tmp_path / "m.csv"), "--watch", str(tmp_path), env=env)
    assert both.returncode == 2 and "not allowed with" in both.stderr


def imports(env) -> list[tuple]:
    db = os.path.join(env["BESTPART_DATA_DIR"], "bestpart.db")
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT source, status, rows, accepted, duplicates, refused FROM manifest_imports ORDER BY id"
        ).fetchall()


def _worker_pids(serve_pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(serve_pid)], capture_output=True, text=True)
    return [int(pid) for pid in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_serve_takes_its_worker_down_with_it(env, tmp_path, how):
    with serve_process(env, tmp_path / "serve.log") as (serve, _):
        workers = wait_until(lambda: _worker_pids(serve.pid), 30, "serve started no worker")
        serve.send_signal(how)
        wait_until(lambda: not any(_alive(pid) for pid in workers), 30, "the worker outlived serve")


def test_first_serve_creates_an_admin_with_a_one_time_password(env, tmp_path):
    log = tmp_path / "serve.log"
    with serve_process(env, log, with_worker=False, provision=False) as (_, client):
        match = wait_until(lambda: re.search(r"admin / (\S+)", log.read_text()), 10, "no password printed")
        said = log.read_text()
        assert said.index("Uvicorn running") < said.index("admin /"), "the password comes after the start-up lines"
        assert f"Sign in at http://127.0.0.1:{client.base_url.port}" in said
        signed_in = client.post("/api/v1/auth/login", json={"username": "admin", "password": match.group(1)})
        assert signed_in.status_code == 200 and signed_in.json()["user"]["must_change_password"] is True
        headers = {"Authorization": f"Bearer {signed_in.json()['token']}"}
        assert "one-time password" in client.get("/api/v1/clips", headers=headers).json()["detail"]
    with serve_process(env, tmp_path / "again.log", with_worker=False, provision=False):
        assert "admin /" not in (tmp_path / "again.log").read_text(), "only on an empty database"


def add_lee(env, password: str) -> subprocess.CompletedProcess:
    """`bestpart users add lee …` with the password on standard input, as an operator types it."""
    add = bestpart(
        *("users", "add", "lee", "--role", "reviewer", "--role", "trainer", "--password-stdin"),
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = add.communicate(password + "\n", timeout=60)
    return subprocess.CompletedProcess(add.args, add.returncode, out, err)


def test_users_tokens_and_audit_commands(env):
    refused = add_lee(env, "too short")
    assert refused.returncode == 1 and "at least 12" in refused.stderr
    add = add_lee(env, "a sufficiently long one")
    assert add.returncode == 0 and "created lee (reviewer, trainer)" in add.stdout
    personal = run("tokens", "create", "laptop", "--user", "lee", env=env)
    service_token = run("tokens", "create", "evidence-system", "--scope", "ingest", env=env)
    for result in (personal, service_token):
        assert result.returncode == 0 and result.stdout.strip().splitlines()[-1].startswith("bp_")
    assert run("tokens", "create", "x", "--scope", "everything", env=env).returncode == 1
    assert run("users", "unlock", "nobody", env=env).returncode == 1
    expiring = run("tokens", "create", "for-a-month", "--user", "lee", "--expires-in-days", "30", env=env)
    assert expiring.returncode == 0
    reset = run("users", "reset", "lee", env=env)
    assert reset.returncode == 0 and re.search(r"^/reset\?code=\S{20,}$", reset.stdout, re.M)
    assert run("users", "reset", "nobody", env=env).returncode == 1
    db = os.path.join(env["BESTPART_DATA_DIR"], "bestpart.db")
    with sqlite3.connect(db) as conn:  # an admin chose lee's password: lee must change it first
        assert conn.execute("SELECT must_change_password FROM users WHERE username = 'lee'").fetchone() == (1,)
        assert conn.execute("SELECT expires_at IS NOT NULL FROM api_tokens WHERE name = 'for-a-month'").fetchone() == (
            1,
        )
    verify = run("audit", "verify", env=env)
    assert verify.returncode == 0 and "intact" in verify.stdout


def test_serve_on_a_taken_port_says_so_and_names_the_option(env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = run("serve", "--port", port, "--no-worker", env=env)
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr
