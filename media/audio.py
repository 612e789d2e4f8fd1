"""Decode a clip's first audio track to what Whisper eats: 16 kHz mono float32."""

from pathlib import Path

import numpy as np

from media import ffmpeg
from media.decode_errors import DecodeErrorCounter
from media.errors import MediaToolError

SAMPLE_RATE = 16000


def audio_argv(src: Path) -> list[str]:
    return [
        *ffmpeg.base_args("error"),
        *ffmpeg.input_args(src),
        "-map", "0:a:0", "-vn", "-sn", "-dn",
        "-ac", "1", "-ar", str(SAMPLE_RATE),
        "-f", "f32le", "pipe:1",
    ]


def decode_audio(src: Path, timeout: float) -> np.ndarray:
    chunks: list[bytes] = []
    errors = DecodeErrorCounter("audio")

    def read(stdout) -> None:
        while chunk := stdout.read(1 << 20):
            chunks.append(chunk)

    done = ffmpeg.run(audio_argv(src), timeout=timeout, read_stdout=read, on_stderr_line=errors)
    errors.check()
    if done.returncode != 0:
        raise MediaToolError(f"decoding the audio failed: {ffmpeg.error_summary(done.stderr_tail)}")
    return np.frombuffer(b"".join(chunks), np.float32)
