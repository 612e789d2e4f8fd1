"""Cuts for lesson exports: hardened argv, real frame-accurate cuts, captions timed from the cut."""

import re
from pathlib import Path

import av
import numpy as np
import pytest

from media import cut
from media.probe import ProbeLimits, probe


def test_cut_argv_is_hardened_and_seeks_before_the_input(tmp_path):
    src, dst = tmp_path / "proxy.mp4", tmp_path / "out.mp4"
    argv = cut.cut_argv(src, dst, 2.0, 6.5)
    assert all(isinstance(a, str) for a in argv)  # an argv list, never a shell string
    i = argv.index("-i")
    before, after = argv[:i], argv[i + 1 :]
    assert argv[i + 1] == f"file:{src.resolve()}"
    assert before[before.index("-protocol_whitelist") + 1] == "file"
    allowed = set(before[before.index("-format_whitelist") + 1].split(","))
    assert "mp4" in allowed and not {"hls", "concat", "image2"} & allowed
    assert "-probesize" in before and "-nostdin" in before
    assert before[before.index("-ss") + 1] == "2.000"  # input seeking: fast, made exact by accurate_seek
    assert "-accurate_seek" not in argv and "-noaccurate_seek" not in argv
    assert after[after.index("-t") + 1] == "4.500"
    assert after[after.index("-c:v") + 1] == "libx264" and after[after.index("-c:a") + 1] == "aac"
    assert "copy" not in argv  # a stream copy could only start on a keyframe
    assert after[after.index("-movflags") + 1] == "+faststart"
    assert after[after.index("-progress") + 1] == "pipe:2"
    assert argv[-1] == f"file:{dst.resolve()}"


@pytest.mark.parametrize("in_point, out_point", [(3.0, 3.0), (4.0, 2.0), (-1.0, 2.0)])
def test_cut_argv_refuses_an_empty_or_backwards_segment(tmp_path, in_point, out_point):
    with pytest.raises(ValueError, match="0 <= in < out"):
        cut.cut_argv(tmp_path / "a.mp4", tmp_path / "b.mp4", in_point, out_point)


def test_a_real_cut_lasts_out_minus_in(fixtures, tmp_path):
    dst = tmp_path / "cut.mp4"
    reported = []
    argv = cut.cut_segment(fixtures / "speech.mp4", dst, 2.0, 6.5, timeout=60, on_progress=reported.append)
    info = probe(dst, ProbeLimits())
    assert abs(info.duration - 4.5) <= 0.1, info
    assert info.video_codec == "h264" and info.audio_codec == "aac"
    assert reported and 0.9 <= reported[-1] <= 1.0
    assert argv[0].endswith("ffmpeg") or "ffmpeg" in Path(argv[0]).name


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="gray").astype(float) for frame in container.decode(video=0)]


def _closest(frame: np.ndarray, candidates: list[np.ndarray]) -> int:
    return int(np.argmin([np.abs(frame - c).mean() for c in candidates]))


def test_a_cut_starts_and_ends_on_the_chosen_frames_not_on_keyframes(fixtures, tmp_path):
    """speech.mp4 is 25 fps with a keyframe every 2 s and a picture that changes every frame:
    a cut from 2.6 s must open on frame 65, not on the keyframe at 2.0 s (frame 50)."""
    dst = tmp_path / "cut.mp4"
    cut.cut_segment(fixtures / "speech.mp4", dst, 2.6, 3.6, timeout=60)
    source, out = _frames(fixtures / "speech.mp4"), _frames(dst)
    assert len(out) == 25
    assert _closest(out[0], source) == 65
    assert _closest(out[-1], source) == 89


def test_a_cut_of_a_broken_source_fails_with_a_reason(tmp_path):
    src = tmp_path / "broken.mp4"
    src.write_bytes(b"\x00\x00\x00\x20ftypisom" + bytes(200))
    with pytest.raises(cut.MediaToolError, match=r"cutting \[1.0, 2.0\] failed"):
        cut.cut_segment(src, tmp_path / "out.mp4", 1.0, 2.0, timeout=60)


TRANSCRIPT = {
    "language": "en",
    "model": "tiny.en",
    "segments": [
        {
            "start": 0.5,
            "end": 3.0,
            "text": "Hello there sir",
            "words": [
                {"start": 0.5, "end": 1.0, "word": "Hello", "probability": 0.9},
                {"start": 1.0, "end": 1.5, "word": "there", "probability": 0.9},
                {"start": 1.8, "end": 2.4, "word": "sir", "probability": 0.9},  # middle 2.1: inside a cut from 2.0
            ],
        },
        {
            "start": 3.0,
            "end": 8.0,
            "text": "can I get you some water",
            "words": [
                {"start": 3.0, "end": 3.4, "word": "can", "probability": 0.9},
                {"start": 3.4, "end": 3.6, "word": "I", "probability": 0.9},
                {"start": 3.6, "end": 3.8, "word": "get", "probability": 0.9},
                {"start": 3.8, "end": 4.0, "word": "you", "probability": 0.9},
                {"start": 6.2, "end": 6.9, "word": "some", "probability": 0.9},  # middle 6.55: outside a cut to 6.5
                {"start": 7.0, "end": 7.5, "word": "water", "probability": 0.9},
            ],
        },
        {"start": 9.0, "end": 10.0, "text": "no word times here", "words": []},
    ],
}
CUE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})$", re.M)


def _cue_times(vtt: str) -> list[tuple[float, float]]:
    def seconds(h, m, s, ms):
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    return [(seconds(*g[:4]), seconds(*g[4:])) for g in CUE.findall(vtt)]


def test_captions_hold_only_the_words_of_the_segment_timed_from_its_start():
    vtt = cut.segment_captions(TRANSCRIPT, 2.0, 6.5)
    assert vtt.startswith("WEBVTT\n")
    assert "00:00:00.000 --> 00:00:00.400\nsir\n" in vtt
    assert "00:00:01.000 --> 00:00:02.000\ncan I get you\n" in vtt
    assert "Hello" not in vtt and "some" not in vtt and "water" not in vtt and "no word times" not in vtt
    times = _cue_times(vtt)
    assert times and all(0 <= start <= end <= 4.5 for start, end in times)
    assert times[0][0] == 0.0  # "sir" began at 1.8, before the cut: clamped to its start


def test_captions_of_segments_without_word_times_and_of_no_transcript():
    assert "no word times here" in cut.segment_captions(TRANSCRIPT, 8.5, 10.0)
    assert cut.segment_captions(None, 0.0, 1.0).strip() == "WEBVTT"
