"""The upload endpoint in-process: validation, refusals, duplicates. No worker runs here."""

import hashlib
import json

import pytest
from sqlmodel import select

from api.clips.models import Clip, RejectedUpload
from api.clips.service import get_store
from api.config import get_settings
from api.db import session_scope
from tests.accounts import fresh_copy
from tests.services import upload


def rejected_uploads() -> list[RejectedUpload]:
    with session_scope() as session:
        return list(session.exec(select(RejectedUpload).order_by(RejectedUpload.id)))


def test_upload_creates_a_processing_clip_with_its_tags(app_client, fixtures, tmp_path):
    source = fresh_copy(fixtures / "silent.mkv", tmp_path, "tags")
    markers = [{"at": 3.5, "note": "introduces himself"}, {"at": 1.0, "note": "arrives"}]
    response = upload(
        app_client,
        source,
        categories=["de-escalation", "life-saving"],
        evidence_id="EV-1",
        recorded_at="2026-11-20T21:14:00-05:00",
        incident_number="I-9",
        division="Metro",
        note="calm voice",
        markers=json.dumps(markers),
    )
    assert response.status_code == 201, response.text
    clip = response.json()
    assert clip["status"] == "processing" and clip["duplicate"] is False
    assert clip["categories"] == ["de-escalation", "life-saving"]
    assert [m["at"] for m in clip["markers"]] == [1.0, 3.5]
    assert clip["recorded_at"].startswith("2026-11-21T02:14:00")  # stored in UTC
    assert {s["name"]: s["state"] for s in clip["stages"]} == {
        "probe": "queued",
        "thumbnails": "queued",
        "proxy": "queued",
        "transcript": "queued",
        "recognize": "queued",
    }
    original = get_store().original_path(clip["sha256"])
    assert clip["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert original.read_bytes() == source.read_bytes()
    assert original.stat().st_mode & 0o222 == 0, "originals are read-only"
    assert app_client.get(f"/api/v1/clips/{clip['id']}").json()["evidence_id"] == "EV-1"


def test_same_bytes_again_merge_tags_and_store_nothing_new(app_client, fixtures, tmp_path):
    source = fresh_copy(fixtures / "mjpeg_pcm.avi", tmp_path, "dup")
    first = upload(app_client, source, categories="de-escalation").json()
    again = upload(
        app_client,
        source,
        categories="community-engagement,life-saving",
        badge_number="9001",
        markers='[{"at": 1, "note": "hands over a blanket"}]',
    )
    assert again.status_code == 200 and again.json()["duplicate"] is True
    merged = again.json()
    assert merged["id"] == first["id"]
    assert merged["categories"] == ["community-engagement", "de-escalation", "life-saving"]
    assert [t["badge_number"] for t in merged["tags"]] == ["4711", "9001"]
    copies = list(get_store().root.glob(f"originals/*/{first['sha256']}*"))
    assert len(copies) == 1 and not [p for p in get_store().tmp_dir.rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    "fields, problem",
    [
        ({"categories": "heroics"}, "categories"),
        ({"categories": ""}, "categories"),
        ({"badge_number": ""}, "badge_number"),
        ({"recorded_at": "last tuesday"}, "recorded_at"),
        ({"markers": "not json"}, "markers: not valid JSON"),
        ({"markers": '[{"at": -4}]'}, "markers.0.at"),
    ],
)
def test_bad_fields_get_a_422_naming_the_field(app_client, fixtures, fields, problem):
    response = upload(app_client, fixtures / "silent.mkv", **fields)
    assert response.status_code == 422
    assert problem in response.json()["detail"]
    assert problem.split(":")[0].split(".")[0] in rejected_uploads()[-1].reason


@pytest.mark.parametrize(
    "content, status, reason",
    [
        (b"", 400, "empty"),
        (b"<!doctype html><html><body>Sign in</body></html>", 415, "HTML"),
        (b"#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n", 415, "HLS playlist"),
        (b"ffconcat version 1.0\nfile /etc/passwd\n", 415, "ffconcat"),
        (bytes(range(256)) * 64, 415, "not a recognised video container"),
    ],
)
def test_non_videos_are_refused_at_upload_and_recorded(app_client, tmp_path, content, status, reason):
    path = tmp_path / "clip.mp4"
    path.write_bytes(content)
    response = upload(app_client, path)
    assert response.status_code == status and reason in response.json()["detail"]
    assert "root:" not in response.text
    record = rejected_uploads()[-1]
    assert reason in record.reason and record.size_bytes == len(content)
    assert record.badge_number == "4711" and record.submitted_from
    if content:
        assert record.sha256 == hashlib.sha256(content).hexdigest()
    assert not [p for p in get_store().tmp_dir.rglob("*") if p.is_file()], "nothing of a refused upload is kept"


def test_oversize_upload_is_refused_with_413(app_client, fixtures, monkeypatch):
    monkeypatch.setattr(get_settings(), "max_upload_bytes", 50_000)
    response = upload(app_client, fixtures / "speech.mp4")
    assert response.status_code == 413 and "50000 bytes" in response.json()["detail"]
    assert not [p for p in get_store().tmp_dir.rglob("*") if p.is_file()]
    assert "50000" in rejected_uploads()[-1].reason


@pytest.mark.parametrize(
    "kwargs, status",
    [
        ({"data": {"badge_number": "1"}}, 415),  # not multipart
        ({"files": {"other": ("a.txt", b"x")}, "data": {"badge_number": "1"}}, 400),  # no file part
    ],
)
def test_malformed_requests_get_4xx(app_client, kwargs, status):
    response = app_client.post("/api/v1/clips", **kwargs)
    assert response.status_code == status, response.text


def test_unknown_clip_and_media_are_404(app_client, fixtures, tmp_path):
    assert app_client.get("/api/v1/clips/999999").status_code == 404
    clip_id = upload(app_client, fresh_copy(fixtures / "silent.mkv", tmp_path, "404")).json()["id"]
    assert app_client.get(f"/api/v1/clips/{clip_id}/media/original.mp4").status_code == 404
    assert app_client.get(f"/api/v1/clips/{clip_id}/media/..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert "not ready" in app_client.get(f"/api/v1/clips/{clip_id}/transcript").json()["detail"]


def test_start_page_sends_each_role_to_its_work(app_client):
    assert app_client.get("/", follow_redirects=False).headers["location"] == "/queue"


def test_clips_are_only_created_for_accepted_uploads(app_client, fixtures, tmp_path):
    def clip_count() -> int:
        with session_scope() as session:
            return len(session.exec(select(Clip.id)).all())

    before = clip_count()
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "notes.mp4").write_text("not a video at all")
    for refused in ("empty.mp4", "notes.mp4"):
        assert upload(app_client, tmp_path / refused).status_code in (400, 415)
    assert clip_count() == before
    assert upload(app_client, fresh_copy(fixtures / "silent.mkv", tmp_path, "counted")).status_code == 201
    assert clip_count() == before + 1


def test_an_officer_uploading_someone_elses_bytes_learns_nothing_of_their_clip(app, app_client, fixtures, tmp_path):
    from fastapi.testclient import TestClient

    from tests.accounts import bearer, make_user

    source = fresh_copy(fixtures / "silent.mkv", tmp_path, "co-tag")
    first = upload(
        app_client,
        source,
        badge_number="4711",
        evidence_id="EV-SECRET-1",
        division="Metro",
        note="the victim's name is in the second minute",
    ).json()
    _, token = make_user(roles=["officer"], badge="5150")
    other = TestClient(app, headers=bearer(token))
    again = upload(other, source, badge_number="5150", note="my view of the same call")
    assert again.status_code == 200
    assert again.json() == {"duplicate": True, "sha256": first["sha256"], "detail": again.json()["detail"]}
    for secret in ("EV-SECRET-1", "Metro", "victim", "4711"):
        assert secret not in again.text
    tags = app_client.get(f"/api/v1/clips/{first['id']}").json()["tags"]
    assert any(t["badge_number"] == "5150" and t["note"] == "my view of the same call" for t in tags), "her tag is kept"


def test_the_retention_date_is_taken_at_upload_and_a_bad_one_refused(app_client, fixtures, tmp_path):
    kept = upload(app_client, fresh_copy(fixtures / "silent.mkv", tmp_path, "retain"), retain_until="2031-06-30")
    assert kept.status_code == 201, kept.text
    assert app_client.get(f"/api/v1/clips/{kept.json()['id']}").json()["retain_until"] == "2031-06-30"
    refused = upload(app_client, fresh_copy(fixtures / "silent.mkv", tmp_path, "retain-bad"), retain_until="soon")
    assert refused.status_code == 422 and "retain_until" in refused.json()["detail"]
