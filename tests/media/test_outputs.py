"""Thumbnails, proxy, audio and transcript made from the real fixtures with the real tools."""

import re

import cv2
import jiwer
import numpy as np
import pytest

from media import audio, proxy, thumbnails, transcribe
from media.errors import MediaRejected
from media.probe import ProbeLimits, probe

LIMITS = ProbeLimits()
TIMEOUT = 120


def word_error_rate(reference: str, hypothesis: str) -> float:
    normalise = jiwer.Compose(
        [
            jiwer.ToLowerCase(),
            jiwer.RemovePunctuation(),
            jiwer.RemoveMultipleSpaces(),
            jiwer.Strip(),
            jiwer.ReduceToListOfListOfWords(),
        ]
    )
    return jiwer.wer(reference, hypothesis, reference_transform=normalise, hypothesis_transform=normalise)


@pytest.fixture(scope="module")
def whisper():
    return transcribe.load_model(transcribe.default_model_path())


def test_poster_skips_the_black_opening(fixtures):
    src = fixtures / "speech.mp4"  # opens on 1.5 s of black
    thumbs = thumbnails.scan_keyframes(src, probe(src, LIMITS), TIMEOUT)
    first = thumbs.tiles[0].image
    assert first.mean() < 20, "the fixture should open on black"
    assert thumbs.poster.time > 1.0 and thumbs.poster.image.mean() > 60


def test_frame_score_prefers_sharp_exposed_frames():
    yy, xx = np.mgrid[0:90, 0:160]
    checker = (((yy // 10) + (xx // 10)) % 2 * 160 + 50).astype(np.uint8)
    busy = cv2.cvtColor(checker, cv2.COLOR_GRAY2BGR)
    blurred = cv2.GaussianBlur(busy, (21, 21), 8)
    black = np.zeros((90, 160, 3), np.uint8)
    white = np.full((90, 160, 3), 255, np.uint8)
    assert thumbnails.frame_score(black) == 0 and thumbnails.frame_score(white) == 0
    assert thumbnails.frame_score(busy) > thumbnails.frame_score(blurred) > 0


def test_sprite_and_vtt_agree(fixtures, tmp_path):
    src = fixtures / "speech.mp4"
    info = probe(src, LIMITS)
    thumbs = thumbnails.scan_keyframes(src, info, TIMEOUT)
    tile_w, tile_h = thumbnails.write_sprite(thumbs, tmp_path / "sprite.jpg")
    sheet = cv2.imread(str(tmp_path / "sprite.jpg"))
    vtt = thumbnails.thumbnails_vtt(thumbs, info.duration, "sprite.jpg")
    assert vtt.startswith("WEBVTT")
    cues = re.findall(r"(\S+) --> (\S+)\nsprite\.jpg#xywh=(\d+),(\d+),(\d+),(\d+)", vtt)
    assert 1 < len(cues) == len(thumbs.tiles) <= thumbnails.MAX_TILES
    for _, _, x, y, w, h in cues:
        assert int(x) + int(w) <= sheet.shape[1] and int(y) + int(h) <= sheet.shape[0]
        assert (int(w), int(h)) == (tile_w, tile_h)
    assert cues[0][0] == "00:00:00.000" and cues[-1][1] == thumbnails.vtt_time(info.duration)


def test_long_clips_get_at_most_a_hundred_tiles():
    picker = thumbnails._Picker(duration=3600)
    frame = np.full((90, 160, 3), 128, np.uint8)
    for second in range(0, 3600, 2):
        picker.offer(float(second), frame)
    assert len(picker.result([]).tiles) == thumbnails.MAX_TILES


@pytest.mark.parametrize("name", ["speech.mp4", "hevc_rotated.mov", "silent.mkv", "mjpeg_pcm.avi"])
def test_proxy_is_h264_aac_faststart_upright(fixtures, tmp_path, name):
    src = fixtures / name
    info = probe(src, LIMITS)
    out = tmp_path / "proxy.mp4"
    seen = []
    proxy.make_proxy(src, out, info, TIMEOUT, seen.append)
    made = probe(out, LIMITS)
    assert made.video_codec == "h264" and made.rotation == 0
    assert made.audio_codec == ("aac" if info.has_audio else None)
    assert (made.width, made.height) == (info.width, info.height)  # rotated sources come out upright
    head = out.read_bytes()
    assert head.index(b"moov") < head.index(b"mdat"), "+faststart puts the index first"
    assert seen and seen[-1] > 0.9


def test_audio_is_16k_mono_float(fixtures):
    samples = audio.decode_audio(fixtures / "speech.mp4", TIMEOUT)
    assert samples.dtype == np.float32
    assert abs(len(samples) / audio.SAMPLE_RATE - 15.2) < 0.3
    assert 0.01 < float(np.abs(samples).max()) <= 1.0


def test_damaged_audio_is_rejected(fixtures, tmp_path):
    data = bytearray((fixtures / "speech.mp4").read_bytes())
    middle = len(data) // 2
    data[middle - 20000 : middle + 20000] = np.random.default_rng(3).integers(0, 256, 40000, dtype=np.uint8).tobytes()
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    with pytest.raises(MediaRejected, match="damaged"):
        audio.decode_audio(damaged, TIMEOUT)
    with pytest.raises(MediaRejected, match="damaged: its video track"):
        thumbnails.scan_keyframes(damaged, probe(damaged, LIMITS), TIMEOUT)


def test_transcript_matches_the_spoken_text(fixtures, whisper, speech_text):
    samples = audio.decode_audio(fixtures / "speech.mp4", TIMEOUT)
    progress = []
    result = transcribe.transcribe(whisper, samples, "tiny.en", transcribe.TranscribeOptions(), progress.append)
    words = [w for s in result.segments for w in s.words]
    assert word_error_rate(speech_text, " ".join(w.word for w in words)) < 0.25
    assert all(0 <= w.start <= w.end <= 15.3 and 0 <= w.probability <= 1 for w in words)
    assert words[0].start > 1.0, "speech starts after the 1.5 s opening"
    assert progress and progress[-1] > 0.8


def test_captions_are_short_timed_cues(fixtures, whisper):
    samples = audio.decode_audio(fixtures / "speech.mp4", TIMEOUT)
    result = transcribe.transcribe(whisper, samples, "tiny.en", transcribe.TranscribeOptions())
    vtt = transcribe.captions_vtt(result)
    cues = re.findall(r"(\d\d:\d\d:\d\d\.\d\d\d) --> (\d\d:\d\d:\d\d\.\d\d\d)\n(.+)", vtt)
    assert vtt.startswith("WEBVTT") and len(cues) >= 3
    assert all(len(text) <= transcribe.CAPTION_MAX_CHARS + 15 for _, _, text in cues)


@pytest.mark.parametrize("seconds", [0, 8])
def test_silence_gives_an_empty_transcript(whisper, seconds):
    # Eight seconds of faint noise go through the model: the VAD filter must keep Whisper from
    # hallucinating words into them.
    noise = np.random.default_rng(7).normal(0, 1e-4, seconds * transcribe.SAMPLE_RATE).astype(np.float32)
    result = transcribe.transcribe(whisper, noise, "tiny.en", transcribe.TranscribeOptions())
    assert result.segments == []
