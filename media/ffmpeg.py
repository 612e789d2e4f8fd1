"""The one runner for child processes on hostile files, and the argv pieces every ffmpeg call shares.

Every input is hostile: argv lists only (never a shell), inputs as `file:` URLs, only the `file`
protocol, only the container demuxers we support (so HLS, concat and image2 playlists, which can
pull in other local files, are refused by libavformat itself), a bounded probe, a pixel cap on
every decoder (a stream may change its picture size at any keyframe, long after the header the
probe read), and a wall-clock timeout that terminates and then kills. Every child also runs under
rlimits on address space and CPU time, so no file can make a tool take the machine with it.
"""

import collections
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO

import imageio_ffmpeg

from media.errors import MediaRejected, MediaToolError

# libavformat demuxer names: MP4/MOV, Matroska/WebM, AVI.
ALLOWED_DEMUXERS = ("mov", "mp4", "matroska", "webm", "avi")
PROBE_SIZE_BYTES = 32 * 1024 * 1024
ANALYZE_MICROSECONDS = 20_000_000
STDERR_TAIL_LINES = 40
GIB = 1024**3
# Decoders pad the coded picture (to macroblocks, and more for their own alignment): the pixel cap
# allows this much on each side, and the exact width/height cap is checked on the decoded frames.
CODED_PADDING = 128


@dataclass(frozen=True)
class Limits:
    """What a child process working on a hostile file may use, and the largest picture it accepts."""

    # RLIMIT_AS counts address space, not resident memory: threads' stacks and malloc arenas
    # reserve far more than they touch, so this needs headroom over what a decode really uses.
    memory_bytes: int = 4 * GIB
    cpu_seconds: int = 24 * 3600  # RLIMIT_CPU: all threads together, so several times the wall clock
    max_width: int = 4096
    max_height: int = 4096

    @property
    def max_pixels(self) -> int:
        return (self.max_width + CODED_PADDING) * (self.max_height + CODED_PADDING)

    def fits(self, width: int, height: int) -> bool:
        """Whether a picture is within the caps, either way round (a rotated camera swaps them)."""
        return max(width, height) <= max(self.max_width, self.max_height) and min(width, height) <= min(
            self.max_width, self.max_height
        )

    def wrap(self, argv: list[str]) -> list[str]:
        """argv run under these rlimits: a small Python sets them, then becomes the tool (exec)."""
        return [
            sys.executable,
            "-S",
            "-I",
            "-c",
            _SET_LIMITS_THEN_EXEC,
            str(self.memory_bytes),
            str(self.cpu_seconds),
            *argv,
        ]


DEFAULT_LIMITS = Limits()

# Not preexec_fn: that forks the multi-threaded worker and runs Python in the child before exec,
# and a fork while CTranslate2's OpenMP threads run Whisper hung the worker for good. Without
# preexec_fn, subprocess starts the child with vfork/exec, which runs none of the parent's code.
# A soft CPU limit sends SIGXCPU; the hard one, 5 s later, SIGKILL if that was ignored. No core
# dump: a crash on a hostile file must not leave its memory on disk.
_SET_LIMITS_THEN_EXEC = """\
import os, resource, sys
memory, cpu = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
os.execv(sys.argv[3], sys.argv[3:])
"""


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


@cache
def ffmpeg_version() -> str:
    out = subprocess.run([ffmpeg_exe(), "-version"], capture_output=True, text=True, timeout=30, check=False)
    return out.stdout.splitlines()[0] if out.stdout else "unknown"


