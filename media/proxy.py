"""The browser-playable proxy: H.264/AAC MP4 with +faststart.

Streams that already play in every browser are copied (a remux costs a read and a write); only the
others are encoded, the picture at most 720 lines on its short side, with rotation applied.
"""

from dataclasses import dataclass
from pathlib import Path

from media import ffmpeg
from media.probe import VideoInfo
from media.thumbnails import even

MAX_SHORT_SIDE = 720
BROWSER_PIXEL_FORMATS = {"yuv420p", "yuvj420p"}


@dataclass(frozen=True)
class ProxyPlan:
    copy_video: bool
    copy_audio: bool
    size: tuple[int, int]  # displayed size of the proxy


def plan_proxy(info: VideoInfo) -> ProxyPlan:
    copy_video = (
        info.video_codec == "h264"
        and info.pixel_format in BROWSER_PIXEL_FORMATS
        and info.rotation == 0  # not every player honours the display matrix: bake it in
    )
    copy_audio = info.audio_codec in (None, "aac")
    return ProxyPlan(copy_video, copy_audio, (info.width, info.height) if copy_video else proxy_size(info))


def proxy_size(info: VideoInfo) -> tuple[int, int]:
    scale = min(1.0, MAX_SHORT_SIDE / min(info.width, info.height))
    return even(info.width * scale), even(info.height * scale)


def proxy_argv(
    src: Path, dst: Path, info: VideoInfo, plan: ProxyPlan, limits: ffmpeg.Limits = ffmpeg.DEFAULT_LIMITS
) -> list[str]:
    argv = [*ffmpeg.base_args("error"), *ffmpeg.input_args(src, limits=limits), "-map", "0:v:0"]
    if info.has_audio:
        argv += ["-map", "0:a:0"]
    if plan.copy_video:
        argv += ["-c:v", "copy"]
    else:
        width, height = plan.size
        argv += [
            "-vf",
            f"scale={width}:{height}",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-pix_fmt",
            "yuv420p",
            "-profile:v",
            "high",
        ]
    if info.has_audio:
        argv += ["-c:a", "copy"] if plan.copy_audio else ["-c:a", "aac", "-b:a", "128k", "-ac", "2"]
    return argv + [
        "-sn",
        "-dn",
        "-map_metadata",
        "-1",
        "-movflags",
        "+faststart",
        *ffmpeg.PROGRESS_ARGS,
        "-f",
        "mp4",
        "-y",
        f"file:{dst}",
    ]


def make_proxy(
    src: Path,
    dst: Path,
    info: VideoInfo,
    timeout: float,
    on_progress=None,
    limits: ffmpeg.Limits = ffmpeg.DEFAULT_LIMITS,
) -> list[str]:
    """Write the proxy to dst; returns the argv used (for provenance).

    Raises MediaRejected when ffmpeg cannot remux or convert the file's streams."""
    plan = plan_proxy(info)
    argv = proxy_argv(src, dst, info, plan, limits)

    on_line = ffmpeg.progress_reader(info.duration, on_progress)
    done = ffmpeg.run(argv, timeout=timeout, on_stderr_line=on_line, limits=limits)
    ffmpeg.check_exit(done, _failure(plan))
    return argv


def _failure(plan: ProxyPlan) -> str:
    if plan.copy_video and plan.copy_audio:
        return "the video stream could not be remuxed"
    return "the video could not be converted for the browser"
