"""Backup and restore through the real `bestpart serve` on SQLite: a clip backed up while the
service runs comes back, byte for byte, on a service started on the restored data dir."""

import hashlib
import shutil
import subprocess
import sys
from contextlib import contextmanager

import pytest
from sqlmodel import Session, create_engine

from api.backup import MANIFEST, BackupError, Manifest, RestoreError, backup, restore
from api.clips.storage import Store
from api.config import Settings
from api.fixity.service import check
from tests.services import (
    backend_env,
    fresh_postgres_database,
    provision_token,
    running_service,
    serve_process,
    upload,
    wait_settled,
)


def flip_a_byte(path, at: int = 1000) -> None:
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(data)
    path.chmod(0o444)


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory, fixtures):
    """A data dir with one ready clip, backed up twice while its service runs."""
    data = tmp_path_factory.mktemp("source")
    dest = tmp_path_factory.mktemp("backups") / "nightly"
    with running_service(backend_env("sqlite", data), data / "serve.log") as client:
        response = upload(client, fixtures / "speech.mp4", evidence_id="EV-BACKUP-1")
        assert response.status_code == 201, response.text
        clip = wait_settled(client, response.json()["id"])
        assert clip["status"] == "ready", clip
        transcript = client.get(f"/api/v1/clips/{clip['id']}/transcript").json()
        first = backup(dest, Settings(data_dir=data))
        second = backup(dest, Settings(data_dir=data))  # an incremental one: the service wrote since
    return {"data": data, "dest": dest, "clip": clip, "transcript": transcript, "first": first, "second": second}


def test_a_second_backup_copies_only_the_database(backed_up):
    first, second = backed_up["first"], backed_up["second"]
    store_files = [name for name in first.files if name.startswith("store/")]
    assert len(store_files) == 7  # the original and its six derived files
    assert first.copied == len(store_files) and second.copied == 0 and second.kept == len(store_files)
    assert second.audit_head != first.audit_head  # the first backup, at least, was audited
    on_disk = {p.relative_to(backed_up["dest"]).as_posix() for p in backed_up["dest"].rglob("*") if p.is_file()}
    assert on_disk == {*second.files, MANIFEST}  # the first database copy is gone
    assert Manifest.load(backed_up["dest"] / MANIFEST) == second
    for name, digest in second.files.items():
        assert hashlib.sha256((backed_up["dest"] / name).read_bytes()).hexdigest() == digest


def test_a_restored_data_dir_serves_the_same_clip_and_verifies(backed_up, tmp_path):
    target = tmp_path / "restored"
    restored = restore(backed_up["dest"], target)
    assert restored.fixity_files == 7

    clip, env = backed_up["clip"], backend_env("sqlite", target)
    audit = subprocess.run(
        [sys.executable, "-m", "api.cli", "audit", "verify", "--anchor", backed_up["second"].audit_head],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert audit.returncode == 0, audit.stdout + audit.stderr
    token = provision_token(env, "after-restore")
    with serve_process(env, target / "serve.log", with_worker=False, provision=False) as (_, client):
        client.headers["Authorization"] = f"Bearer {token}"
        again = client.get(f"/api/v1/clips/{clip['id']}").json()
        assert (again["sha256"], again["status"], again["assets"]) == (clip["sha256"], "ready", clip["assets"])
        assert (
            client.get(f"/api/v1/clips/{clip['id']}/transcript").json()["segments"]
            == backed_up["transcript"]["segments"]
        )
        original = client.get(f"/api/v1/clips/{clip['id']}/original")
        assert hashlib.sha256(original.content).hexdigest() == clip["sha256"]
    with sessions(target) as scope:
        assert check(scope, None, store=Store(target / "store")).ok


def test_restoring_into_a_data_dir_that_is_not_empty_is_refused(backed_up, tmp_path):
    (tmp_path / "bestpart.db").write_bytes(b"someone's database")
    with pytest.raises(RestoreError, match="is not empty"):
        restore(backed_up["dest"], tmp_path)
    assert (tmp_path / "bestpart.db").read_bytes() == b"someone's database"


def test_a_tampered_backup_is_refused_before_anything_is_copied(backed_up, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(backed_up["dest"], copy)
    original = f"store/originals/{backed_up['clip']['sha256'][:2]}/{backed_up['clip']['sha256']}"
    flip_a_byte(copy / original)
    with pytest.raises(RestoreError, match=f"altered(.|\n)*{original}: SHA-256"):
        restore(copy, tmp_path / "target")
    assert not (tmp_path / "target").exists()


def test_a_damaged_original_is_not_backed_up_unless_an_earlier_backup_holds_it_intact(backed_up, tmp_path):
    data, sha = backed_up["data"], backed_up["clip"]["sha256"]
    live = Store(data / "store").original_path(sha)
    flip_a_byte(live)
    try:
        with pytest.raises(BackupError, match=f"{sha}: its SHA-256 is [0-9a-f]{{64}}, not the {sha}"):
            backup(tmp_path / "fresh", Settings(data_dir=data))
        assert not (tmp_path / "fresh" / MANIFEST).exists()
        kept = backup(backed_up["dest"], Settings(data_dir=data))  # the earlier copy is intact: kept
        assert kept.copied == 0
    finally:
        flip_a_byte(live)


def test_a_backup_goes_somewhere_else_than_the_data_dir(backed_up, tmp_path):
    with pytest.raises(BackupError, match="inside the data dir"):
        backup(backed_up["data"] / "backup", Settings(data_dir=backed_up["data"]))
    (tmp_path / "notes.txt").write_text("not a backup")
    with pytest.raises(BackupError, match="holds no earlier bestpart backup"):
        backup(tmp_path, Settings(data_dir=backed_up["data"]))


@contextmanager
def sessions(data_dir):
    engine = create_engine(f"sqlite:///{data_dir / 'bestpart.db'}")

    @contextmanager
    def scope():
        with Session(engine, expire_on_commit=False) as session:
            yield session
            session.commit()

    try:
        yield scope
    finally:
        engine.dispose()


def test_postgresql_is_backed_up_with_pg_dump_and_restored_into_an_empty_database(tmp_path, fixtures):
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore are not on PATH")
    url = fresh_postgres_database()  # skips when PostgreSQL is not reachable
    env = {**backend_env("sqlite", tmp_path / "data"), "BESTPART_DATABASE_URL": url}
    ingest = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "ingest",
            str(fixtures / "speech.mp4"),
            "--badge",
            "4711",
            "--category",
            "de-escalation",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr

    manifest = backup(tmp_path / "backup", Settings(data_dir=tmp_path / "data", database_url=url))
    assert manifest.backend == "postgresql" and manifest.database.endswith(".dump") and manifest.clips == 1

    target = fresh_postgres_database()
    with pytest.raises(RestoreError, match="backup of a PostgreSQL database"):
        restore(tmp_path / "backup", tmp_path / "restored")
    restored = restore(tmp_path / "backup", tmp_path / "restored", target)
    assert restored.fixity_files == 1 and restored.manifest.audit_head == manifest.audit_head
    with pytest.raises(RestoreError, match="database .* is not empty"):
        restore(tmp_path / "backup", tmp_path / "again", target)
