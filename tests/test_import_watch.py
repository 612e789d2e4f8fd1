"""The watched evidence-system export folder (api/imports/watch.py): each manifest is taken once it
is complete (stable sizes across two looks, or a done-marker), imported once (by the bytes and by
the manifest, restarts included), moved into imported/ or failed/ with its per-row outcome; one
bad row never stops the others. In-process passes use a clock the test moves, so "two looks a few
seconds apart" needs no sleep; the worker-run watcher is a real `bestpart worker` process."""

import socket
import sqlite3
import subprocess
import sys
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from api.audit.service import Actor
from api.clips import ingest
from api.clips.models import Clip, ClipTag, RejectedUpload
from api.db import session_scope
from api.imports import importer, service
from api.imports.models import ManifestImport
from api.imports.watch import Watcher
from tests.accounts import bearer, fresh_copy, make_user
from tests.html import page, row_texts, texts
from tests.services import backend_env, bestpart, wait_until

HEADER = "file,evidence_id,badge_number,recorded_at,categories,incident_number,division,note\n"
SETTLE = 3.0


class Clock:
    """time.monotonic for the watcher, moved by the test."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float = SETTLE) -> None:
        self.now += seconds


@pytest.fixture
def drop(tmp_path, app):  # `app`: the shared test database, migrated
    folder = tmp_path / "drop"
    folder.mkdir()
    return folder


def export(folder, fixtures, rows: list[tuple[str, str]], name: str = "manifest.csv"):
    """Fresh copies of the fixtures (new bytes, new clips) and a manifest naming them:
    rows are (fixture name or a literal file name, the rest of the CSV row)."""
    tag = uuid.uuid4().hex[:8]
    lines = []
    for source, rest in rows:
        if (fixtures / source).exists():
            source = fresh_copy(fixtures / source, folder, f"{tag}{len(lines)}").name
        lines.append(f"{source},{rest.replace('{tag}', tag)}\n")
    manifest = folder / name
    manifest.write_text(HEADER + "".join(lines))
    return manifest, tag


def two_looks(watcher: Watcher) -> list[int]:
    """What a watcher with settle 0 imports: a manifest needs two looks, the first only notes it."""
    assert watcher.look() == []
    return watcher.look()


def record(import_id: int) -> ManifestImport:
    with session_scope() as session:
        return session.get(ManifestImport, import_id)


def tags_of(evidence_id: str) -> list[ClipTag]:
    with session_scope() as session:
        return list(session.exec(select(ClipTag).where(ClipTag.evidence_id == evidence_id)))


def test_a_manifest_dropped_with_its_files_is_imported_once(drop, fixtures):
    manifest, tag = export(
        drop,
        fixtures,
        [
            ("silent.mkv", "EV-{tag}-1,4711,2026-10-01T08:00:00Z,de-escalation,I-1,North,calm"),
            ("speech.mp4", 'EV-{tag}-2,4712,,"community-engagement,life-saving",,South,'),
        ],
    )
    names = sorted(p.name for p in drop.iterdir() if p.suffix != ".csv")
    clock = Clock()
    watcher = Watcher(drop, SETTLE, clock)
    assert watcher.look() == []  # the first look only notes the sizes
    clock.advance(SETTLE / 2)
    assert watcher.look() == []  # unchanged, but not yet for `settle` seconds
    clock.advance(SETTLE / 2)
    [import_id] = watcher.look()

    done = record(import_id)
    assert (done.status, done.source, done.rows, done.accepted, done.duplicates, done.refused) == (
        "done",
        "watch",
        2,
        2,
        0,
        0,
    )
    assert done.watch_path == str(manifest.resolve()) and done.finished_at is not None
    moved = drop / "imported" / f"{import_id}-manifest"
    assert done.moved_to == str(moved)
    assert sorted(p.name for p in drop.iterdir()) == ["imported"]  # nothing left in the drop folder
    assert sorted(p.name for p in moved.iterdir()) == sorted([*names, "manifest.csv", "outcome.csv"])
    outcome = (moved / "outcome.csv").read_text().splitlines()
    assert outcome[0] == "row,file,outcome,clip_id,reason"
    assert [line.split(",")[2] for line in outcome[1:]] == ["accepted", "accepted"]
    [first], [second] = tags_of(f"EV-{tag}-1"), tags_of(f"EV-{tag}-2")
    assert (first.badge_number, first.source, second.categories) == (
        "4711",
        "import",
        ["community-engagement", "life-saving"],
    )

    clock.advance(60)
    assert watcher.look() == [] and watcher.look() == []
    assert len(tags_of(f"EV-{tag}-1")) == 1


def test_a_manifest_whose_file_is_still_growing_waits(drop, fixtures):
    manifest, tag = export(drop, fixtures, [("speech.mp4", "EV-{tag},4711,,life-saving,,,")])
    growing = next(p for p in drop.iterdir() if p.suffix == ".mp4")
    clock = Clock()
    watcher = Watcher(drop, SETTLE, clock)
    assert watcher.look() == []
    with open(growing, "ab") as f:  # the copy is still running
        f.write(b"more bytes")
    clock.advance()
    assert watcher.look() == [] and manifest.exists()  # changed since the last look: wait
    clock.advance()
    [import_id] = watcher.look()  # stable now for `settle` seconds
    assert record(import_id).accepted == 1
    with session_scope() as session:
        clip = session.get(Clip, tags_of(f"EV-{tag}")[0].clip_id)
    assert clip.size_bytes == (drop / "imported" / f"{import_id}-manifest" / growing.name).stat().st_size


def test_a_file_the_manifest_names_that_has_not_arrived_yet_is_waited_for(drop, fixtures):
    manifest = drop / "manifest.csv"
    manifest.write_text(HEADER + f"late-{uuid.uuid4().hex[:6]}.mkv,EV-late,4711,,life-saving,,,\n")
    clock = Clock()
    watcher = Watcher(drop, SETTLE, clock)
    assert watcher.look() == []
    late = drop / manifest.read_text().splitlines()[1].split(",")[0]
    late.write_bytes((fixtures / "silent.mkv").read_bytes() + uuid.uuid4().bytes)  # arrives after the manifest
    clock.advance()
    assert watcher.look() == []  # its arrival changed the export
    clock.advance()
    [import_id] = watcher.look()
    assert record(import_id).accepted == 1


def test_a_done_marker_makes_the_manifest_ready_at_once(drop, fixtures):
    manifest, tag = export(drop, fixtures, [("silent.mkv", "EV-{tag},4711,,de-escalation,,,")])
    (drop / "manifest.csv.done").write_text("")
    [import_id] = Watcher(drop, SETTLE, Clock()).look()  # the first look: no waiting for sizes
    moved = drop / "imported" / f"{import_id}-manifest"
    assert (moved / "manifest.csv.done").exists() and not (drop / "manifest.csv.done").exists()
    assert record(import_id).accepted == 1 and len(tags_of(f"EV-{tag}")) == 1


def test_restarting_the_watcher_re_imports_nothing(drop, fixtures):
    manifest, tag = export(drop, fixtures, [("silent.mkv", "EV-{tag},4711,,de-escalation,,,")])
    kept = {p.name: p.read_bytes() for p in drop.iterdir()}
    [import_id] = two_looks(Watcher(drop, 0, Clock()))
    assert len(tags_of(f"EV-{tag}")) == 1

    # The same export dropped again (or left behind by a crash before the move), and a new
    # watcher process: known by its path and bytes, it is only moved aside.
    for name, data in kept.items():
        (drop / name).write_bytes(data)
    clock = Clock()
    restarted = Watcher(drop, SETTLE, clock)
    assert restarted.look() == []
    clock.advance()
    assert restarted.look() == []
    assert len(tags_of(f"EV-{tag}")) == 1  # no second tag
    with session_scope() as session:
        same = session.exec(select(ManifestImport).where(ManifestImport.watch_path == str(manifest.resolve()))).all()
    assert [batch.id for batch in same] == [import_id]
    assert not manifest.exists() and (drop / "imported" / f"{import_id}-manifest-2" / "manifest.csv").exists()
    assert record(import_id).moved_to == str(drop / "imported" / f"{import_id}-manifest")


def test_an_import_cut_short_goes_on_from_its_next_row_after_a_restart(drop, fixtures):
    manifest, tag = export(
        drop,
        fixtures,
        [("silent.mkv", "EV-{tag}-1,4711,,de-escalation,,,"), ("speech.mp4", "EV-{tag}-2,4711,,de-escalation,,,")],
    )
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    # A watcher in another process claimed it, imported the first row, and was killed.
    with session_scope() as session:
        batch, mine = service.claim(
            session, watch_path=str(manifest.resolve()), sha256=importer.manifest_sha256(manifest), imported_by="t"
        )
        batch.claimed_by = f"{socket.gethostname()}:{dead.pid}"
        import_id = batch.id
    importer.import_rows(import_id, ingest.read_manifest(manifest)[:1], Actor("import-watch"))
    assert (record(import_id).status, record(import_id).accepted) == ("importing", 1)

    [again] = two_looks(Watcher(drop, 0, Clock()))
    done = record(again)
    assert again == import_id and (done.status, done.rows, done.accepted, done.refused) == ("done", 2, 2, 0)
    assert len(tags_of(f"EV-{tag}-1")) == 1 and len(tags_of(f"EV-{tag}-2")) == 1  # the first row not again


def test_a_bad_row_is_reported_and_the_rest_land(drop, fixtures, app):
    notes = drop / f"notes-{uuid.uuid4().hex[:6]}.mp4"
    notes.write_text(f"not a video {uuid.uuid4()}")
    manifest, tag = export(
        drop,
        fixtures,
        [
            ("silent.mkv", "EV-{tag}-1,4711,,de-escalation,,,"),
            (notes.name, "EV-{tag}-2,4711,,de-escalation,,,"),
            ("gone.mp4", "EV-{tag}-3,4711,,de-escalation,,,"),
            ("../../etc/passwd", "EV-{tag}-4,4711,,de-escalation,,,"),
            ("speech.mp4", "EV-{tag}-5,4711,,bravery,,,"),
            ("speech.mp4", "EV-{tag}-6,4712,,life-saving,,,"),
        ],
    )
    (drop / "manifest.csv.done").write_text("")
    [import_id] = Watcher(drop, SETTLE, Clock()).look()

    done = record(import_id)
    assert (done.rows, done.accepted, done.duplicates, done.refused) == (6, 2, 0, 4)
    with session_scope() as session:
        rows = {row.row_number: row for row in service.rows_of(session, import_id)}
        refused_upload = session.exec(select(RejectedUpload).where(RejectedUpload.filename == notes.name)).one()
    assert [rows[n].outcome for n in range(1, 7)] == [
        "accepted",
        "refused",
        "refused",
        "refused",
        "refused",
        "accepted",
    ]
    assert "the file is text, not a video" in rows[2].reason == refused_upload.reason  # through the ingest path
    assert rows[3].reason == "no such file"
    assert rows[4].reason == "not a file inside the export folder" and rows[4].file == "../../etc/passwd"
    assert "categories" in rows[5].reason
    assert len(tags_of(f"EV-{tag}-1")) == 1 and len(tags_of(f"EV-{tag}-6")) == 1


def test_a_manifest_that_cannot_be_read_goes_to_failed(drop):
    (drop / "manifest.csv").write_text("name,size\nx,1\n")
    clock = Clock()
    watcher = Watcher(drop, SETTLE, clock)
    watcher.look()
    clock.advance()
    [import_id] = watcher.look()
    failed = record(import_id)
    assert failed.status == "failed" and "'file' column" in failed.error
    assert (drop / "failed" / f"{import_id}-manifest" / "manifest.csv").exists() and not (drop / "imported").exists()


def test_the_admin_page_and_the_api_show_each_import_with_its_refusals(drop, fixtures, app):
    notes = drop / f"notes-{uuid.uuid4().hex[:6]}.mp4"
    notes.write_text(f"not a video {uuid.uuid4()}")
    export(
        drop, fixtures, [("silent.mkv", "EV-{tag},4711,,de-escalation,,,"), (notes.name, "EV-x,4711,,life-saving,,,")]
    )
    (drop / "manifest.csv.done").write_text("")
    [import_id] = Watcher(drop, SETTLE, Clock()).look()
    _, admin = make_user(roles=["admin"])
    _, reviewer = make_user(roles=["reviewer"])
    with TestClient(app) as client:
        answer = client.get("/api/v1/imports", params={"limit": 500}, headers=bearer(admin))
        assert answer.status_code == 200 and int(answer.headers["X-Total-Count"]) >= 1
        [mine] = [batch for batch in answer.json() if batch["id"] == import_id]
        assert (mine["source"], mine["rows"], mine["accepted"], mine["duplicates"], mine["refused"]) == (
            "watch",
            2,
            1,
            0,
            1,
        )
        assert [r["row_number"] for r in mine["refusals"]] == [2]
        assert "the file is text" in mine["refusals"][0]["reason"]
        assert client.get("/api/v1/imports", headers=bearer(reviewer)).status_code == 403

        html = page(client.get("/admin/imports", headers=bearer(admin)))
        row = html.select_one(f'tr[data-import="{import_id}"]')
        cells = [" ".join(td.get_text().split()) for td in row.select("td")]
        assert cells[1].startswith("manifest.csv") and cells[2].startswith("Watched folder")
        assert cells[3:] == ["done", "2", "1", "0", "1"]
        refusals = html.select_one(f'tr[data-refusals="{import_id}"]')
        assert texts(refusals, "summary") == ["Why 1 row was refused"]
        [reason] = texts(refusals, "li")
        assert reason.startswith(f"Row 2 ({notes.name}):") and "the file is text" in reason
        assert row_texts(html)  # a table a parser reads
        assert client.get("/admin/imports", headers=bearer(reviewer)).status_code == 403


def test_the_worker_watches_the_folder_set_in_its_settings(tmp_path, fixtures):
    drop = tmp_path / "drop"
    drop.mkdir()
    env = {
        **backend_env("sqlite", tmp_path / "data"),
        "BESTPART_IMPORT_WATCH_DIR": str(drop),
        "BESTPART_IMPORT_WATCH_SETTLE_SECONDS": "0.5",
        "BESTPART_FIXITY_INTERVAL_MINUTES": "0",
    }
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        worker = bestpart("worker", "--threads", "1", env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            db = tmp_path / "data" / "bestpart.db"
            wait_until(lambda: "watching" in log_path.read_text(), 60, f"the worker did not watch; see {log_path}")
            manifest, tag = export(drop, fixtures, [("silent.mkv", "EV-{tag},4711,,de-escalation,,,")])

            def imported():
                with sqlite3.connect(db) as conn:
                    return conn.execute(
                        "SELECT id, source, status, rows, accepted FROM manifest_imports WHERE status = 'done'"
                    ).fetchall()

            [(import_id, source, status, rows, accepted)] = wait_until(
                imported, 60, f"the worker imported nothing; see {log_path}", 0.2
            )
            assert (source, rows, accepted) == ("watch", 1, 1)
            wait_until(lambda: not manifest.exists(), 30, "the manifest was not moved")
            assert (drop / "imported" / f"{import_id}-manifest" / "manifest.csv").exists()
            with sqlite3.connect(db) as conn:
                assert conn.execute("SELECT evidence_id, source FROM clip_tags").fetchall() == [(f"EV-{tag}", "import")]
        finally:
            worker.terminate()
            worker.wait(timeout=30)
