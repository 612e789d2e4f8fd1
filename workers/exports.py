"""`lesson.export`: a lesson as one zip — each item rendered from its clip's proxy through its
APPROVED redaction (media.redact: faces blurred but the kept ones, drawn regions blurred, PII words
bleeped, the watermark "Training use only — internal" with the lesson, who exported it and when),
its captions as WebVTT (timed from the segment start, bleeped words as "[redacted]"), and
manifest.json tying them together with each file's provenance (parent hash, detector and version,
thresholds, the manual edits, the approver), and one stitched lesson.mp4 of the whole lesson for an
LMS (soft mov_text captions; burned in too when the export asked for it).

`lesson.release.render` renders one item's segment through its approved redaction for the governed
release (api/curriculum/release.py): the file the featured officer is shown and trainees play.
`RetentionWatch` is the periodic retention check the worker runs (expired sources withdrawn, their
exports revoked, trainers warned ahead).

The job takes an export id and opens its own sessions, each short: nothing holds a database lock
while ffmpeg runs. It claims the export once (queued → running), so a second run, or a second
worker, returns quietly; it works in a temp dir in the store, renames the finished zip into
store/exports/, and records done (size, SHA-256) or failed with the reason.
"""

import json
import logging
import os
import re
import shutil
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from api.clips.service import get_store
from api.clips.storage import sha256_file
from api.core.errors import ServiceError
from api.curriculum import release, service
from api.curriculum.redaction import DETECT_JOB, PREVIEW_JOB
from api.curriculum.release import RENDER_JOB
from api.curriculum.service import EXPORT_JOB, ExportPlan, SegmentPlan
from api.db import session_scope
from media.errors import MediaRejected, MediaToolError
from workers import redaction as redaction_jobs
from workers.queue import get_huey

log = logging.getLogger("bestpart.exports")
huey = get_huey()
CUTTING_SHARE = 0.75  # of the progress bar; stitching takes STITCHING_SHARE, zipping and publishing the rest
STITCHING_SHARE = 0.2
LESSON_FILE = "lesson.mp4"
LESSON_CAPTIONS = "lesson.vtt"
PROGRESS_INTERVAL = 0.5  # seconds between progress writes: one short transaction each


def export_lesson(export_id: int) -> None:
    """The job's body. Returns quietly when the export is gone or not queued (done, failed, or
    another worker has it)."""
    with session_scope() as session:
        if not service.claim_export(session, export_id):
            return
    log.info("lesson.export export=%s started", export_id)
    try:
        with session_scope() as session:
            plan = service.export_plan(session, export_id)
        _publish(export_id, build_zip(plan, Progress(export_id, len(plan.segments))))
    except Exception as exc:  # any failure is the export's result, told to the trainer
        log.exception("lesson.export export=%s failed", export_id)
        with session_scope() as session:
            service.fail_export(session, export_id, _reason(exc))
        return
    log.info("lesson.export export=%s done", export_id)


