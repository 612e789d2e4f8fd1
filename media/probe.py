"""Probe a hostile file with PyAV, in a child process with a timeout, into a typed VideoInfo.

The child process (started by the one runner, under its rlimits) keeps a demuxer crash, hang or
runaway allocation away from the worker; the parent only ever sees JSON. Anything the file makes
the child do short of a JSON answer it wrote itself is the file's doing, and a rejection. Run as
`python -m media.probe FILE LIMITS_JSON`.
"""

import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from media import ffmpeg
from media.errors import MediaRejected, MediaToolError
from media.ffmpeg import ALLOWED_DEMUXERS, ANALYZE_MICROSECONDS, PROBE_SIZE_BYTES
from media.sniff import SNIFF_BYTES, sniff_container

# A clip whose packets stop this far short of its declared duration was cut off.
TRUNCATION_TOLERANCE = 0.9


@dataclass(frozen=True)
class ProbeLimits:
    max_width: int = 4096
    max_height: int = 4096
    max_duration_seconds: float = 12 * 3600
    max_streams: int = 16
    # Shorter than this is no clip to review: and a duration that rounds to 0 breaks every stage.
    min_duration_seconds: float = 0.1

    @property
    def picture(self) -> ffmpeg.Limits:
        return ffmpeg.Limits(max_width=self.max_width, max_height=self.max_height)


@dataclass(frozen=True)
class VideoInfo:
    container: str
    duration: float
    width: int  # as displayed, after rotation
    height: int
    rotation: int  # degrees clockwise the player must turn the coded picture
    video_codec: str
    pixel_format: str | None
    frame_rate: float | None
    audio_codec: str | None
    audio_channels: int | None
    audio_sample_rate: int | None
    stream_count: int
    bit_rate: int | None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "VideoInfo":
        return cls(**data)


MAX_ANSWER_BYTES = 1 << 20


def probe(
    path: Path, limits: ProbeLimits, timeout: float = 60.0, child_limits: ffmpeg.Limits = ffmpeg.DEFAULT_LIMITS
) -> VideoInfo:
    """Probe in a child process. Raises MediaRejected (bad file) or MediaToolError (our side)."""
    with open(path, "rb") as f:
        sniff_container(f.read(SNIFF_BYTES))
    argv = probe_argv(path, limits)
    answer = bytearray()

    def read(stdout) -> None:
        answer.extend(stdout.read(MAX_ANSWER_BYTES))

    try:
        done = ffmpeg.run(argv, timeout=timeout, read_stdout=read, limits=child_limits)
    except MediaToolError:  # only a timeout: the file kept the demuxer busy
        raise MediaRejected(f"probing the file took longer than {timeout:.0f} s") from None
    try:
        result = json.loads(answer.decode().strip().splitlines()[-1])
    except (IndexError, ValueError, UnicodeDecodeError):
        # No answer at all, and no signal (the runner rejects those): the interpreter could not
        # start the probe, which is our side.
        raise MediaToolError(
            f"the probe process died (exit {done.returncode}): {ffmpeg.error_summary(done.stderr_tail, limit=1)}"
        ) from None
    if "rejected" in result:
        raise MediaRejected(result["rejected"])
    return VideoInfo.from_dict(result["info"])


def probe_argv(path: Path, limits: ProbeLimits) -> list[str]:
    return [sys.executable, "-m", "media.probe", str(path), json.dumps(asdict(limits))]


def probe_in_process(path: Path, limits: ProbeLimits) -> VideoInfo:
    import av

    options = {
        "protocol_whitelist": "file",
        "format_whitelist": ",".join(ALLOWED_DEMUXERS),
        "probesize": str(PROBE_SIZE_BYTES),
        "analyzeduration": str(ANALYZE_MICROSECONDS),
    }
    try:
        container = av.open(f"file:{path}", options=options, metadata_errors="ignore")
    except av.FFmpegError as exc:
        raise MediaRejected(f"the file cannot be read as a video: {_av_message(exc)}") from None
    with container:
        info = _describe(container, limits)
        rotation = _first_frame_rotation(container, limits)
        _check_complete(container, info.duration)
    return VideoInfo(**{**asdict(info), "rotation": rotation, **_displayed(info, rotation)})


