"""Real processes for the tests: `bestpart serve` on a free port, `bestpart worker`, backends."""

import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

POSTGRES_URL = os.environ.get("BESTPART_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BESTPART_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
SERVICES_REQUIRED = os.environ.get("BESTPART_REQUIRE_SERVICES") == "1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def backend_env(backend: str, data_dir: Path) -> dict:
    """Environment for one backend; skips (or fails on CI) when its servers are unreachable."""
    env = {**os.environ, "BESTPART_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    env.pop("BESTPART_DATABASE_URL", None)
    env.pop("BESTPART_QUEUE_URL", None)
    if backend == "postgres+redis":
        env["BESTPART_DATABASE_URL"] = fresh_postgres_database()
        env["BESTPART_QUEUE_URL"] = fresh_redis_queue()
    return env


def _unavailable(what: str, exc: Exception):
    message = f"{what} is not reachable ({exc}); its backend tests are skipped"
    if SERVICES_REQUIRED:
        pytest.fail(message + " — but BESTPART_REQUIRE_SERVICES=1 says it must be here")
    pytest.skip(message)


def fresh_postgres_database() -> str:
    """A new, empty database on the test server, so every run starts clean."""
    import sqlalchemy as sa

    name = f"bestpart_{uuid.uuid4().hex[:10]}"
    try:
        engine = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001  any failure to connect means "not here"
        _unavailable("PostgreSQL at " + POSTGRES_URL, exc)
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + name


def fresh_redis_queue() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).flushdb()
    except Exception as exc:  # noqa: BLE001
        _unavailable("Redis at " + REDIS_URL, exc)
    return REDIS_URL


def bestpart(*args: str, env: dict, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "api.cli", *args], env=env, **kwargs)


TESTER_PASSWORD = "a-long-test-password-41"


def provision_token(env: dict, username: str = "tester", roles=("admin", "reviewer"), badge: str = "4711") -> str:
    """A user made with the real CLI, and a personal API token for it."""
    args = ["users", "add", username, "--badge", badge, "--password-stdin", "--own-password"]
    for role in roles:
        args += ["--role", role]
    add = bestpart(*args, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = add.communicate(TESTER_PASSWORD + "\n", timeout=60)
    assert add.returncode == 0, out
    create = subprocess.run(
        [sys.executable, "-m", "api.cli", "tokens", "create", f"{username}-token", "--user", username],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert create.returncode == 0, create.stderr
    return create.stdout.strip().splitlines()[-1]


@contextmanager
def running_service(env: dict, log_path: Path, with_worker: bool = True):
    """`bestpart serve` on a free port; yields an httpx client for it."""
    with serve_process(env, log_path, with_worker) as (_, client):
        yield client


@contextmanager
def serve_process(env: dict, log_path: Path, with_worker: bool = True, provision: bool = True):
    """`bestpart serve` on a free port; yields its process and an httpx client (signed in as an admin)."""
    token = provision_token(env) if provision else ""
    port = free_port()
    args = ["serve", "--port", str(port)] + ([] if with_worker else ["--no-worker"])
    with open(log_path, "wb") as log:
        proc = bestpart(*args, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            client = httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                timeout=30,
                headers={"Authorization": f"Bearer {token}"} if token else {},
            )
            wait_until(lambda: _answers(client), 60, f"bestpart serve did not start; see {log_path}")
            yield proc, client
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _answers(client: httpx.Client) -> bool:
    try:
        return client.get("/api/v1/health").status_code == 200
    except httpx.TransportError:
        return False


def wait_until(condition, timeout: float, message: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message)


def wait_settled(client: httpx.Client, clip_id: int, timeout: float = 120) -> dict:
    """Poll a clip until it is no longer processing."""

    def settled():
        clip = client.get(f"/api/v1/clips/{clip_id}").json()
        return clip if clip["status"] != "processing" else None

    return wait_until(settled, timeout, f"clip {clip_id} still processing after {timeout} s", 0.2)


def upload(client, path: Path, **fields) -> httpx.Response:
    data = {"badge_number": "4711", "categories": "de-escalation", **fields}
    with open(path, "rb") as f:
        return client.post("/api/v1/clips", data=data, files={"file": (path.name, f, "video/mp4")})


def upload_retrying(client, path: Path, tries: int = 8, **fields) -> list[httpx.Response]:
    """upload(), sent again while the server answers 503 (busy), after its Retry-After and a
    growing pause, as bestpart's own clients do. Every response in order; the last is the answer."""
    responses = []
    for attempt in range(tries):
        responses.append(upload(client, path, **fields))
        if responses[-1].status_code != 503 or attempt == tries - 1:
            break
        time.sleep(min(float(responses[-1].headers.get("retry-after", "1")), 10) * (1 + attempt / 4))
    return responses
