"""The redaction jobs of lesson items, and the render that exports share with them.

`lesson.redaction.detect` runs the face detector and tracker over the item's segment of its
clip's proxy (media.redact, every face obscured, the copy thrown away: what is kept is where each
track was) and finds the spoken PII in the segment's transcript (api.redaction.pii); it replaces
the detected tracks and words of the item's redaction. `lesson.redaction.preview` renders a few
seconds of the redaction as it stands, for the editor.

Each job takes a redaction id, opens its own short sessions, claims its work once (queued →
running) and returns quietly when the row is gone. Heavy imports (OpenCV, the detector, presidio)
happen inside the jobs. The Huey tasks are registered in workers/exports.py: every "lesson." job's
message names that module (api.core.jobs).
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from fractions import Fraction
from pathlib import Path

from api.clips.service import get_store
from api.config import get_settings
from api.core.errors import ServiceError
from api.curriculum import redaction as redactions
from api.curriculum.redaction import OVERLAY_EVERY, RenderPlan
from api.db import session_scope
from api.redaction.settings import get_redaction_settings

log = logging.getLogger("bestpart.redaction")
PREVIEW_MARK = "PREVIEW - not approved for training"


# --- detection -----------------------------------------------------------------------------------


def detect(redaction_id: int) -> None:
    """The detection job's body."""
    with session_scope() as session:
        if not redactions.claim_detection(session, redaction_id):
            return
    log.info("lesson.redaction.detect redaction=%s started", redaction_id)
    try:
        with session_scope() as session:
            plan = redactions.detection_plan(session, redaction_id)
        if plan is None:
            return
        result = run_detection(plan)
        with session_scope() as session:
            redactions.finish_detection(session, redaction_id, result)
    except Exception as exc:  # told to the trainer on the editor page
        log.exception("lesson.redaction.detect redaction=%s failed", redaction_id)
        with session_scope() as session:
            redactions.fail_detection(session, redaction_id, reason(exc))
        return
    log.info("lesson.redaction.detect redaction=%s done", redaction_id)


def run_detection(plan: redactions.DetectionPlan) -> redactions.DetectionResult:
    from media import redact

    boxes: dict[int, list[tuple[int, list[float]]]] = {}

    def on_frame(index: int, regions) -> None:
        for track_id, box in regions:
            if isinstance(track_id, int):
                boxes.setdefault(track_id, []).append((index, [round(v, 1) for v in box.to_list()]))

    if not plan.proxy_path.is_file():
        raise FileNotFoundError(f"the proxy of clip {plan.clip_id} is missing from the store")
    out = get_store().temp_path(".mp4")
    try:
        report = redact.redact_segment(
            plan.proxy_path,
            out,
            plan.in_point,
            plan.out_point,
            redact.RedactionPlan(watermark=("detection pass",)),
            timeout=get_settings().ffmpeg_timeout_seconds,
            on_frame=on_frame,
        )
    finally:
        out.unlink(missing_ok=True)
    rate = Fraction(report.frame_rate)
    tracks = []
    for summary in report.tracks:
        if not isinstance(summary.id, int):
            continue
        seen = boxes.get(summary.id, [])
        sampled = [s for n, s in enumerate(seen) if n % OVERLAY_EVERY == 0 or n == len(seen) - 1]
        tracks.append(
            redactions.DetectedTrack(
                track_no=summary.id,
                keyframes=[{"t": round(plan.in_point + i / float(rate), 3), "box": b} for i, b in sampled],
                first_time=summary.first_time,
                last_time=summary.last_time,
                first_detected_frame=summary.first_detected_frame,
                last_detected_frame=summary.last_detected_frame,
                detections=summary.detections,
            )
        )
    return redactions.DetectionResult(
        in_point=plan.in_point,
        out_point=plan.out_point,
        proxy_sha256=plan.proxy_sha256,
        detector=report.detector,
        settings=report.settings,
        frame_rate=report.frame_rate,
        width=report.width,
        height=report.height,
        tracks=tracks,
        words=spoken_pii(plan.transcript, plan.in_point, plan.out_point, plan.officer_name, plan.keep_officer_name),
    )


def spoken_pii(
    transcript: dict | None, in_point: float, out_point: float, officer_name: str | None, keep_officer_name: bool
) -> list[redactions.DetectedWords]:
    """The PII runs said within [in_point, out_point], one per transcript segment they touch."""
    if not transcript or not transcript.get("segments"):
        return []
    from api.redaction.pii import find_pii

    segments = transcript["segments"]
    found = []
    for span in find_pii(transcript, officer_name=officer_name, keep_officer_name=keep_officer_name):
        if span.end <= in_point or span.start >= out_point:
            continue
        for s in range(span.first[0], span.last[0] + 1):
            words = segments[s].get("words") or []
            a = span.first[1] if s == span.first[0] else 0
            b = span.last[1] if s == span.last[0] else max(0, len(words) - 1)
            run = words[a : b + 1]
            found.append(
                redactions.DetectedWords(
                    kind=span.kind,
                    segment=s,
                    first_word=a,
                    last_word=b,
                    start=float(run[0]["start"]) if run else span.start,
                    end=float(run[-1]["end"]) if run else span.end,
                    text=" ".join(str(w.get("word", "")).strip() for w in run) if run else span.text,
                    speaker=span.speaker,
                )
            )
    return found


