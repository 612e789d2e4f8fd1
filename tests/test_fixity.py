"""Fixity: re-hashing the real store against the database's records, on real SQLite.

The shared in-process database (migrated, as the app runs it) holds other tests' clips, some with
made-up hashes; whole-store runs and the sweep therefore run on a database and store of their own."""

import hashlib
import uuid
from argparse import Namespace
from contextlib import contextmanager

import pytest
from sqlmodel import Session, SQLModel, create_engine, select

from api.audit.models import AuditEvent, AuditHead
from api.audit.service import verify
from api.clips.models import Asset, Clip, ClipStatus
from api.clips.service import get_store
from api.clips.storage import Store
from api.db import session_scope
from api.fixity import service as fixity
from api.fixity.cli import fixity_command

DERIVED = {"poster.jpg": b"\xff\xd8 a poster", "proxy.mp4": b"a proxy " * 5000, "transcript.json": b'{"segments": []}'}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_clip(scope, store: Store, fixtures, derived: dict[str, bytes] = DERIVED) -> tuple[int, bytes]:
    """A ready clip the way the pipeline leaves one: a read-only original under its hash and
    derived files published beside it, each recorded with its hash. New bytes every time."""
    content = (fixtures / "speech.mp4").read_bytes() + uuid.uuid4().bytes
    temp = store.temp_path()
    temp.write_bytes(content)
    store.keep_original(temp, sha(content))
    with scope() as session:
        clip = Clip(sha256=sha(content), size_bytes=len(content), status=ClipStatus.READY, badge_number="4711")
        session.add(clip)
        session.flush()
        for kind, data in derived.items():
            temp = store.temp_path()
            temp.write_bytes(data)
            final = store.publish(temp, clip.sha256, kind)
            session.add(
                Asset(
                    clip_id=clip.id,
                    kind=kind,
                    path=store.relative(final),
                    content_type="application/octet-stream",
                    size_bytes=len(data),
                    sha256=sha(data),
                    parent_sha256=clip.sha256,
                    tool="test",
                    tool_version="1",
                )
            )
        return clip.id, content


def flip_a_byte(path, at: int = 1000) -> bytes:
    path.chmod(0o644)  # originals are read-only
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(data)
    path.chmod(0o444)
    return bytes(data)


def events(scope, action: str, object_id=None) -> list[AuditEvent]:
    with scope() as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        if object_id is not None:
            query = query.where(AuditEvent.object_id == str(object_id))
        return list(session.exec(query))


