"""The pipeline's stage bodies as Huey tasks, one per stage of api.clips.stages.PIPELINE (which
declares each stage: its name, what it runs after, and which body here runs it); and the rescore job.

Every task takes a clip id, opens its own session, holds the stage's lease while it works (a
heartbeat thread renews it and reports progress), writes into the store's tmp dir, renames into
place, and records the result with its provenance. A clip that is gone, finished or rejected is
left alone, so any task may safely run twice.
"""

import importlib
import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

from huey import crontab

from api.clips import recognition, stages, transcripts
from api.clips.models import Asset, Clip, StageName
from api.clips.service import get_store
from api.clips.storage import sha256_file
from api.config import get_settings
from api.db import session_scope
from api.fixity.service import sweep as fixity_sweep
from api.recognition import detect
from media import audio, ffmpeg, proxy, thumbnails, transcribe
from media.errors import MediaRejected
from media.probe import ProbeLimits, VideoInfo, probe
from workers import hearing
from workers.queue import get_huey

log = logging.getLogger("bestpart.pipeline")
huey = get_huey()
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
AUDIO_SLACK_SECONDS = 1.0  # audio may run a frame past the video's end


class StageContext:
    """What a stage body gets: the clip's original, its media info, and a progress reporter."""

    def __init__(self, clip_id: int, clip: Clip):
        self.clip_id = clip_id
        self.badge = clip.badge_number
        self.sha256 = clip.sha256
        self.original = get_store().original_path(clip.sha256)
        self.info = VideoInfo.from_dict(clip.media_info) if clip.media_info else None
        self.progress = 0.0
        self.assets: list[Asset] = []
        self.media_info: dict | None = None
        self.writes: list[Callable] = []  # (session) -> None: recorded with the stage, in its transaction
        self.timeout = get_settings().ffmpeg_timeout_seconds
        self.limits = child_limits()

    @property
    def video(self) -> VideoInfo:
        """What the probe found: every stage after it runs with it."""
        if self.info is None:
            raise RuntimeError(f"clip {self.clip_id} has no media info, so the probe has not run")
        return self.info

    def report(self, fraction: float) -> None:
        self.progress = fraction

    def publish(
        self, temp: Path, name: str, content_type: str, tool: str, tool_version: str, arguments: list[str]
    ) -> None:
        final = get_store().publish(temp, self.sha256, name)
        self.assets.append(
            Asset(
                clip_id=self.clip_id,
                kind=name,
                path=get_store().relative(final),
                content_type=content_type,
                size_bytes=final.stat().st_size,
                sha256=sha256_file(final),
                parent_sha256=self.sha256,
                tool=tool,
                tool_version=tool_version,
                arguments=_by_role(arguments, {str(self.original): "<original>", str(temp): "<output>"}),
            )
        )


def run_stage(clip_id: int, stage: StageName, body: Callable[[StageContext], None]) -> None:
    settings = get_settings()
    with session_scope() as session:
        if not stages.take_lease(session, clip_id, stage, WORKER_ID, settings.stage_lease_seconds):
            return
        clip = session.get(Clip, clip_id)
        if clip is None:  # removed between the lease and now
            return
        ctx = StageContext(clip_id, clip)
    log.info("clip.%s clip=%s started", stage.value, clip_id)
    lost = threading.Event()
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(ctx, stage, stop, lost), daemon=True)
    beat.start()
    try:
        body(ctx)
    except MediaRejected as exc:
        reason = str(exc)
        _end(lambda s: stages.reject(s, clip_id, stage, WORKER_ID, reason), stop, beat)
        log.info("clip.%s clip=%s rejected: %s", stage.value, clip_id, reason)
        return
    except Exception as exc:  # our side: record it and let the stage retry
        log.exception("clip.%s clip=%s failed", stage.value, clip_id)
        message = f"{type(exc).__name__}: {exc}"[:1000]
        retry = _end(lambda s: stages.fail(s, clip_id, stage, WORKER_ID, message), stop, beat)
        if retry:
            JOBS[stages.job_name(stage)].schedule((clip_id,), delay=5)
        return
    _end(lambda s: _record(s, ctx, stage), stop, beat)
    log.info("clip.%s clip=%s done", stage.value, clip_id)


