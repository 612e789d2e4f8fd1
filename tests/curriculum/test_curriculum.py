"""The curriculum, end to end: a clip processed by the real `bestpart serve` and its worker, selected
for training by a reviewer, cut into a lesson by a trainer, exported as a zip (real ffmpeg), and
checked: order, times, hashes, segment durations, captions, and the audit trail.

The curriculum calls go to an in-process app on the live service's data dir, with the curriculum
router included when api/app.py does not include it yet; the export job runs in-process. Once
api/app.py and workers/queue.py are wired, one more test runs an export through the live worker.
"""

import hashlib
import io
import json
import os
import re
import zipfile
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.accounts import bearer
from tests.services import backend_env, provision_token, running_service, upload, wait_settled, wait_until
from workers import exports  # imported now, so its task binds to this session's queue, not the live one

CUE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})$", re.M)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The real service and worker on their own SQLite data dir; a trainer and a reviewer."""
    data = tmp_path_factory.mktemp("curriculum")
    env = backend_env("sqlite", data)
    with running_service(env, data / "serve.log") as admin:
        trainer = provision_token(env, "trainer1", roles=("trainer",), badge="9")
        reviewer = provision_token(env, "reviewer1", roles=("reviewer",), badge="10")
        yield SimpleNamespace(env=env, data=data, admin=admin, trainer=trainer, reviewer=reviewer)


def _clear_caches() -> None:
    from api.clips.service import get_store
    from api.config import get_settings
    from api.db import get_engine

    if get_engine.cache_info().currsize:
        get_engine().dispose()
    # Not the queue: the task modules registered their tasks with the Huey they found at import,
    # and a new one would know none of them (its jobs are caught in `sent` anyway).
    for cached in (get_settings, get_engine, get_store):
        cached.cache_clear()


@contextmanager
def settings_for(data_dir: Path):
    """Point this process's settings, engine and store at another data dir, then back."""
    saved = os.environ["BESTPART_DATA_DIR"]
    os.environ["BESTPART_DATA_DIR"] = str(data_dir)
    _clear_caches()
    try:
        yield
    finally:
        os.environ["BESTPART_DATA_DIR"] = saved
        _clear_caches()


@pytest.fixture(scope="module")
def sent(live):
    """In-process requests run on the live data dir; the jobs they send are kept here instead of
    queued, so the export below runs in this process, exactly once."""
    import api.core.jobs

    jobs = []
    with settings_for(live.data), pytest.MonkeyPatch.context() as patch:
        patch.setattr(api.core.jobs, "enqueue", lambda name, *args: jobs.append((name, args)))
        yield jobs


def _in_process_app():
    from api.app import create_app
    from api.curriculum.routes import router as curriculum_router

    app = create_app()
    # FastAPI 0.165 wraps included routers (no `.path` on app.routes): ask the OpenAPI paths.
    if "/api/v1/courses" not in app.openapi()["paths"]:
        app.include_router(curriculum_router)
        app.openapi_schema = None
    return app


@pytest.fixture(scope="module")
def app(sent):
    return _in_process_app()


@pytest.fixture(scope="module")
def trainer(app, live):
    with TestClient(app, headers=bearer(live.trainer)) as client:
        yield client


@pytest.fixture(scope="module")
def reviewer(app, live):
    with TestClient(app, headers=bearer(live.reviewer)) as client:
        yield client


@pytest.fixture(scope="module")
def clip(live, fixtures) -> dict:
    response = upload(live.admin, fixtures / "speech.mp4", evidence_id="EV-TRAINING-1")
    assert response.status_code == 201, response.text
    settled = wait_settled(live.admin, response.json()["id"], timeout=180)
    assert settled["status"] == "ready", settled
    return settled


@pytest.fixture(scope="module")
def lesson(trainer) -> dict:
    course = trainer.post("/api/v1/courses", json={"title": "De-escalation basics"})
    assert course.status_code == 201, course.text
    made = trainer.post(
        f"/api/v1/courses/{course.json()['id']}/lessons",
        json={"title": "Opening the conversation", "summary": "first words matter"},
    )
    assert made.status_code == 201, made.text
    return made.json()