def build_zip(plan: ExportPlan, progress: "Progress") -> Path:
    """Cut every segment into a work dir and zip it all; returns the zip (a temp file in the store)."""
    store = get_store()
    work = store.temp_path()
    work.mkdir()
    try:
        entries = [_cut(plan, segment, work, progress) for segment in plan.segments]
        whole = stitch_lesson(work, entries, plan.burn_captions, lambda f: progress.stitched(f))
        document = manifest(plan, entries)
        document["lesson_file"] = whole
        (work / "manifest.json").write_text(json.dumps(document, indent=2, default=str))
        archive = store.temp_path(".zip")
        names = [e["file"] for e in entries] + [e["captions"] for e in entries]
        _zip(work, [LESSON_FILE, LESSON_CAPTIONS, *names, "manifest.json"], archive)
        return archive
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _cut(plan: ExportPlan, segment: SegmentPlan, work: Path, progress: "Progress") -> dict:
    """Cut one segment and write its captions; returns its manifest entry."""
    if not segment.proxy_path.is_file():
        raise FileNotFoundError(f"the proxy of clip {segment.clip_id} is missing from the store")
    stem = f"{segment.position + 1:02d}-{_slug(segment.title) or f'clip-{segment.clip_id}'}"
    video, captions = work / f"{stem}.mp4", work / f"{stem}.vtt"
    progress.at(segment.position, 0.0)
    report = redaction_jobs.render(
        segment.proxy_path,
        video,
        segment.in_point,
        segment.out_point,
        segment.redaction,
        watermark(plan),
        lambda f: progress.at(segment.position, f),
    )
    captions.write_text(
        redaction_jobs.redacted_captions(segment.redaction, segment.transcript, segment.in_point, segment.out_point)
    )
    progress.at(segment.position, 1.0)
    entry = manifest_item(segment, video.name, captions.name, sha256_file(video))
    entry["redaction"] = provenance(segment, report)
    entry["_stitch"] = _stitch_part(video, report)  # taken out before the manifest is written
    return entry


def _stitch_part(video: Path, report):
    from fractions import Fraction

    from media.cut import StitchPart

    rate = float(Fraction(report.frame_rate)) if report.frame_rate else 0.0
    duration = report.frames / rate if rate else report.end - report.start
    return StitchPart(video, round(duration, 6), report.width, report.height, report.audio != "none")


def stitch_lesson(work: Path, entries: list[dict], burn_captions: bool, on_progress=None) -> dict:
    """lesson.mp4: every segment in order in one file, its captions (lesson.vtt, each segment's
    shifted to where it starts) as a soft mov_text track, burned in as well when asked; returns its
    manifest entry (offsets of each segment in it, hashes)."""
    from api.config import get_settings
    from media import cut

    parts = [entry.pop("_stitch") for entry in entries]
    offsets, at = [], 0.0
    for part in parts:
        offsets.append(round(at, 6))
        at += part.duration
    captions = work / LESSON_CAPTIONS
    captions.write_text(
        cut.joined_captions(
            [((work / e["captions"]).read_text(), offset, p.duration) for e, offset, p in zip(entries, offsets, parts)]
        )
    )
    argv = cut.stitch(
        parts,
        captions,
        work / LESSON_FILE,
        timeout=get_settings().ffmpeg_timeout_seconds,
        burn_captions=burn_captions,
        on_progress=on_progress,
    )
    return {
        "file": LESSON_FILE,
        "file_sha256": sha256_file(work / LESSON_FILE),
        "captions": LESSON_CAPTIONS,
        "captions_sha256": sha256_file(captions),
        "caption_track": "mov_text (soft)",
        "burned_in_captions": burn_captions,
        "duration": round(at, 3),
        "segments": [
            {"item_id": e["item_id"], "file": e["file"], "offset": round(o, 3), "duration": round(p.duration, 3)}
            for e, o, p in zip(entries, offsets, parts)
        ],
        "encode_argv": [a for a in argv],
    }


def watermark(plan: ExportPlan) -> tuple[str, ...]:
    return redaction_jobs.watermark_lines(plan.lesson_title, plan.requested_by, plan.requested_at)


def provenance(segment: SegmentPlan, report) -> dict:
    """How this file was made: from which file, by which detector with which thresholds, with
    which of a reviewer's edits, approved by whom."""
    return {
        **segment.redaction.provenance,
        "parent_sha256": segment.proxy_sha256,
        "detector": report.detector,
        "thresholds": report.settings,
        "tracks": [
            {
                "id": t.id,
                "kept": t.kept,
                "first_time": t.first_time,
                "last_time": t.last_time,
                "frames": t.frames,
                "detections": t.detections,
            }
            for t in report.tracks
        ],
        "frames": report.frames,
        "frames_obscured": report.frames_with_faces,
        "audio": report.audio,
        "bleeps": report.bleeps,  # seconds into the file, padded and merged
        "watermark": report.watermark,
        "tool": "bestpart media.redact",
        "ffmpeg_version": report.ffmpeg_version,
        "encode_argv": report.encode_argv,
    }


