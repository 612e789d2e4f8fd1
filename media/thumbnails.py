"""Poster, timeline sprite and WebVTT thumbnails track, from keyframes only.

One ffmpeg run decodes only the keyframes (`-skip_frame nokey`), scaled down, as raw BGR frames on
a pipe; `showinfo` tells each frame's time and its size as decoded (a stream may change its
picture size at any keyframe: each is held to the caps, not only the header the probe read). We
score every keyframe for the poster and keep, for each of at most MAX_TILES slices of the
timeline, its first keyframe as the sprite tile: memory stays bounded whatever the clip's length.
"""

import math
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from media import ffmpeg
from media.decode_errors import DecodeErrorCounter
from media.errors import MediaRejected, MediaToolError
from media.probe import VideoInfo

MAX_TILES = 100
SPRITE_COLUMNS = 10
TILE_WIDTH = 160
SCAN_MAX_WIDTH = 960
_PTS_TIME = re.compile(r"\bpts_time:\s*(-?[0-9.]+)")
_FRAME_SIZE = re.compile(r"\bs:(\d+)x(\d+)")


@dataclass
class Keyframe:
    time: float
    image: np.ndarray


@dataclass
class ThumbnailSet:
    poster: Keyframe
    tiles: list[Keyframe]  # in time order, at most MAX_TILES
    keyframes_seen: int
    argv: list[str] = field(default_factory=list)


def even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def scan_size(info: VideoInfo) -> tuple[int, int]:
    width = min(info.width, SCAN_MAX_WIDTH)
    return even(width), even(width * info.height / info.width)


def keyframe_scan_argv(src: Path, size: tuple[int, int], limits: ffmpeg.Limits = ffmpeg.DEFAULT_LIMITS) -> list[str]:
    width, height = size
    return [
        *ffmpeg.base_args("info"),  # showinfo reports frame times at info level
        *ffmpeg.input_args(src, skip_nonkey_frames=True, limits=limits),
        "-map",
        "0:v:0",
        "-an",
        "-sn",
        "-dn",
        # showinfo before the scale: it reports each keyframe as decoded, not as scaled.
        "-vf",
        f"showinfo,scale={width}:{height}:flags=area",
        "-fps_mode",
        "passthrough",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "pipe:1",
    ]