def _select_for_training(client, clip_id: int) -> None:
    assert client.post(f"/api/v1/review/{clip_id}/claim").status_code == 200
    decided = client.post(f"/api/v1/review/{clip_id}/decisions", json={"kind": "selected_for_training"})
    assert decided.status_code == 201, decided.text


@pytest.fixture(scope="module")
def selected(live, clip, lesson, trainer) -> dict:
    """The clip once the review team selected it (after the test that it is refused before)."""
    _select_for_training(live.admin, clip["id"])
    return clip


def test_every_curriculum_route_declares_a_policy():
    from api.curriculum.routes import router

    def policies(dependant):
        found = [dependant.call] if hasattr(dependant.call, "allowed_roles") else []
        return found + [p for d in dependant.dependencies for p in policies(d)]

    for route in router.routes:
        assert policies(route.dependant), f"{route.methods} {route.path} has no policy"


def test_a_clip_not_selected_for_training_cannot_be_added(trainer, clip, lesson):
    body = {"clip_id": clip["id"], "in_point": 1.0, "out_point": 4.0}
    refused = trainer.post(f"/api/v1/lessons/{lesson['id']}/items", json=body)
    assert refused.status_code == 409
    assert refused.json()["detail"] == f"clip {clip['id']} is not selected for training"
    assert trainer.post(f"/api/v1/lessons/{lesson['id']}/items", json={**body, "clip_id": 999999}).status_code == 404
    assert trainer.get(f"/api/v1/clips/{clip['id']}/lessons").status_code == 404  # not visible to trainers yet


@pytest.mark.parametrize(
    "change, status, words",
    [
        ({"in_point": 5.0, "out_point": 5.0}, 422, "must be at least 0 and before out_point"),
        ({"in_point": 6.0, "out_point": 2.0}, 422, "must be at least 0 and before out_point"),
        ({"out_point": 99.0}, 422, "past the end of clip"),
        ({"annotations": [{"at": 9.5, "text": "too late"}]}, 422, "annotation at 9.5 s lies outside the segment"),
        ({"in_point": -1.0}, 422, "greater than or equal to 0"),
    ],
)
def test_segments_are_validated_with_specific_reasons(trainer, selected, lesson, change, status, words):
    body = {"clip_id": selected["id"], "in_point": 1.0, "out_point": 4.0, **change}
    refused = trainer.post(f"/api/v1/lessons/{lesson['id']}/items", json=body)
    assert refused.status_code == status and words in refused.text, refused.text


def test_only_trainers_and_admins_write_and_reviewers_read(reviewer, lesson, live):
    assert reviewer.get(f"/api/v1/lessons/{lesson['id']}").status_code == 200
    assert reviewer.get("/api/v1/courses").status_code == 200
    assert reviewer.post("/api/v1/courses", json={"title": "nope"}).status_code == 403
    assert reviewer.post(f"/api/v1/lessons/{lesson['id']}/exports").status_code == 403


def _detect_and_approve(sent: list, approver, lesson_id: int, item_ids: list[int]) -> None:
    """Run the redaction detections the items sent (here, once each) and have a second person
    approve each redaction: an export renders only approved ones."""
    from workers import redaction as redaction_jobs

    for name, args in [job for job in sent if job[0] == "lesson.redaction.detect"]:
        sent.remove((name, args))
        redaction_jobs.detect(*args)
    for item_id in item_ids:
        path = f"/api/v1/lessons/{lesson_id}/items/{item_id}/redaction"
        redaction = approver.get(path).json()
        assert redaction["detection"] == "done", redaction
        approved = approver.post(f"{path}/approve", json={"version": redaction["version"]})
        assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text


