"""The one ffmpeg runner, and the argv pieces every call shares.

Every input is hostile: argv lists only (never a shell), inputs as `file:` URLs, only the `file`
protocol, only the container demuxers we support (so HLS, concat and image2 playlists, which can
pull in other local files, are refused by libavformat itself), a bounded probe, and a wall-clock
timeout that terminates and then kills.
"""

import collections
import re
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO

import imageio_ffmpeg

from media.errors import MediaToolError

# libavformat demuxer names: MP4/MOV, Matroska/WebM, AVI.
ALLOWED_DEMUXERS = ("mov", "mp4", "matroska", "webm", "avi")
PROBE_SIZE_BYTES = 32 * 1024 * 1024
ANALYZE_MICROSECONDS = 20_000_000
STDERR_TAIL_LINES = 40


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


@cache
def ffmpeg_version() -> str:
    out = subprocess.run([ffmpeg_exe(), "-version"], capture_output=True, text=True, timeout=30)
    return out.stdout.splitlines()[0] if out.stdout else "unknown"


def input_args(path: Path, *, skip_nonkey_frames: bool = False) -> list[str]:
    """The options that must precede every hostile input, then the input itself."""
    args = [
        "-protocol_whitelist", "file",
        "-format_whitelist", ",".join(ALLOWED_DEMUXERS),
        "-probesize", str(PROBE_SIZE_BYTES),
        "-analyzeduration", str(ANALYZE_MICROSECONDS),
    ]
    if skip_nonkey_frames:
        args += ["-skip_frame", "nokey"]
    return args + ["-i", f"file:{Path(path).resolve()}"]


def base_args(loglevel: str = "error") -> list[str]:
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", loglevel]


@dataclass
class Completed:
    argv: list[str]
    returncode: int
    stderr_tail: list[str]


def run(
    argv: list[str],
    *,
    timeout: float,
    read_stdout: Callable[[IO[bytes]], None] | None = None,
    on_stderr_line: Callable[[str], None] | None = None,
) -> Completed:
    """Run ffmpeg; stream stdout to `read_stdout`, stderr lines to `on_stderr_line`.

    Raises MediaToolError on timeout. The caller decides what a non-zero exit means.
    """
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if read_stdout else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    stderr_reader = threading.Thread(
        target=_drain_stderr, args=(proc.stderr, tail, on_stderr_line), daemon=True
    )
    stderr_reader.start()
    timed_out = threading.Event()
    watchdog = threading.Timer(timeout, _stop, args=(proc, timed_out))
    watchdog.start()
    try:
        if read_stdout:
            read_stdout(proc.stdout)
            proc.stdout.read()  # drain whatever the reader left, so ffmpeg can exit
        proc.wait()
    except BaseException:
        _stop(proc, timed_out)
        raise
    finally:
        watchdog.cancel()
        stderr_reader.join(timeout=5)
    if timed_out.is_set():
        raise MediaToolError(f"ffmpeg ran past its {timeout:.0f} s limit and was stopped")
    return Completed(argv=argv, returncode=proc.returncode, stderr_tail=list(tail))


def _drain_stderr(stream, tail, on_line) -> None:
    for raw in stream:
        line = raw.decode("utf-8", "replace").rstrip()
        if not line:
            continue
        tail.append(line)
        if on_line:
            on_line(line)


def _stop(proc: subprocess.Popen, timed_out: threading.Event) -> None:
    """Terminate, then kill whatever does not exit within five seconds."""
    if proc.poll() is not None:
        return
    timed_out.set()
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()


_ADDRESS = re.compile(r"^\[[^\]]+ @ 0x[0-9a-f]+\]\s*")


def error_summary(lines: list[str], limit: int = 3) -> str:
    """The last few distinct stderr lines without ffmpeg's `[demuxer @ 0x..]` prefixes or paths."""
    seen: list[str] = []
    for line in reversed(lines):
        text = _ADDRESS.sub("", line).replace("file:", "")
        text = re.sub(r"/\S+", "<file>", text)
        if text and text not in seen:
            seen.append(text)
        if len(seen) == limit:
            break
    return "; ".join(reversed(seen)) or "no message"