# --- rendering (exports and previews) -------------------------------------------------------------


def watermark_lines(
    lesson_title: str, exported_by: str, at: datetime, first: str | None = None, verb: str = "Exported by"
) -> tuple[str, ...]:
    return (
        first or get_redaction_settings().redaction_watermark,
        f"Lesson: {lesson_title}",
        f"{verb} {exported_by} {at.strftime('%Y-%m-%d %H:%M')} UTC",
    )


def render(
    src: Path,
    out: Path,
    in_point: float,
    out_point: float,
    plan: RenderPlan,
    watermark: tuple[str, ...],
    on_progress=None,
    check_tracks: bool = True,
):
    """Render [in_point, out_point] of src to out through media.redact as the redaction says:
    every face blurred except the kept tracks, the drawn regions blurred, the words bleeped, the
    watermark burned in. Refuses (MediaToolError) when a kept track is not the face it was when
    the redaction was approved: a kept face must never be someone else's."""
    from media import redact
    from media.errors import MediaToolError
    from media.faces import Box
    from media.tracking import Keyframe, ManualTrack

    manual = tuple(
        ManualTrack(tuple(Keyframe(float(t), Box(*map(float, box))) for t, box in keyframes), label=label)
        for label, keyframes in plan.manual_tracks
    )
    report = redact.redact_segment(
        src,
        out,
        in_point,
        out_point,
        redact.RedactionPlan(
            watermark=watermark, keep_track_ids=plan.keep_track_nos, manual_tracks=manual, bleeps=plan.bleeps
        ),
        timeout=get_settings().ffmpeg_timeout_seconds,
        on_progress=on_progress,
    )
    if check_tracks:
        now_found = {t.id: (t.first_detected_frame, t.last_detected_frame) for t in report.tracks}
        for track_no in sorted(plan.keep_track_nos):
            if now_found.get(track_no) != plan.expected_tracks.get(track_no):
                out.unlink(missing_ok=True)
                raise MediaToolError(
                    f"the faces found now differ from the approved redaction (kept track {track_no}): "
                    "run the detection again and approve it again"
                )
    return report


def bleep_spans(plan: RenderPlan, transcript: dict | None):
    """The bleeped runs as api.redaction.pii spans, for the captions' "[redacted]"."""
    from api.redaction.pii import PiiSpan

    segments = (transcript or {}).get("segments") or []
    spans = []
    for segment, first, last in plan.bleep_words:
        if segment < len(segments):
            spans.append(PiiSpan("name", (segment, first), (segment, last), 0.0, 0.0, "", None, "bleep"))
    return spans


def redacted_captions(plan: RenderPlan, transcript: dict | None, in_point: float, out_point: float) -> str:
    from api.redaction.pii import redact_transcript
    from media import cut

    redacted = redact_transcript(transcript, bleep_spans(plan, transcript)) if transcript else None
    return cut.segment_captions(redacted, in_point, out_point)


# --- preview -------------------------------------------------------------------------------------


def preview(redaction_id: int) -> None:
    """The preview job's body: a few seconds of the redaction as it stands, watermarked PREVIEW."""
    with session_scope() as session:
        if not redactions.claim_preview(session, redaction_id):
            return
    store = get_store()
    work = store.temp_path(".mp4")
    try:
        with session_scope() as session:
            job = redactions.preview_job(session, redaction_id)
        if job is None:
            return
        render(
            job.proxy_path,
            work,
            job.start,
            job.end,
            job.plan,
            watermark_lines(job.lesson_title, job.requested_by, job.requested_at, first=PREVIEW_MARK),
            check_tracks=False,
        )
        final = store.root / "previews" / f"redaction-{redaction_id}.mp4"
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(work, final)
        with session_scope() as session:
            redactions.finish_preview(session, redaction_id, store.relative(final))
    except Exception as exc:
        log.exception("lesson.redaction.preview redaction=%s failed", redaction_id)
        with session_scope() as session:
            redactions.finish_preview(session, redaction_id, None, reason(exc))
    finally:
        work.unlink(missing_ok=True)


def reason(exc: Exception) -> str:
    from media.errors import MediaRejected, MediaToolError
    from media.faces import DetectorUnavailable

    if isinstance(exc, (MediaToolError, MediaRejected, ServiceError, FileNotFoundError, DetectorUnavailable)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