@pytest.fixture(scope="module")
def built(trainer, selected, lesson, sent, live) -> dict:
    """Two items, added in one order and then reordered, their redactions approved by an admin."""
    first = trainer.post(
        f"/api/v1/lessons/{lesson['id']}/items",
        json={
            "clip_id": selected["id"],
            "in_point": 1.5,
            "out_point": 5.0,
            "title": "The greeting",
            "annotations": [{"at": 2.0, "text": "introduces himself by name"}],
        },
    )
    second = trainer.post(
        f"/api/v1/lessons/{lesson['id']}/items",
        json={
            "clip_id": selected["id"],
            "in_point": 6.0,
            "out_point": 11.25,
            "title": "Offers help",
            "annotations": [{"at": 10.0, "text": "offers water"}, {"at": 7.5, "text": "calm voice"}],
        },
    )
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    order = [second.json()["id"], first.json()["id"]]
    reordered = trainer.post(f"/api/v1/lessons/{lesson['id']}/items/reorder", json={"item_ids": order})
    assert reordered.status_code == 200, reordered.text
    _detect_and_approve(sent, live.admin, lesson["id"], order)
    return trainer.get(f"/api/v1/lessons/{lesson['id']}").json()


def test_a_lesson_lists_its_items_in_order_ready_to_play(built, selected):
    assert [item["title"] for item in built["items"]] == ["Offers help", "The greeting"]
    assert [item["position"] for item in built["items"]] == [0, 1]
    offers = built["items"][0]
    assert offers["proxy_url"] == f"/api/v1/clips/{selected['id']}/media/proxy.mp4"
    assert (offers["in_point"], offers["out_point"], offers["duration"]) == (6.0, 11.25, 5.25)
    assert [a["at"] for a in offers["annotations"]] == [7.5, 10.0]  # kept in time order
    assert offers["available"] is True and built["duration"] == 8.75


def test_a_reorder_must_name_every_item_once(trainer, built):
    ids = [item["id"] for item in built["items"]]
    refused = trainer.post(f"/api/v1/lessons/{built['id']}/items/reorder", json={"item_ids": ids[:1]})
    assert refused.status_code == 422 and "exactly once" in refused.json()["detail"]


def test_an_item_can_be_edited_and_the_clip_shows_the_lessons_using_it(trainer, built, selected):
    item = built["items"][1]
    edited = trainer.patch(
        f"/api/v1/lessons/{built['id']}/items/{item['id']}",
        json={"annotations": [{"at": 2.5, "text": "introduces himself by name"}]},
    )
    assert edited.status_code == 200 and edited.json()["annotations"][0]["at"] == 2.5
    bad = trainer.patch(f"/api/v1/lessons/{built['id']}/items/{item['id']}", json={"out_point": 1.0})
    assert bad.status_code == 422  # 1.0 is before its in point 1.5
    null = trainer.patch(f"/api/v1/lessons/{built['id']}/items/{item['id']}", json={"out_point": None})
    assert null.status_code == 422 and "both ends" in null.text
    using = trainer.get(f"/api/v1/clips/{selected['id']}/lessons").json()
    assert [(u["lesson_id"], sorted(u["item_ids"])) for u in using] == [
        (built["id"], sorted(i["id"] for i in built["items"]))
    ]


def test_lessons_can_be_reordered_within_a_course(trainer, built):
    course_id = built["course_id"]
    later = trainer.post(f"/api/v1/courses/{course_id}/lessons", json={"title": "Closing", "position": 0})
    assert later.status_code == 201 and later.json()["position"] == 0
    ids = [x["id"] for x in trainer.get(f"/api/v1/courses/{course_id}").json()["lessons"]]
    assert ids == [later.json()["id"], built["id"]]
    moved = trainer.patch(f"/api/v1/lessons/{later.json()['id']}", json={"position": 5})
    assert moved.status_code == 200 and moved.json()["position"] == 1
    course = trainer.post(f"/api/v1/courses/{course_id}/lessons/reorder", json={"lesson_ids": ids}).json()
    assert [x["id"] for x in course["lessons"]] == ids


