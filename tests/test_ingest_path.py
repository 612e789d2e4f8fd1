"""The one ingest path (api.clips.ingest) that the API upload, the CLI and the samples share: its
containment rule for manifests, its own-footage rule, and refusals that outlive a rollback."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from api.audit.models import AuditEvent
from api.audit.service import Actor
from api.clips import ingest
from api.clips.models import RejectedUpload
from api.db import session_scope
from tests.accounts import bearer, fresh_copy, make_user
from tests.services import upload


def test_a_manifest_names_files_inside_its_folder_only(tmp_path):
    export = tmp_path / "export"
    (export / "day1").mkdir(parents=True)
    (export / "day1" / "a.mp4").write_bytes(b"x")
    (tmp_path / "secret.mp4").write_bytes(b"x")
    (export / "link.mp4").symlink_to(tmp_path / "secret.mp4")
    assert ingest.inside(export, "day1/a.mp4") == (export / "day1" / "a.mp4").resolve()
    for name in ("../secret.mp4", str(tmp_path / "secret.mp4"), "link.mp4", "", "day1/../../secret.mp4", "."):
        assert ingest.inside(export, name) is None, name


def test_the_manifest_reader_checks_every_row_and_refuses_a_manifest_without_files(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,badge_number\nok.mp4,1\n../x.mp4,2\n")
    rows = ingest.read_manifest(manifest)
    assert [(row.name, row.path, row.fields) for row in rows][0] == (
        "ok.mp4",
        (tmp_path / "ok.mp4").resolve(),
        {"badge_number": ["1"]},
    )
    assert rows[1].path is None and "not a file inside the export folder" in rows[1].problem
    manifest.write_text("name,size\nx,1\n")
    with pytest.raises(ingest.ManifestError, match="'file' column"):
        ingest.read_manifest(manifest)
    manifest.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ingest.ManifestError, match="cannot read"):
        ingest.read_manifest(manifest)


def _refusals(reason_part: str) -> tuple[list[RejectedUpload], list[AuditEvent]]:
    with session_scope() as session:
        rejected = [r for r in session.exec(select(RejectedUpload)) if reason_part in r.reason]
        audited = [
            e
            for e in session.exec(select(AuditEvent).where(AuditEvent.action == "clip.upload"))
            if e.outcome == "failure" and reason_part in e.details.get("reason", "")
        ]
    return rejected, audited


def test_a_refusal_is_kept_when_the_callers_transaction_rolls_back(app, tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("a refusal that must outlive the rollback 5c1f")
    received = ingest.receive_local_file(path)
    submitter = ingest.Submitter(actor=Actor("test"), any_badge=True)
    with pytest.raises(RuntimeError), session_scope() as session:
        outcome = ingest.ingest(
            session, received, {"badge_number": ["9"], "categories": ["life-saving"]}, submitter, source="cli"
        )
        assert isinstance(outcome, ingest.Refused) and outcome.status == 415
        raise RuntimeError("the caller's transaction fails after the refusal")
    received.discard()
    rejected, audited = _refusals("the file is text")
    assert [r.filename for r in rejected].count("notes.mp4") >= 1 and audited
    assert any(e.details.get("via") == "cli" and e.details.get("size") == path.stat().st_size for e in audited)


def test_an_officer_files_only_their_own_footage_and_the_refusal_is_recorded(app, fixtures, tmp_path):
    _, token = make_user(roles=["officer"], badge="6021")
    with TestClient(app, headers=bearer(token)) as officer:
        theirs = upload(officer, fresh_copy(fixtures / "silent.mkv", tmp_path, "own-6021"), badge_number="6021")
        assert theirs.status_code == 201, theirs.text
        other = upload(officer, fresh_copy(fixtures / "silent.mkv", tmp_path, "not-own"), badge_number="6022")
    assert other.status_code == 403 and other.json()["detail"] == ingest.OWN_FOOTAGE
    rejected, audited = _refusals(ingest.OWN_FOOTAGE)
    assert any(r.badge_number == "6022" for r in rejected) and audited


def test_the_samples_come_in_through_the_same_path(app):
    from api.samples import SOURCE, load_samples, sample_rows

    with session_scope() as session:
        loaded = load_samples(session, Actor("test"))
    assert not loaded.problems and len(loaded.added) + len(loaded.present) == len(sample_rows())
    with session_scope() as session:
        uploads = session.exec(select(AuditEvent).where(AuditEvent.action == "clip.upload")).all()
    assert {int(e.object_id) for e in uploads if e.details.get("via") == SOURCE} >= set(loaded.added)
