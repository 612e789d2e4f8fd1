"""What a hostile file can make a child process do: caps on every decoded picture, rlimits on
memory and CPU, and which of its deaths are the file's doing (rejected) or ours (failed)."""

import io
import json
import struct
import sys
from pathlib import Path

import pytest

from media import audio, ffmpeg, probe, proxy, thumbnails
from media.errors import MediaRejected, MediaToolError
from media.ffmpeg import Completed, Limits
from media.probe import ProbeLimits
from tests.fuzz.containers import find_elements
from tests.fuzz.corpus import OVERSIZE, size_change

MIB = 1024**2


@pytest.fixture(scope="module")
def growing(tmp_path_factory) -> Path:
    """64x64 in its header, a 4128x4128 keyframe at 1 s: just past the 4096 cap."""
    folder = tmp_path_factory.mktemp("growing")
    path = folder / "growing.mp4"
    path.write_bytes(size_change(ffmpeg.ffmpeg_exe(), folder, (OVERSIZE,)))
    return path


def test_a_picture_size_change_inside_the_stream_passes_the_probe_but_not_the_keyframe_scan(growing):
    info = probe.probe(growing, ProbeLimits())
    assert (info.width, info.height) == (64, 64)  # all the header knows
    with pytest.raises(MediaRejected, match=r"at 1.00 s is 4128x4128; the largest accepted is 4096x4096"):
        thumbnails.scan_keyframes(growing, info, timeout=60)


def test_every_decoder_refuses_a_picture_over_the_pixel_cap(growing):
    """With a smaller cap the decoder itself refuses the frame (-max_pixels): it never allocates it."""
    small = Limits(max_width=1024, max_height=1024)
    info = probe.probe(growing, ProbeLimits())
    with pytest.raises(MediaRejected, match=r"needs 4160x4128 pixels; the largest accepted is 1024x1024"):
        thumbnails.scan_keyframes(growing, info, timeout=60, limits=small)
    hevc = probe.VideoInfo(**{**info.to_dict(), "video_codec": "hevc"})  # so the proxy decodes
    with pytest.raises(MediaRejected, match="needs 4160x4128 pixels"):
        proxy.make_proxy(growing, growing.with_name("proxy.mp4"), hevc, timeout=60, limits=small)


def test_every_input_carries_the_pixel_cap(tmp_path):
    limits = Limits(max_width=640, max_height=480)
    argv = ffmpeg.input_args(tmp_path / "a.mp4", limits=limits)
    assert argv[argv.index("-max_pixels") + 1] == str((640 + 128) * (480 + 128))
    assert argv.index("-max_pixels") < argv.index("-i")


def _child(code: str, limits: Limits = ffmpeg.DEFAULT_LIMITS) -> tuple[Completed, str]:
    out = bytearray()
    done = ffmpeg.run(
        [sys.executable, "-c", code], timeout=60, limits=limits, read_stdout=lambda stdout: out.extend(stdout.read())
    )
    return done, out.decode()


def test_every_child_runs_under_the_rlimits():
    limits = Limits(memory_bytes=3 * 1024**3, cpu_seconds=1234)
    _, out = _child(
        "import resource as r; print(r.getrlimit(r.RLIMIT_AS), r.getrlimit(r.RLIMIT_CPU), r.getrlimit(r.RLIMIT_CORE))",
        limits,
    )
    assert out.split("\n")[0] == f"({3 * 1024**3}, {3 * 1024**3}) (1234, 1239) (0, 0)"


def test_a_child_cannot_allocate_past_its_memory_limit():
    code = "b = bytearray(1024 * 1024 * 1024); print('allocated')"
    assert _child(code, Limits(memory_bytes=2048 * MIB))[1].strip() == "allocated"
    done, out = _child(code, Limits(memory_bytes=512 * MIB))
    assert done.returncode != 0 and "allocated" not in out