def _exported(client, sent: list, lesson_id: int) -> dict:
    """Start an export over the API, check the job it sends, run the job body here."""
    started = client.post(f"/api/v1/lessons/{lesson_id}/exports")
    assert started.status_code == 202, started.text
    export = started.json()
    assert export["state"] == "queued" and export["download_url"] is None
    assert sent[-1] == ("lesson.export", (export["id"],))
    exports.export_lesson(export["id"])
    return client.get(f"/api/v1/exports/{export['id']}").json()


@pytest.fixture(scope="module")
def exported(trainer, sent, built) -> dict:
    return _exported(trainer, sent, built["id"])


@pytest.fixture(scope="module")
def archive(trainer, exported) -> zipfile.ZipFile:
    assert exported["state"] == "done", exported
    response = trainer.get(exported["download_url"])
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    assert hashlib.sha256(response.content).hexdigest() == exported["sha256"]
    assert len(response.content) == exported["size_bytes"]
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_the_manifest_keeps_the_order_times_annotations_and_hashes(archive, built, selected, live):
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["lesson"]["id"] == built["id"] and manifest["course"]["id"] == built["course_id"]
    assert manifest["exported_at"]
    items = manifest["items"]
    assert [i["item_id"] for i in items] == [i["id"] for i in built["items"]]
    assert [i["position"] for i in items] == [0, 1]
    assert [(i["in_point"], i["out_point"], i["duration"]) for i in items] == [(6.0, 11.25, 5.25), (1.5, 5.0, 3.5)]
    assert items[0]["annotations"] == [
        {"at": 7.5, "text": "calm voice", "offset": 1.5},
        {"at": 10.0, "text": "offers water", "offset": 4.0},
    ]
    proxy = next(
        a for a in live.admin.get(f"/api/v1/clips/{selected['id']}/provenance").json() if a["kind"] == "proxy.mp4"
    )
    for item in items:
        assert item["source_sha256"] == selected["sha256"] and item["proxy_sha256"] == proxy["sha256"]
        assert hashlib.sha256(archive.read(item["file"])).hexdigest() == item["file_sha256"]
    assert sorted(archive.namelist()) == sorted(
        ["manifest.json", "lesson.mp4", "lesson.vtt"] + [i["file"] for i in items] + [i["captions"] for i in items]
    )
    assert manifest["lesson_file"]["file_sha256"] == hashlib.sha256(archive.read("lesson.mp4")).hexdigest()
    assert {archive.getinfo(i["file"]).compress_type for i in items} == {zipfile.ZIP_STORED}


def test_each_segment_lasts_its_out_minus_in_point(archive, tmp_path):
    from media.probe import ProbeLimits, probe

    manifest = json.loads(archive.read("manifest.json"))
    for item in manifest["items"]:
        path = tmp_path / item["file"]
        path.write_bytes(archive.read(item["file"]))
        info = probe(path, ProbeLimits())
        assert abs(info.duration - (item["out_point"] - item["in_point"])) <= 0.1, (item, info)


def test_captions_are_webvtt_timed_within_their_segment(archive):
    manifest = json.loads(archive.read("manifest.json"))
    cues = 0
    for item in manifest["items"]:
        vtt = archive.read(item["captions"]).decode()
        assert vtt.startswith("WEBVTT")
        for groups in CUE.findall(vtt):
            start, end = _seconds(groups[:4]), _seconds(groups[4:])
            assert 0 <= start <= end <= item["duration"], (item["captions"], start, end)
            cues += 1
    assert cues >= 2  # the fixture speaks through both segments


def _seconds(parts) -> float:
    h, m, s, ms = (int(p) for p in parts)
    return h * 3600 + m * 60 + s + ms / 1000