@pytest.fixture
def own(tmp_path):
    """A database and store of this test's own: (session factory, store)."""
    import api.models  # noqa: F401  every table

    engine = create_engine(f"sqlite:///{tmp_path / 'bestpart.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(AuditHead())
        session.commit()

    @contextmanager
    def scope():
        with Session(engine, expire_on_commit=False) as session:
            yield session
            session.commit()

    yield scope, Store(tmp_path / "store")
    engine.dispose()


def test_a_flipped_byte_in_an_original_is_named_with_both_hashes_and_flags_the_clip(app, fixtures):
    store = get_store()
    clip_id, content = make_clip(session_scope, store, fixtures)
    path = store.original_path(sha(content))
    altered = flip_a_byte(path)

    report = fixity.check(session_scope, clip_id)

    assert [(m.clip_id, m.file, m.expected, m.actual) for m in report.mismatches] == [
        (clip_id, "original", sha(content), sha(altered))
    ]
    assert report.files == len(DERIVED)  # the derived files are intact
    [mismatch] = events(session_scope, fixity.MISMATCH, clip_id)
    assert mismatch.outcome == "failure"
    assert mismatch.details == {
        "file": "original",
        "path": store.relative(path),
        "expected": sha(content),
        "actual": sha(altered),
    }
    run = events(session_scope, fixity.RUN)[-1]
    assert (run.object_id, run.outcome, run.details["mismatches"]) == (f"clip {clip_id}", "failure", 1)
    with session_scope() as session:
        problem = fixity.original_problem(session, session.get(Clip, clip_id))
        assert sha(altered) in problem and sha(content) in problem
        assert clip_id in fixity.failed_originals(session)
        assert fixity.fixity_fields(session, session.get(Clip, clip_id))["fixity"] == "failed"
        assert verify(session) == []  # recorded as chained audit records like any other

    flip_a_byte(path)  # the same byte back: the original as uploaded, e.g. put back from a backup
    again = fixity.check(session_scope, clip_id)
    assert again.ok and again.resolved == [(clip_id, "original")]
    with session_scope() as session:
        assert fixity.original_problem(session, session.get(Clip, clip_id)) is None
        assert clip_id not in fixity.failed_originals(session)


def test_the_command_names_the_failing_file_with_both_hashes_and_exits_1(app, fixtures, capsys):
    store = get_store()
    clip_id, content = make_clip(session_scope, store, fixtures)
    assert fixity_command(Namespace(clip=clip_id)) == 0
    altered = flip_a_byte(store.original_path(sha(content)))

    assert fixity_command(Namespace(clip=clip_id)) == 1
    out = capsys.readouterr().out
    assert f"FAILED clip {clip_id} original" in out
    assert f"expected sha256 {sha(content)}, actual {sha(altered)}" in out
    assert fixity_command(Namespace(clip=10**9)) == 2


def test_an_intact_store_passes_and_reports_its_progress(own, fixtures):
    scope, store = own
    for _ in range(3):
        make_clip(scope, store, fixtures)
    seen = []

    report = fixity.check(scope, None, lambda p: seen.append((p.files_done, p.bytes_done)), store=store)

    assert report.ok and (report.clips, report.files) == (3, 3 * (1 + len(DERIVED)))
    assert seen[-1] == (report.files, report.bytes)  # every file read to its end
    assert [e.outcome for e in events(scope, fixity.RUN)] == ["success"]
    assert events(scope, fixity.MISMATCH) == []


def test_a_missing_derived_file_is_reported_as_missing_and_leaves_the_original_unflagged(own, fixtures):
    scope, store = own
    clip_id, content = make_clip(scope, store, fixtures)
    proxy = store.derived_dir(sha(content)) / "proxy.mp4"
    proxy.unlink()

    report = fixity.check(scope, None, store=store)

    assert [(m.clip_id, m.file, m.expected, m.actual) for m in report.mismatches] == [
        (clip_id, "proxy.mp4", sha(DERIVED["proxy.mp4"]), "missing")
    ]
    assert [e.details["actual"] for e in events(scope, fixity.MISMATCH, clip_id)] == ["missing"]
    with scope() as session:
        assert fixity.original_problem(session, session.get(Clip, clip_id), store) is None
        assert fixity.failed_originals(session) == {}


def test_a_missing_or_truncated_original_is_known_without_hashing(own, fixtures):
    scope, store = own
    clip_id, content = make_clip(scope, store, fixtures)
    path = store.original_path(sha(content))
    path.chmod(0o644)
    path.write_bytes(content[:-10])
    with scope() as session:
        assert "not the" in fixity.original_problem(session, session.get(Clip, clip_id), store)
    path.unlink()
    with scope() as session:
        assert "missing" in fixity.original_problem(session, session.get(Clip, clip_id), store)


def test_the_sweep_checks_the_least_recently_swept_clips_and_goes_round(own, fixtures):
    scope, store = own
    ids = [make_clip(scope, store, fixtures, {})[0] for _ in range(3)]
    with scope() as session:
        third = session.get(Clip, ids[2]).sha256
    flip_a_byte(store.original_path(third))

    assert fixity.sweep(2, scope, store) == 2  # clips 1 and 2: intact
    assert events(scope, fixity.MISMATCH) == []
    assert fixity.sweep(2, scope, store) == 2  # clip 3, then round to clip 1
    assert [int(e.object_id) for e in events(scope, fixity.MISMATCH)] == [ids[2]]
    assert fixity.sweep(2, scope, store) == 2  # clips 2 and 3
    runs = events(scope, fixity.RUN)
    assert [(r.object_id, r.details["cursor"], r.details["clips"]) for r in runs] == [
        ("sweep", ids[1], 2),
        ("sweep", ids[0], 2),
        ("sweep", ids[2], 2),
    ]
    with scope() as session:
        assert set(fixity.failed_originals(session)) == {ids[2]}


def test_a_download_records_the_hash_of_the_bytes_it_sent_and_never_sends_altered_ones(app_client, fixtures):
    store = get_store()
    clip_id, content = make_clip(session_scope, store, fixtures)
    sent = app_client.get(f"/api/v1/clips/{clip_id}/original")
    assert sent.status_code == 200 and sent.content == content
    assert events(session_scope, "clip.download", clip_id)[-1].details == {"sha256": sha(sent.content)}

    altered = flip_a_byte(store.original_path(sha(content)))  # between two sweeps: nothing knows yet
    refused = app_client.get(f"/api/v1/clips/{clip_id}/original")
    assert refused.status_code == 409 and sha(altered) in refused.json()["detail"]
    assert len(events(session_scope, "clip.download", clip_id)) == 1
    [mismatch] = events(session_scope, fixity.MISMATCH, clip_id)
    assert mismatch.details["actual"] == sha(altered)  # flagged from now on, as a sweep would
    assert app_client.get(f"/api/v1/clips/{clip_id}").json()["fixity"] == "failed"
