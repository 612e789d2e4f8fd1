"""Decode a clip's first audio track to what Whisper eats: 16 kHz mono float32.

Bounded: ffmpeg decodes at most `max_seconds` (`-t`), and the reader refuses more bytes than that
many seconds make, in case a crafted track's timestamps make `-t` stop late. Nothing a file
declares decides how much memory its audio takes.
"""

from pathlib import Path

import numpy as np

from media import ffmpeg
from media.decode_errors import DecodeErrorCounter
from media.errors import MediaRejected

SAMPLE_RATE = 16000
BYTES_PER_SECOND = SAMPLE_RATE * 4  # mono float32
DEFAULT_MAX_SECONDS = 12 * 3600.0
SLACK_SECONDS = 1.0  # the resampler may overshoot `-t` by a frame or two
CHUNK = 1 << 20


def audio_argv(
    src: Path, max_seconds: float = DEFAULT_MAX_SECONDS, limits: ffmpeg.Limits = ffmpeg.DEFAULT_LIMITS
) -> list[str]:
    return [
        *ffmpeg.base_args("error"),
        *ffmpeg.input_args(src, limits=limits),
        "-map",
        "0:a:0",
        "-vn",
        "-sn",
        "-dn",
        "-ac",
        "1",
        "-ar",
        str(SAMPLE_RATE),
        "-t",
        f"{max_seconds:.3f}",
        "-f",
        "f32le",
        "pipe:1",
    ]


def max_bytes(max_seconds: float) -> int:
    return int((max_seconds + SLACK_SECONDS) * BYTES_PER_SECOND)


def read_bounded(stdout, limit: int, data: bytearray) -> None:
    """All of stdout into data, or MediaRejected as soon as it passes `limit` bytes (the runner
    then stops ffmpeg)."""
    while chunk := stdout.read(CHUNK):
        data += chunk
        if len(data) > limit:
            raise MediaRejected(
                f"the audio track decodes to more than the {limit // BYTES_PER_SECOND} s of sound its clip can hold"
            )


def decode_audio(
    src: Path, timeout: float, max_seconds: float = DEFAULT_MAX_SECONDS, limits: ffmpeg.Limits = ffmpeg.DEFAULT_LIMITS
) -> np.ndarray:
    """The first audio track, at most max_seconds of it. Raises MediaRejected for a track that
    does not decode."""
    decoded = bytearray()
    errors = DecodeErrorCounter("audio")

    def read(stdout) -> None:
        read_bounded(stdout, max_bytes(max_seconds), decoded)

    argv = audio_argv(src, max_seconds, limits)
    done = ffmpeg.run(argv, timeout=timeout, read_stdout=read, on_stderr_line=errors, limits=limits)
    errors.check()
    ffmpeg.check_exit(done, "the audio track could not be decoded")
    usable = len(decoded) - len(decoded) % 4  # a track cut mid-sample leaves a partial one
    return np.frombuffer(decoded, np.float32, count=usable // 4)