def test_the_export_and_its_download_are_audited_and_a_rerun_changes_nothing(live, exported, archive, trainer):
    exports.export_lesson(exported["id"])  # done already: returns quietly
    assert trainer.get(f"/api/v1/exports/{exported['id']}").json() == exported
    audit = live.admin.get("/api/v1/audit", params={"action": "lesson.export", "object_type": "lesson"}).json()
    assert any(e["details"].get("export") == exported["id"] and e["actor"] == "trainer1" for e in audit)
    finished = live.admin.get(
        "/api/v1/audit", params={"action": "lesson.export.finish", "object_id": str(exported["id"])}
    ).json()
    assert len(finished) == 1 and finished[0]["outcome"] == "success"
    downloads = live.admin.get(
        "/api/v1/audit", params={"action": "lesson.export.download", "object_id": str(exported["id"])}
    ).json()
    assert downloads and downloads[0]["actor"] == "trainer1"


def test_an_export_whose_proxy_is_missing_fails_with_the_reason(trainer, sent, selected, built, live):
    proxy = next(live.data.glob(f"store/derived/*/{selected['sha256']}/proxy.mp4"))
    hidden = proxy.with_name("proxy.hidden")
    proxy.rename(hidden)
    try:
        failed = _exported(trainer, sent, built["id"])
    finally:
        hidden.rename(proxy)
    assert failed["state"] == "failed" and failed["download_url"] is None
    assert failed["error"] == f"the proxy of clip {selected['id']} is missing from the store"
    assert trainer.get(f"/api/v1/exports/{failed['id']}/download").status_code == 409


def test_an_empty_lesson_cannot_be_exported(trainer, built):
    empty = trainer.post(f"/api/v1/courses/{built['course_id']}/lessons", json={"title": "Empty"}).json()
    refused = trainer.post(f"/api/v1/lessons/{empty['id']}/exports")
    assert refused.status_code == 409 and refused.json()["detail"] == f"lesson {empty['id']} has no items to export"


def _wired(live) -> str | None:
    """Why the live worker cannot run an export yet, or None once it can."""
    from workers.queue import JOB_MODULES

    if "/api/v1/lessons/{lesson_id}/exports" not in live.admin.get("/openapi.json").json()["paths"]:
        return "api/app.py does not include the curriculum router yet"
    if JOB_MODULES.get("lesson.") != "workers.exports":
        return 'workers/queue.py does not map "lesson." to workers.exports yet'
    return None


def test_an_export_through_the_live_worker(live, built):
    if reason := _wired(live):
        pytest.skip(reason)
    client = httpx.Client(base_url=live.admin.base_url, headers=bearer(live.trainer), timeout=30)
    started = client.post(f"/api/v1/lessons/{built['id']}/exports")
    assert started.status_code == 202, started.text
    seen = []

    def done():
        export = client.get(f"/api/v1/exports/{started.json()['id']}").json()
        seen.append(export["progress"])
        return export if export["state"] in ("done", "failed") else None

    export = wait_until(done, 120, "the export did not finish in 120 s", 0.1)
    assert export["state"] == "done" and export["progress"] == 1.0, export
    assert seen == sorted(seen)  # progress only moves forward
    zipped = zipfile.ZipFile(io.BytesIO(client.get(export["download_url"]).content))
    assert len(zipped.namelist()) == 2 * len(built["items"]) + 3  # + lesson.mp4, lesson.vtt, manifest.json


def test_a_clip_no_longer_selected_blocks_the_export(live, trainer, built, selected):
    """Runs last: it takes the clip out of training."""
    revised = live.admin.post(
        f"/api/v1/review/{selected['id']}/decisions", json={"kind": "dismissed", "reason": "duplicate of another clip"}
    )
    assert revised.status_code == 201, revised.text
    assert all(not item["available"] for item in trainer.get(f"/api/v1/lessons/{built['id']}").json()["items"])
    refused = trainer.post(f"/api/v1/lessons/{built['id']}/exports")
    assert refused.status_code == 409 and "no longer selected for training" in refused.json()["detail"]