def input_args(path: Path, *, skip_nonkey_frames: bool = False, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """The options that must precede every hostile input, then the input itself."""
    args = [
        "-protocol_whitelist",
        "file",
        "-format_whitelist",
        ",".join(ALLOWED_DEMUXERS),
        "-probesize",
        str(PROBE_SIZE_BYTES),
        "-analyzeduration",
        str(ANALYZE_MICROSECONDS),
        # A codec option: every decoder refuses a picture above it, whenever in the stream it comes.
        "-max_pixels",
        str(limits.max_pixels),
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


def spawn(argv: list[str], limits: Limits, stdin=subprocess.DEVNULL, **popen_kwargs) -> subprocess.Popen[bytes]:
    """The one place a child process is started: under the rlimits, never through a shell. Its
    stdin is closed unless the caller pipes frames into it (stdin=subprocess.PIPE)."""
    return subprocess.Popen(limits.wrap(argv), stdin=stdin, **popen_kwargs)


def run(
    argv: list[str],
    *,
    timeout: float,
    read_stdout: Callable[[IO[bytes]], None] | None = None,
    on_stderr_line: Callable[[str], None] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Completed:
    """Run a tool on a hostile file; stream stdout to `read_stdout`, stderr lines to `on_stderr_line`.

    Raises MediaToolError on timeout, and MediaRejected when the file made the tool crash, run out
    of its memory or CPU time, or meet a picture over the cap. The caller decides what any other
    non-zero exit means (`check_exit`).
    """
    proc = spawn(argv, limits, stdout=subprocess.PIPE if read_stdout else subprocess.DEVNULL, stderr=subprocess.PIPE)
    watch = _StderrWatch(on_stderr_line)
    stderr_reader = threading.Thread(target=watch.drain, args=(proc.stderr,), daemon=True)
    stderr_reader.start()
    timed_out = threading.Event()
    watchdog = threading.Timer(timeout, _stop, args=(proc, timed_out))
    watchdog.start()
    try:
        if read_stdout and proc.stdout is not None:
            read_stdout(proc.stdout)
            _discard(proc.stdout)  # whatever the reader left, so the tool can exit
        proc.wait()
    except BaseException:
        _stop(proc, timed_out)
        raise
    finally:
        watchdog.cancel()
        stderr_reader.join(timeout=5)
    if timed_out.is_set():
        raise MediaToolError(f"{_tool(argv)} ran past its {timeout:.0f} s limit and was stopped")
    done = Completed(argv=argv, returncode=proc.returncode, stderr_tail=list(watch.tail))
    _reject_what_the_file_did(done, watch, limits)
    return done


def check_exit(done: Completed, failure: str) -> None:
    """A non-zero exit on a file the probe accepted is the file's doing: MediaRejected, saying
    `failure` and ffmpeg's last error. Unless ffmpeg names a fault of ours (disk, permissions, a
    missing encoder): then MediaToolError, and the stage is tried again."""
    if done.returncode == 0:
        return
    errors = [line for line in done.stderr_tail if not is_progress_line(line)]
    message = f"{failure}: {error_summary(errors, limit=1)}"
    if any(_our_fault(line, done.argv) for line in errors):
        raise MediaToolError(message)
    raise MediaRejected(message)


# Faults of this machine: they count when ffmpeg names one of our own files beside them.
_SYSTEM_ERROR = re.compile(
    r"No space left|Disk quota|Read-only file system|Permission denied"
    r"|Too many open files|No such file or directory|Input/output error"
)
_BUILD_ERROR = re.compile(r"Unknown encoder|Encoder not found|Unrecognized option")  # our argv or ffmpeg build


def _our_fault(line: str, argv: list[str]) -> bool:
    if _BUILD_ERROR.search(line):
        return True
    ours = [arg.removeprefix("file:") for arg in argv if arg.startswith("file:")]
    return bool(_SYSTEM_ERROR.search(line)) and any(path in line for path in ours)


_PROGRESS = re.compile(r"^[a-z_0-9]+=\S*$")  # `-progress` key=value lines
# Put before the output: ffmpeg then writes its progress to stderr as key=value lines, which
# `progress_reader` turns into fractions. The one place progress is parsed.
PROGRESS_ARGS = ["-progress", "pipe:2", "-nostats"]
AAC_ARGS = ["-c:a", "aac", "-b:a", "128k"]


def h264_args(crf: int) -> list[str]:
    """The video codec of every derivative: H.264 in yuv420p, which every browser plays."""
    return ["-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf), "-pix_fmt", "yuv420p"]


def mp4_output_args(dst: Path) -> list[str]:
    """The output of every MP4 derivative: none of the source's metadata, the index up front for
    streaming, progress on stderr, written to exactly dst."""
    return [
        "-map_metadata",
        "-1",
        "-movflags",
        "+faststart",
        *PROGRESS_ARGS,
        "-f",
        "mp4",
        "-y",
        f"file:{Path(dst).resolve()}",
    ]


def is_progress_line(line: str) -> bool:
    """A `-progress` key=value line, not a message."""
    return bool(_PROGRESS.match(line))


def progress_reader(
    duration: float | None, on_progress: Callable[[float], None] | None
) -> Callable[[str], None] | None:
    """An `on_stderr_line` for `run` that reports 0..1 of `duration` from the `out_time_us=` lines
    of a run with PROGRESS_ARGS; None when there is nobody to tell, or no length to measure by."""
    if on_progress is None or not duration or duration <= 0:
        return None

    def on_line(line: str) -> None:
        key, _, value = line.partition("=")
        if key != "out_time_us":
            return
        try:
            on_progress(min(1.0, max(0.0, int(value) / 1e6 / duration)))
        except ValueError:  # ffmpeg prints N/A before the first frame
            pass

    return on_line


_OVERSIZE = re.compile(r"Picture size (\d+)x(\d+) (exceeds specified max pixel count|is invalid)")
_OUT_OF_MEMORY = "Cannot allocate memory"
# What a decoder does on a crafted file; SIGXCPU and SIGKILL are the CPU rlimit's soft and hard ends.
_CRASHES = {
    signal.SIGSEGV,
    signal.SIGBUS,
    signal.SIGABRT,
    signal.SIGFPE,
    signal.SIGILL,
    signal.SIGXCPU,
    signal.SIGKILL,
    signal.SIGSYS,
    signal.SIGTRAP,
}
MAX_LINE_BYTES = 4096


class _StderrWatch:
    """Keeps the last lines of a child's stderr, passes each on, and notes what the file did."""

    def __init__(self, on_line: Callable[[str], None] | None):
        self.tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self.on_line = on_line
        self.oversize: tuple[int, int, bool] | None = None  # width, height, over the cap (else invalid)
        self.out_of_memory = False

    def drain(self, stream) -> None:
        # Bounded reads: a crafted file can make a tool print one endless line.
        while raw := stream.readline(MAX_LINE_BYTES):
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self._note(line)

    def _note(self, line: str) -> None:
        self.tail.append(line)
        if self.oversize is None and (match := _OVERSIZE.search(line)):
            self.oversize = (int(match.group(1)), int(match.group(2)), match.group(3).startswith("exceeds"))
        self.out_of_memory |= _OUT_OF_MEMORY in line
        if self.on_line:
            self.on_line(line)


def _reject_what_the_file_did(done: Completed, watch: _StderrWatch, limits: Limits) -> None:
    tool = _tool(done.argv)
    if watch.oversize:
        width, height, over_cap = watch.oversize
        if not over_cap:
            raise MediaRejected(f"a picture in the video stream has an impossible size, {width}x{height}")
        raise MediaRejected(
            f"a picture in the video stream needs {width}x{height} pixels; the largest "
            f"accepted is {limits.max_width}x{limits.max_height}"
        )
    if done.returncode < 0 and -done.returncode in _CRASHES:
        raise MediaRejected(_death(tool, signal.Signals(-done.returncode), limits))
    if done.returncode != 0 and watch.out_of_memory:
        raise MediaRejected(
            f"{tool} needed more than the {limits.memory_bytes / GIB:.1f} GiB of memory one tool may use on this file"
        )


def _death(tool: str, sig: signal.Signals, limits: Limits) -> str:
    if sig == signal.SIGXCPU:
        return f"{tool} used up the {limits.cpu_seconds} s of CPU time one tool may spend on a file"
    if sig == signal.SIGKILL:  # the CPU limit's hard end, or the kernel out of memory
        return f"{tool} was killed (SIGKILL) on this file: past its CPU time or memory"
    return f"{tool} crashed on this file ({sig.name})"


def _tool(argv: list[str]) -> str:
    """The tool's name for a message: never the path this machine keeps it at."""
    if argv[0] == ffmpeg_exe():
        return "ffmpeg"
    return "the probe" if "media.probe" in argv else Path(argv[0]).name


def _discard(stream) -> None:
    while stream.read(1 << 16):
        pass


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


_ADDRESS = re.compile(r"^(?:\[[^\]]+ @ 0x[0-9a-f]+\]\s*)+")  # `[h264 @ 0x..] [IMGUTILS @ 0x..] `


def error_summary(lines: list[str], limit: int = 3) -> str:
    """The last few distinct stderr lines without ffmpeg's `[demuxer @ 0x..]` prefixes or paths."""
    seen: list[str] = []
    for line in reversed(lines):
        text = mask_paths(_ADDRESS.sub("", line).replace("file:", ""))
        if text and text not in seen:
            seen.append(text)
        if len(seen) == limit:
            break
    return "; ".join(reversed(seen)) or "no message"


_PATH = re.compile(r"(?<![\w.])/[^\s'\":,]+")  # a path, not a ratio such as 2/16


def mask_paths(text: str) -> str:
    """Text for the uploader: where this machine keeps files is none of their business."""
    return _PATH.sub("<file>", text)
