"""Uploads at the same moment: none is lost, none is recorded twice, overload is a 503 to retry."""

import hashlib
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from api.clips import ingest, service
from api.clips.models import Clip
from api.db import session_scope
from tests.accounts import fresh_copy
from tests.services import backend_env, running_service, upload, upload_retrying

# More at once than the server has threads (40): 40 uploads alone did not always trip the old
# lock-for-every-session code on this machine; 60 did, every time (HTTP 500, clips lost).
UPLOADS = 60


def read_queue_until(client: httpx.Client, done: threading.Event) -> list[int]:
    """The review team's page, read back to back meanwhile (as it was when uploads were lost)."""
    statuses = []
    while not done.is_set() and len(statuses) < 2000:
        statuses.append(client.get("/api/v1/review/queue").status_code)
    return statuses


def test_concurrent_uploads_all_land_exactly_once(fixtures, tmp_path):
    clips = [fresh_copy(fixtures / "silent.mkv", tmp_path, f"concurrent-{n}") for n in range(UPLOADS)]
    with running_service(backend_env("sqlite", tmp_path / "data"), tmp_path / "serve.log") as admin:
        done = threading.Event()
        with (
            httpx.Client(
                base_url=admin.base_url,
                headers=admin.headers,
                timeout=120,
                limits=httpx.Limits(max_connections=UPLOADS),
            ) as client,
            ThreadPoolExecutor(UPLOADS + 1) as pool,
        ):
            reads = pool.submit(read_queue_until, client, done)
            answers = list(pool.map(lambda clip: upload_retrying(client, clip), clips))
            done.set()
        listed = [clip["sha256"] for clip in admin.get("/api/v1/clips", params={"limit": 500}).json()]
    finals = [responses[-1].status_code for responses in answers]
    assert finals == [201] * UPLOADS, [[r.status_code for r in responses] for responses in answers]
    for responses in answers:  # only a busy server's 503 comes before the answer
        assert {r.status_code for r in responses[:-1]} <= {503}
    assert sorted(listed) == sorted(hashlib.sha256(clip.read_bytes()).hexdigest() for clip in clips)
    assert set(reads.result()) <= {200, 503}, "the queue answers, or says it is busy"


def test_a_busy_database_answers_503_keeps_nothing_and_a_retry_lands(app_client, fixtures, tmp_path, monkeypatch):
    source = fresh_copy(fixtures / "silent.mkv", tmp_path, "busy")
    sha256 = hashlib.sha256(source.read_bytes()).hexdigest()
    temp_before = {p for p in service.get_store().tmp_dir.rglob("*") if p.is_file()}
    store_clip = ingest.store_clip

    def locked(*args, **kwargs):
        raise OperationalError("INSERT INTO clip ...", {}, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(ingest, "store_clip", locked)
    busy = upload(app_client, source)
    assert busy.status_code == 503, busy.text
    assert busy.headers["retry-after"].isdigit() and "busy" in busy.json()["detail"]
    assert {p for p in service.get_store().tmp_dir.rglob("*") if p.is_file()} == temp_before, "the temp file is removed"
    with session_scope() as session:
        assert session.exec(select(Clip).where(Clip.sha256 == sha256)).first() is None

    monkeypatch.setattr(ingest, "store_clip", store_clip)
    again = upload(app_client, source)
    assert again.status_code == 201 and again.json()["sha256"] == sha256


def test_a_database_fault_that_is_not_overload_stays_a_500(app, fixtures, tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from tests.accounts import bearer, make_user

    _, token = make_user(roles=["admin"], badge="4711")

    def broken(*args, **kwargs):
        raise OperationalError("INSERT INTO clip ...", {}, sqlite3.OperationalError("disk I/O error"))

    monkeypatch.setattr(ingest, "store_clip", broken)
    with TestClient(app, headers=bearer(token), raise_server_exceptions=False) as client:
        response = upload(client, fresh_copy(fixtures / "silent.mkv", tmp_path, "fault"))
    assert response.status_code == 500