def frame_score(image: np.ndarray) -> float:
    """Higher for sharp, well exposed, busy frames; zero for black, blown out or flat ones."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    mean, std = float(gray.mean()) / 255, float(gray.std()) / 255
    if mean < 0.08 or mean > 0.95 or std < 0.02:
        return 0.0
    sharpness = float(cv2.Laplacian(gray, cv2.CV_64F).var())
    exposure = 1.0 - abs(mean - 0.5) * 2
    return math.log1p(sharpness) * (0.5 + exposure) * min(1.0, std * 8)


def scan_keyframes(
    src: Path, info: VideoInfo, timeout: float, limits: ffmpeg.Limits = ffmpeg.DEFAULT_LIMITS
) -> ThumbnailSet:
    size = scan_size(info)
    argv = keyframe_scan_argv(src, size, limits)
    times = _TimeFeed()
    errors = DecodeErrorCounter("video")
    sizes = _SizeCheck(limits)

    def on_stderr(line: str) -> None:
        match = _PTS_TIME.search(line)
        if match:
            times.append(float(match.group(1)))
            sizes.check(line, match.group(1))
        elif _is_decoder_error(line):
            errors(line)

    picker = _Picker(info.duration)

    def read_frames(stdout) -> None:
        frame_bytes = size[0] * size[1] * 3
        while (chunk := stdout.read(frame_bytes)) and len(chunk) == frame_bytes:
            image = np.frombuffer(chunk, np.uint8).reshape(size[1], size[0], 3)
            picker.offer(times.get(picker.count), image)

    done = ffmpeg.run(argv, timeout=timeout, read_stdout=read_frames, on_stderr_line=on_stderr, limits=limits)
    sizes.raise_first()
    errors.check()
    if picker.count == 0:
        ffmpeg.check_exit(done, "the video's keyframes could not be decoded")
        raise MediaRejected("the video holds no decodable keyframe")
    return picker.result(argv)


class _SizeCheck:
    """The first keyframe, as decoded, that is larger than the caps."""

    def __init__(self, limits: ffmpeg.Limits):
        self.limits = limits
        self.first: str | None = None

    def check(self, showinfo_line: str, time: str) -> None:
        match = _FRAME_SIZE.search(showinfo_line)
        if self.first is None and match and not self.limits.fits(int(match.group(1)), int(match.group(2))):
            self.first = (
                f"the picture at {float(time):.2f} s is {match.group(1)}x{match.group(2)}; the largest "
                f"accepted is {self.limits.max_width}x{self.limits.max_height} "
                "(the picture size changes inside the stream)"
            )

    def raise_first(self) -> None:
        if self.first:
            raise MediaRejected(self.first)


def _is_decoder_error(line: str) -> bool:
    """At info level ffmpeg also prints its banner; decoder complaints come prefixed by a codec."""
    return not line.startswith(" ") and bool(re.match(r"^\[(h264|hevc|mjpeg|mpeg4|vp[89]|av1|aac|dec:|vist)", line))


class _TimeFeed:
    """Frame times as showinfo reports them on stderr, which may trail the frames on stdout."""

    def __init__(self):
        self._times: list[float] = []
        self._arrived = threading.Condition()

    def append(self, time: float) -> None:
        with self._arrived:
            self._times.append(time)
            self._arrived.notify_all()

    def get(self, index: int, wait: float = 5.0) -> float:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self._times) > index, timeout=wait)
            return self._times[index] if len(self._times) > index else float("nan")


class _Picker:
    """Keeps the best-scoring keyframe and the first keyframe of each timeline slice."""

    def __init__(self, duration: float):
        self.slices = min(MAX_TILES, max(1, math.ceil(duration)))
        self.duration = max(duration, 0.001)
        self.count = 0
        self.best: tuple[float, Keyframe] | None = None
        self.tiles: dict[int, Keyframe] = {}

    def offer(self, time: float, image: np.ndarray) -> None:
        self.count += 1
        score = frame_score(image)
        if self.best is None or score > self.best[0]:
            self.best = (score, Keyframe(time, image.copy()))
        if math.isnan(time):
            return
        slot = min(self.slices - 1, max(0, int(time / self.duration * self.slices)))
        if slot not in self.tiles:
            height, width = image.shape[:2]
            tile = cv2.resize(image, (TILE_WIDTH, even(TILE_WIDTH * height / width)), interpolation=cv2.INTER_AREA)
            self.tiles[slot] = Keyframe(time, tile)

    def result(self, argv: list[str]) -> ThumbnailSet:
        if self.best is None:
            raise MediaRejected("the video holds no decodable keyframe")
        return ThumbnailSet(
            poster=self.best[1],
            tiles=[self.tiles[slot] for slot in sorted(self.tiles)],
            keyframes_seen=self.count,
            argv=argv,
        )


def write_poster(thumbs: ThumbnailSet, dst: Path) -> None:
    _write_jpeg(dst, thumbs.poster.image, quality=88)


def write_sprite(thumbs: ThumbnailSet, dst: Path) -> tuple[int, int]:
    """Tiles in rows of SPRITE_COLUMNS; returns the tile size."""
    tile_h, tile_w = thumbs.tiles[0].image.shape[:2]
    columns = min(SPRITE_COLUMNS, len(thumbs.tiles))
    rows = math.ceil(len(thumbs.tiles) / columns)
    sheet = np.zeros((rows * tile_h, columns * tile_w, 3), np.uint8)
    for i, tile in enumerate(thumbs.tiles):
        y, x = divmod(i, columns)
        sheet[y * tile_h : (y + 1) * tile_h, x * tile_w : (x + 1) * tile_w] = tile.image
    _write_jpeg(dst, sheet, quality=80)
    return tile_w, tile_h


def thumbnails_vtt(thumbs: ThumbnailSet, duration: float, sprite_url: str) -> str:
    """A WebVTT track whose cues point into the sprite with #xywh= fragments."""
    tile_h, tile_w = thumbs.tiles[0].image.shape[:2]
    columns = min(SPRITE_COLUMNS, len(thumbs.tiles))
    lines = ["WEBVTT", ""]
    for i, tile in enumerate(thumbs.tiles):
        start = 0.0 if i == 0 else tile.time
        end = thumbs.tiles[i + 1].time if i + 1 < len(thumbs.tiles) else duration
        y, x = divmod(i, columns)
        lines += [
            f"{vtt_time(start)} --> {vtt_time(max(end, start + 0.001))}",
            f"{sprite_url}#xywh={x * tile_w},{y * tile_h},{tile_w},{tile_h}",
            "",
        ]
    return "\n".join(lines)


def vtt_time(seconds: float) -> str:
    millis = round(max(seconds, 0) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def _write_jpeg(dst: Path, image: np.ndarray, quality: int) -> None:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise MediaToolError("JPEG encoding failed")
    dst.write_bytes(data.tobytes())