def _record(session, ctx: StageContext, stage: StageName) -> None:
    if not stages.finish(session, ctx.clip_id, stage, WORKER_ID):
        log.warning("clip.%s clip=%s lost its lease; result discarded", stage.value, ctx.clip_id)
        session.rollback()
        return
    if ctx.media_info is not None:
        stages.save_media_info(session, ctx.clip_id, ctx.media_info)
    for asset in ctx.assets:
        stages.record_asset(session, asset)
    for write in ctx.writes:
        write(session)


def _end(action, stop: threading.Event, beat: threading.Thread):
    stop.set()
    beat.join()
    with session_scope() as session:
        return action(session)


def _heartbeat(ctx: StageContext, stage: StageName, stop: threading.Event, lost: threading.Event) -> None:
    interval = max(0.2, get_settings().stage_lease_seconds / 4)
    while not stop.wait(interval):
        with session_scope() as session:
            if not stages.heartbeat(session, ctx.clip_id, stage, WORKER_ID, ctx.progress):
                lost.set()
                return


def _by_role(arguments: list[str], roles: dict[str, str]) -> list[str]:
    """Provenance names files by their role, not by where this machine happens to keep them."""
    named = []
    for argument in arguments:
        path = argument.removeprefix("file:")
        if argument == ffmpeg.ffmpeg_exe():
            argument = "ffmpeg"
        elif path in roles:
            argument = roles[path]
        elif path.startswith("/"):
            argument = "<file>"
        named.append(argument)
    return named


# --- the stages -------------------------------------------------------------------------------


def child_limits() -> ffmpeg.Limits:
    """What every child process on a clip may use, and the largest picture any decoder accepts."""
    settings = get_settings()
    return ffmpeg.Limits(
        memory_bytes=settings.child_memory_bytes,
        cpu_seconds=settings.child_cpu_seconds,
        max_width=settings.max_width,
        max_height=settings.max_height,
    )


def probe_body(ctx: StageContext) -> None:
    settings = get_settings()
    limits = ProbeLimits(settings.max_width, settings.max_height, settings.max_duration_seconds, settings.max_streams)
    ctx.media_info = probe(ctx.original, limits, child_limits=ctx.limits).to_dict()


def thumbnails_body(ctx: StageContext) -> None:
    store = get_store()
    thumbs = thumbnails.scan_keyframes(ctx.original, ctx.video, ctx.timeout, ctx.limits)
    ctx.report(0.8)
    tool, version = "bestpart.thumbnails+ffmpeg+opencv", ffmpeg.ffmpeg_version()
    poster, sprite, vtt = store.temp_path(".jpg"), store.temp_path(".jpg"), store.temp_path(".vtt")
    thumbnails.write_poster(thumbs, poster)
    thumbnails.write_sprite(thumbs, sprite)
    vtt.write_text(thumbnails.thumbnails_vtt(thumbs, ctx.video.duration, "sprite.jpg"))
    ctx.publish(poster, "poster.jpg", "image/jpeg", tool, version, thumbs.argv)
    ctx.publish(sprite, "sprite.jpg", "image/jpeg", tool, version, thumbs.argv)
    ctx.publish(vtt, "thumbnails.vtt", "text/vtt", tool, version, thumbs.argv)


def proxy_body(ctx: StageContext) -> None:
    temp = get_store().temp_path(".mp4")
    try:
        argv = proxy.make_proxy(ctx.original, temp, ctx.video, ctx.timeout, ctx.report, ctx.limits)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    ctx.publish(temp, "proxy.mp4", "video/mp4", "ffmpeg", ffmpeg.ffmpeg_version(), argv)