def manifest(plan: ExportPlan, entries: list[dict]) -> dict:
    return {
        "format": "bestpart-lesson-export/1",
        "export_id": plan.export_id,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "course": {"id": plan.course_id, "title": plan.course_title},
        "lesson": {"id": plan.lesson_id, "title": plan.lesson_title, "summary": plan.lesson_summary},
        "exported_by": plan.requested_by,
        "requested_at": plan.requested_at.isoformat(timespec="seconds"),
        "watermark": list(watermark(plan)),
        "redacted": True,
        "items": entries,
    }


def manifest_item(segment: SegmentPlan, video: str, captions: str, video_sha256: str) -> dict:
    """Times are seconds in the clip; each annotation's `offset` is seconds into the segment file."""
    return {
        "position": segment.position,
        "item_id": segment.item_id,
        "title": segment.title,
        "clip_id": segment.clip_id,
        "source_sha256": segment.source_sha256,  # the original as uploaded: the evidence link
        "proxy_sha256": segment.proxy_sha256,  # the file actually cut
        "in_point": segment.in_point,
        "out_point": segment.out_point,
        "duration": round(segment.out_point - segment.in_point, 3),
        "file": video,
        "file_sha256": video_sha256,
        "captions": captions,
        "annotations": [{**note, "offset": round(note["at"] - segment.in_point, 3)} for note in segment.annotations],
    }


def _zip(folder: Path, names: list[str], archive: Path) -> None:
    """MP4s are stored as they are (already compressed); captions and the manifest are deflated."""
    with zipfile.ZipFile(archive, "w") as zf:
        for name in names:
            kind = zipfile.ZIP_STORED if name.endswith(".mp4") else zipfile.ZIP_DEFLATED
            zf.write(folder / name, arcname=name, compress_type=kind)


def _publish(export_id: int, archive: Path) -> None:
    store = get_store()
    final = store.root / "exports" / f"{export_id}.zip"
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        size, digest = archive.stat().st_size, sha256_file(archive)
        os.replace(archive, final)  # the same file system: readers see all of it or nothing
    finally:
        archive.unlink(missing_ok=True)
    with session_scope() as session:
        recorded = service.finish_export(session, export_id, store.relative(final), size, digest)
    if not recorded:  # the lesson was deleted while we worked: keep nothing
        final.unlink(missing_ok=True)


class Progress:
    """Overall progress from (segment, fraction of it), written at most every PROGRESS_INTERVAL."""

    def __init__(self, export_id: int, segments: int):
        self.export_id = export_id
        self.segments = segments
        self.written_at = 0.0

    def at(self, segment: int, fraction: float) -> None:
        moment = time.monotonic()
        if moment - self.written_at < PROGRESS_INTERVAL and fraction not in (0.0, 1.0):
            return
        self.written_at = moment
        with session_scope() as session:
            service.set_export_progress(session, self.export_id, CUTTING_SHARE * (segment + fraction) / self.segments)

    def stitched(self, fraction: float) -> None:
        moment = time.monotonic()
        if moment - self.written_at < PROGRESS_INTERVAL and fraction not in (0.0, 1.0):
            return
        self.written_at = moment
        with session_scope() as session:
            service.set_export_progress(session, self.export_id, CUTTING_SHARE + STITCHING_SHARE * fraction)


# --- the governed release: one item's segment rendered for the officer and the player ----------