def _describe(container, limits: ProbeLimits) -> VideoInfo:
    if not set(container.format.name.split(",")) & set(ALLOWED_DEMUXERS):
        raise MediaRejected(f"container format {container.format.name!r} is not accepted")
    if len(container.streams) > limits.max_streams:
        raise MediaRejected(f"the file has {len(container.streams)} streams; at most {limits.max_streams} are accepted")
    if not container.streams.video:
        raise MediaRejected("the file has no video stream")
    video = container.streams.video[0]
    vctx = video.codec_context
    if not vctx or not vctx.width or not vctx.height:
        raise MediaRejected("the video stream declares no picture size")
    if vctx.width > limits.max_width or vctx.height > limits.max_height:
        raise MediaRejected(
            f"the video is {vctx.width}x{vctx.height}; the largest accepted is {limits.max_width}x{limits.max_height}"
        )
    duration = _checked_duration(_duration(container, video), limits)
    if duration > limits.max_duration_seconds:
        raise MediaRejected(
            f"the video lasts {duration:.0f} s; the longest accepted is {limits.max_duration_seconds:.0f} s"
        )
    audio = container.streams.audio[0] if container.streams.audio else None
    actx = audio.codec_context if audio else None
    return VideoInfo(
        container=container.format.name,
        duration=duration,
        width=vctx.width,
        height=vctx.height,
        rotation=0,
        video_codec=vctx.name,
        pixel_format=vctx.format.name if vctx.format else None,
        frame_rate=float(video.average_rate) if video.average_rate else None,
        audio_codec=actx.name if actx else None,
        audio_channels=actx.channels if actx else None,
        audio_sample_rate=actx.sample_rate if actx else None,
        stream_count=len(container.streams),
        bit_rate=container.bit_rate or None,
    )


def _duration(container, video) -> float:
    if container.duration:
        return container.duration / 1_000_000
    if video.duration and video.time_base:
        return float(video.duration * video.time_base)
    return 0.0


def _checked_duration(duration: float, limits: ProbeLimits) -> float:
    """The declared duration, rounded as recorded; missing, zero, negative or NaN is a rejection."""
    if not math.isfinite(duration):
        raise MediaRejected(f"the file declares an invalid duration ({duration})")
    duration = round(duration, 3)
    if duration < 0:
        raise MediaRejected(f"the file declares a negative duration ({duration:.3f} s)")
    if duration == 0:
        raise MediaRejected("the file declares no duration (0 s)")
    if duration < limits.min_duration_seconds:
        raise MediaRejected(
            f"the video lasts {duration:.3f} s; the shortest accepted is {limits.min_duration_seconds} s"
        )
    return duration


def _first_frame_rotation(container, limits: ProbeLimits) -> int:
    """Decode the first video frame: proves the stream decodes, and gives its display rotation.

    The decoder gets the pixel cap: the first frame may carry a picture size of its own, larger
    than the header's."""
    import av

    video = container.streams.video[0]
    video.codec_context.options = {"max_pixels": str(limits.picture.max_pixels)}
    try:
        for frame in container.decode(video):
            if not limits.picture.fits(frame.width, frame.height):
                raise MediaRejected(
                    f"the first picture is {frame.width}x{frame.height}; the largest "
                    f"accepted is {limits.max_width}x{limits.max_height}"
                )
            # PyAV reports counter-clockwise degrees; players and we speak clockwise.
            return round(-frame.rotation) % 360
    except av.FFmpegError as exc:
        raise MediaRejected(f"the video stream does not decode: {_av_message(exc)}") from None
    raise MediaRejected("the video stream holds no decodable frame")


def _check_complete(container, duration: float) -> None:
    """Read every packet (no decoding): finds files cut off or broken in their structure."""
    import av

    last_end = 0.0
    try:
        container.seek(0)
        for packet in container.demux():
            if packet.pts is not None and packet.time_base:
                end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
                last_end = max(last_end, end)
    except av.FFmpegError as exc:
        raise MediaRejected(f"the file is damaged: {_av_message(exc)}") from None
    start = (container.start_time or 0) / 1_000_000
    if last_end - start < duration * TRUNCATION_TOLERANCE:
        raise MediaRejected(
            f"the file is truncated: its media ends at {last_end - start:.1f} s of a declared {duration:.1f} s"
        )


def _displayed(info: VideoInfo, rotation: int) -> dict:
    if rotation in (90, 270):
        return {"width": info.height, "height": info.width}
    return {}


def _av_message(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(": '")[0]  # PyAV appends the file name; never echo paths back


def _main() -> None:
    path, limits = Path(sys.argv[1]), ProbeLimits(**json.loads(sys.argv[2]))
    answer: dict[str, object]
    try:
        answer = {"info": probe_in_process(path, limits).to_dict()}
    except MediaRejected as exc:
        answer = {"rejected": str(exc)}
    except MemoryError:  # the rlimit on address space: the file asked for more than a probe may use
        answer = {"rejected": "probing the file needed more memory than a probe may use"}
    except Exception as exc:  # noqa: BLE001  PyAV (or we) tripped on what the file holds
        answer = {"rejected": f"the file cannot be probed: {_unexpected(exc)}"}
    print(json.dumps(answer))


def _unexpected(exc: Exception) -> str:
    """An exception's type and message for the uploader, with no path in it."""
    return ffmpeg.mask_paths(f"{type(exc).__name__}: {exc}")[:300]


if __name__ == "__main__":
    _main()