def transcript_body(ctx: StageContext) -> None:
    """Whisper's words and who said them (workers.hearing); the officer's voiceprint, enrolled from
    earlier clips, helps find the wearer, and this clip's officer voice refines it."""
    store = get_store()
    model = hearing.resolve_model()
    if ctx.video.has_audio:
        badge = ctx.badge
        with session_scope() as session:
            voiceprint = transcripts.voiceprint(session, badge)
        samples = audio.decode_audio(ctx.original, ctx.timeout, audio_seconds(ctx.video), ctx.limits)
        heard = hearing.hear(samples, model, voiceprint, ctx.report)
        result, officer = heard.transcript, heard.speakers and heard.speakers.officer_voice()
        if badge and officer is not None:
            ctx.writes.append(lambda session: transcripts.enroll_voice(session, badge, officer))
    else:
        result = transcribe.Transcript(language=None, model=model.name, segments=[])
    as_json, captions = store.temp_path(".json"), store.temp_path(".vtt")
    as_json.write_text(json.dumps(result.to_dict()))
    captions.write_text(transcribe.captions_vtt(result))
    arguments = [f"{key}={value}" for key, value in hearing.transcribe_options().as_kwargs().items()]
    version = (
        f"faster-whisper {_version('faster-whisper')}, model {model.name}, speakers resemblyzer 0.1.4 encoder (NumPy)"
    )
    ctx.publish(as_json, "transcript.json", "application/json", "faster-whisper", version, arguments)
    ctx.publish(captions, "captions.vtt", "text/vtt", "faster-whisper", version, arguments)


def audio_seconds(info: VideoInfo) -> float:
    """How much sound to decode: the clip's probed length (a track cannot be longer than the
    clip it is in), never more than the longest clip accepted."""
    return min(info.duration + AUDIO_SLACK_SECONDS, get_settings().max_duration_seconds)


def recognize_body(ctx: StageContext) -> None:
    with session_scope() as session:
        transcript = transcripts.read(session, ctx.clip_id)
    if transcript is None:  # our side (the transcript stage said done): fail, and retry
        raise RuntimeError("transcript.json is not recorded for this clip")
    rules = recognition.current_rules()
    found = detect(transcript, rules)  # outside any transaction: detection holds no database lock
    ctx.writes.append(lambda session: recognition.save_recognition(session, ctx.clip_id, found, rules, transcript))


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def _task(spec: stages.StageSpec):
    """The Huey task of one declared stage, registered under its job name (`clip.probe`)."""
    module, _, function = spec.body.partition(":")
    body: Callable[[StageContext], None] = getattr(importlib.import_module(module), function)

    @huey.task(name=spec.job)
    def task(clip_id: int) -> None:
        run_stage(clip_id, spec.name, body)

    return task


@huey.task(name="clips.rescore")
def rescore_task() -> None:
    rescore_stale_clips()


def rescore_stale_clips() -> int:
    """Score every ready clip again whose rules digest differs from the rules in force. Ids come in
    batches; each clip is its own short transaction, so uploads never wait long on SQLite's lock."""
    rules = recognition.current_rules()
    after, count = 0, 0
    while rules.digest == recognition.current_rules().digest:  # edited again: the next job takes over
        with session_scope() as session:
            clip_ids = recognition.stale_clip_ids(session, rules.digest, after)
        if not clip_ids:
            break
        for clip_id in clip_ids:
            with session_scope() as session:
                recognition.rescore_clip(session, clip_id, rules)
        after, count = clip_ids[-1], count + len(clip_ids)
    log.info("clips.rescore: %s clips scored with rules version %s (%s)", count, rules.version, rules.digest[:12])
    return count


def _every(minutes: int):
    return crontab(minute=f"*/{minutes}") if minutes < 60 else crontab(minute="0", hour=f"*/{minutes // 60}")


if get_settings().fixity_interval_minutes > 0:

    @huey.periodic_task(_every(get_settings().fixity_interval_minutes), name="fixity.sweep")
    @huey.lock_task("fixity.sweep")  # a sweep that outlasts the interval is not joined by a second
    def fixity_sweep_task() -> None:
        log.info("fixity.sweep: %s clips checked", fixity_sweep(get_settings().fixity_batch))


JOBS = {spec.job: _task(spec) for spec in stages.PIPELINE} | {"clips.rescore": rescore_task}
