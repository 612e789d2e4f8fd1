"""Probing real fixtures and damaged files, in the child process the worker uses."""

import random
import subprocess
from pathlib import Path

import pytest

from media import ffmpeg
from media.errors import MediaRejected
from media.probe import ProbeLimits, probe, probe_in_process

LIMITS = ProbeLimits()


@pytest.mark.parametrize(
    "name, codec, audio, size",
    [
        ("speech.mp4", "h264", "aac", (320, 180)),
        ("hevc_rotated.mov", "hevc", "aac", (144, 176)),  # displayed size: the camera was sideways
        ("silent.mkv", "h264", None, (160, 120)),
        ("mjpeg_pcm.avi", "mjpeg", "pcm_s16le", (160, 120)),
    ],
)
def test_probe_describes_supported_sources(fixtures, name, codec, audio, size):
    info = probe(fixtures / name, LIMITS)
    assert (info.video_codec, info.audio_codec, (info.width, info.height)) == (codec, audio, size)
    assert info.duration > 1


def test_probe_reports_rotation(fixtures):
    assert probe(fixtures / "hevc_rotated.mov", LIMITS).rotation in (90, 270)
    assert probe(fixtures / "speech.mp4", LIMITS).rotation == 0


def test_resolution_beyond_the_cap_is_rejected(fixtures):
    with pytest.raises(MediaRejected, match="8192x4320.*4096x4096"):
        probe(fixtures / "oversize_8k.mp4", LIMITS)


def test_duration_and_stream_caps(fixtures):
    with pytest.raises(MediaRejected, match="lasts 15 s"):
        probe(fixtures / "speech.mp4", ProbeLimits(max_duration_seconds=10))
    with pytest.raises(MediaRejected, match="2 streams"):
        probe(fixtures / "speech.mp4", ProbeLimits(max_streams=1))


def test_truncated_files_are_rejected(fixtures, tmp_path):
    data = (fixtures / "speech.mp4").read_bytes()  # +faststart: the index survives the cut
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaRejected, match="truncated"):
        probe(cut, LIMITS)


def test_file_cut_before_its_index_is_rejected(fixtures, tmp_path):
    index_last = tmp_path / "index_last.mp4"
    subprocess.run([*ffmpeg.base_args(), "-i", str(fixtures / "speech.mp4"), "-c", "copy", str(index_last)], check=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(index_last.read_bytes()[:100_000])
    with pytest.raises(MediaRejected, match="cannot be read as a video"):
        probe(cut, LIMITS)


def test_random_bytes_with_a_video_header_are_rejected(tmp_path):
    junk = tmp_path / "junk.mp4"
    rng = random.Random(7)
    junk.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(rng.randrange(256) for _ in range(20000)))
    with pytest.raises(MediaRejected):
        probe(junk, LIMITS)


def test_demuxer_allowlist_holds_even_past_the_sniffer(tmp_path):
    """If a playlist ever got past the sniffer, libavformat itself must refuse to open it."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4f1c")
    playlist = tmp_path / "playlist.mp4"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:{secret}\n#EXT-X-ENDLIST\n")
    with pytest.raises(MediaRejected) as caught:
        probe_in_process(playlist, LIMITS)
    assert "TOP-SECRET" not in str(caught.value)
    out = subprocess.run(
        [*ffmpeg.base_args(), *ffmpeg.input_args(playlist), "-f", "null", "-"], capture_output=True, text=True
    )
    assert out.returncode != 0 and "TOP-SECRET" not in out.stdout + out.stderr


def test_probe_of_a_non_file_path_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError):
        probe(Path(tmp_path / "missing.mp4"), LIMITS)