def render_for_release(render_id: int) -> None:
    """The `lesson.release.render` job's body: the item's segment through its approved redaction,
    watermarked, with its redacted captions, renamed into store/releases/."""
    with session_scope() as session:
        if not release.claim_render(session, render_id):
            return
    store = get_store()
    work = store.temp_path()
    work.mkdir()
    try:
        with session_scope() as session:
            plan = release.render_job_plan(session, render_id)
        if plan is None:
            return
        segment = plan.segment
        if not segment.proxy_path.is_file():
            raise FileNotFoundError(f"the proxy of clip {segment.clip_id} is missing from the store")
        video, captions = work / "segment.mp4", work / "segment.vtt"
        lines = redaction_jobs.watermark_lines(
            plan.lesson_title, plan.requested_by, plan.requested_at, verb="Released for training by"
        )
        report = redaction_jobs.render(
            segment.proxy_path, video, segment.in_point, segment.out_point, segment.redaction, lines
        )
        captions.write_text(
            redaction_jobs.redacted_captions(segment.redaction, segment.transcript, segment.in_point, segment.out_point)
        )
        folder = store.root / "releases" / f"lesson-{plan.lesson_id}"
        folder.mkdir(parents=True, exist_ok=True)
        final_video, final_captions = folder / f"render-{render_id}.mp4", folder / f"render-{render_id}.vtt"
        digest = sha256_file(video)
        os.replace(captions, final_captions)
        os.replace(video, final_video)
        part = _stitch_part(final_video, report)
        with session_scope() as session:
            release.finish_render(
                session,
                render_id,
                store.relative(final_video),
                store.relative(final_captions),
                digest,
                round(part.duration, 3),
                provenance(segment, report),
            )
    except Exception as exc:
        log.exception("lesson.release.render render=%s failed", render_id)
        with session_scope() as session:
            release.fail_render(session, render_id, _reason(exc))
    finally:
        shutil.rmtree(work, ignore_errors=True)


class RetentionWatch:
    """The periodic retention check, at most every BESTPART_RELEASE_RETENTION_CHECK_MINUTES: the
    worker's reconciler loop calls `check()` on each pass (workers/worker.py)."""

    def __init__(self):
        self.last = None

    def check(self) -> None:
        from api.redaction.settings import get_redaction_settings

        every = get_redaction_settings().release_retention_check_minutes * 60
        moment = time.monotonic()
        if self.last is not None and moment - self.last < every:
            return
        self.last = moment
        try:
            with session_scope() as session:
                swept = service.sweep_retention(session)
            if swept.withdrawn or swept.revoked or swept.warned:
                log.info(
                    "retention: %s segments withdrawn, %s exports revoked, %s expiry warnings",
                    len(swept.withdrawn),
                    len(swept.revoked),
                    len(swept.warned),
                )
        except Exception:  # a database hiccup must not end the reconciler
            log.exception("the retention check failed")


def _slug(title: str | None) -> str:
    """A file name from a trainer's title: never a path, never odd characters."""
    return re.sub(r"[^a-z0-9]+", "-", (title or "").lower()).strip("-")[:40].strip("-")


def _reason(exc: Exception) -> str:
    from media.faces import DetectorUnavailable

    if isinstance(exc, (MediaToolError, MediaRejected, ServiceError, FileNotFoundError, DetectorUnavailable)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


@huey.task(name=EXPORT_JOB)
def export_task(export_id: int) -> None:
    export_lesson(export_id)


@huey.task(name=DETECT_JOB)
def detect_task(redaction_id: int) -> None:
    """Faces and spoken PII of a lesson item's segment (workers/redaction.py)."""
    redaction_jobs.detect(redaction_id)


@huey.task(name=PREVIEW_JOB)
def preview_task(redaction_id: int) -> None:
    """A few seconds of a lesson item's redaction as it stands (workers/redaction.py)."""
    redaction_jobs.preview(redaction_id)


@huey.task(name=RENDER_JOB)
def release_render_task(render_id: int) -> None:
    """One item's segment rendered for the governed release (api/curriculum/release.py)."""
    render_for_release(render_id)


# Every "lesson." job is registered here: its message names this module (api.core.jobs).
JOBS = {EXPORT_JOB: export_task, DETECT_JOB: detect_task, PREVIEW_JOB: preview_task, RENDER_JOB: release_render_task}