def test_a_child_that_crashes_or_spins_is_the_files_doing():
    with pytest.raises(MediaRejected, match=r"crashed on this file \(SIGSEGV\)"):
        _child("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    with pytest.raises(MediaRejected, match="used up the 1 s of CPU time"):
        _child("while True: pass", Limits(cpu_seconds=1))


def test_the_probe_dying_by_a_signal_is_a_rejection(fixtures, monkeypatch):
    def crashing(path, limits):
        return [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGABRT)"]

    monkeypatch.setattr(probe, "probe_argv", crashing)
    with pytest.raises(MediaRejected, match=r"crashed on this file \(SIGABRT\)"):
        probe.probe(fixtures / "silent.mkv", ProbeLimits())


def test_the_probe_answers_an_unexpected_exception_as_a_rejection_without_paths(fixtures, monkeypatch, capsys):
    def tripping(path, limits):
        raise ZeroDivisionError(f"division by zero reading {path}")

    monkeypatch.setattr(probe, "probe_in_process", tripping)
    monkeypatch.setattr(sys, "argv", ["probe", str(fixtures / "silent.mkv"), json.dumps({})])
    probe._main()
    answer = json.loads(capsys.readouterr().out)
    assert answer == {"rejected": "the file cannot be probed: ZeroDivisionError: division by zero reading <file>"}


def test_the_probe_process_not_starting_is_our_fault(fixtures, monkeypatch):
    monkeypatch.setattr(probe, "probe_argv", lambda path, limits: [sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(MediaToolError, match=r"probe process died \(exit 3\)"):
        probe.probe(fixtures / "silent.mkv", ProbeLimits())


def test_a_remux_that_ffmpeg_refuses_is_a_rejection_with_its_last_error(tmp_path):
    """The proxy's ffmpeg on a file it cannot read (as if the probe had passed it)."""
    src = tmp_path / "junk.mp4"
    src.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(5000))
    with pytest.raises(MediaRejected, match=r"^the video stream could not be remuxed: .*Invalid data"):
        proxy.make_proxy(src, tmp_path / "proxy.mp4", _INFO, timeout=60)


def test_ffmpeg_failing_on_our_own_files_is_our_fault(fixtures, tmp_path):
    with pytest.raises(MediaToolError, match="could not be remuxed"):
        proxy.make_proxy(fixtures / "silent.mkv", tmp_path / "missing" / "proxy.mp4", _INFO, timeout=60)


@pytest.mark.parametrize(
    "lines, fault",
    [
        (["[mov @ 0x1] moov atom not found", "Error opening input file"], MediaRejected),
        (["[vist#0:0 @ 0x1] Error while opening decoder", "Error opening output file"], MediaRejected),
        (["[mov @ 0x1] /etc/passwd: No such file or directory"], MediaRejected),  # a file it names, not ours
        (["file:/srv/tmp/x.mp4: No space left on device"], MediaToolError),
        (["Unknown encoder 'libx264'"], MediaToolError),
    ],
)
def test_check_exit_tells_the_files_faults_from_ours(lines, fault):
    done = Completed(argv=["ffmpeg", "-i", "file:/srv/in.mp4", "file:/srv/tmp/x.mp4"], returncode=1, stderr_tail=lines)
    with pytest.raises(fault, match="^the proxy failed: "):
        ffmpeg.check_exit(done, "the proxy failed")
    ffmpeg.check_exit(Completed(done.argv, 0, lines), "never raised")


def test_audio_is_decoded_at_most_for_the_seconds_asked(fixtures):
    samples = audio.decode_audio(fixtures / "speech.mp4", timeout=60, max_seconds=2.0)
    assert len(samples) == 2 * audio.SAMPLE_RATE


def test_audio_past_its_byte_budget_is_refused_as_it_streams():
    budget = audio.max_bytes(1.0)
    kept = bytearray()
    audio.read_bounded(io.BytesIO(bytes(budget)), budget, kept)
    assert len(kept) == budget
    with pytest.raises(MediaRejected, match="more than the 2 s of sound"):
        audio.read_bounded(io.BytesIO(bytes(budget + 1)), budget, bytearray())


def test_durations_that_are_zero_negative_tiny_or_not_numbers_are_rejected(fixtures, tmp_path):
    data = (fixtures / "silent.mkv").read_bytes()
    scale = find_elements(data, b"\x2a\xd7\xb1")[0]  # TimestampScale: 1 ns ticks make 3 s last 3 µs
    cases = {"tiny-ticks.mkv": data[: scale.body] + b"\x00\x00\x01" + data[scale.end :]}
    duration = find_elements(data, b"\x44\x89")[0]
    for name, value in {"zero": 0.0, "negative": -1.0, "nan": float("nan")}.items():
        cases[f"{name}.mkv"] = data[: duration.body] + _double(value) + data[duration.end :]
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(MediaRejected, match="duration"):
            probe.probe(tmp_path / name, ProbeLimits())


def test_a_clip_shorter_than_the_minimum_is_rejected(fixtures):
    with pytest.raises(MediaRejected, match=r"lasts 3.000 s; the shortest accepted is 5"):
        probe.probe(fixtures / "silent.mkv", ProbeLimits(min_duration_seconds=5))


def _double(value: float) -> bytes:
    return struct.pack(">d", value)


_INFO = probe.VideoInfo(
    container="mov,mp4,m4a,3gp,3g2,mj2",
    duration=3.0,
    width=160,
    height=120,
    rotation=0,
    video_codec="h264",
    pixel_format="yuv420p",
    frame_rate=25.0,
    audio_codec=None,
    audio_channels=None,
    audio_sample_rate=None,
    stream_count=1,
    bit_rate=None,
)
