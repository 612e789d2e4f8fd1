"""Transcription never silently drops speech, and drops what Whisper makes up: real Whisper, real audio."""

import numpy as np
import pytest

from api.config import DEFAULT_VOCABULARY
from media import audio, transcribe
from media.transcribe import Region, Segment, Word

TIMEOUT = 60
AFTER_THE_GAP = {"shock", "delivered", "resuming", "compressions", "stay", "with", "me"}


@pytest.fixture(scope="module")
def whisper():
    return transcribe.load_model(transcribe.default_model_path())


def heard_words(result) -> set[str]:
    return {"".join(c for c in w.word.lower() if c.isalpha()) for s in result.segments for w in s.words}


@pytest.mark.parametrize(
    "prompt", [None, transcribe.vocabulary_prompt(DEFAULT_VOCABULARY)], ids=["plain", "vocabulary-prompt"]
)
def test_speech_after_a_long_silence_keeps_its_words(fixtures, whisper, prompt):
    # A sentence, 40 s of faint noise, a sentence: one 30 s window of Whisper judged "no speech"
    # used to take the second sentence with it.
    samples = audio.decode_audio(fixtures / "long_silence.m4a", TIMEOUT)
    result = transcribe.transcribe(whisper, samples, "tiny.en", transcribe.TranscribeOptions(initial_prompt=prompt))
    assert len(heard_words(result) & AFTER_THE_GAP) >= 5, [s.text for s in result.segments]
    assert result.segments[-1].start > 40, "the second sentence is timed after the gap, in its own segment"
    assert result.coverage["speech_regions"] >= 2 and result.coverage["unheard"] == []
    assert all(not 6 < (w.start + w.end) / 2 < 40 for s in result.segments for w in s.words), "no words in the gap"


def test_a_region_that_gave_no_words_is_decoded_again_and_recorded(fixtures, whisper, monkeypatch):
    samples = audio.decode_audio(fixtures / "long_silence.m4a", TIMEOUT)
    first_pass = transcribe.decode

    def skips_the_second_window(model, audio_, span, kwargs, on_progress=None):
        heard = first_pass(model, audio_, span, kwargs, on_progress)
        if "temperature" in kwargs:  # the retry hears it
            return heard
        return [s for s in heard if s.start < 30]  # the first pass lost it, as a skipped window

    monkeypatch.setattr(transcribe, "decode", skips_the_second_window)
    result = transcribe.transcribe(whisper, samples, "tiny.en", transcribe.TranscribeOptions())
    assert len(heard_words(result) & AFTER_THE_GAP) >= 5
    assert [r["start"] > 30 and r["words"] > 0 for r in result.coverage["retried"]] == [True]


def test_noise_alone_gives_no_words(whisper):
    noise = np.random.default_rng(11).normal(0, 0.01, 10 * transcribe.SAMPLE_RATE).astype(np.float32)
    assert transcribe.transcribe(whisper, noise, "tiny.en", transcribe.TranscribeOptions()).segments == []


def words(*texts: str, start: float = 0.0) -> list[Word]:
    return [Word(start + i * 0.3, start + i * 0.3 + 0.25, t, 0.9) for i, t in enumerate(texts)]


def test_decoding_loops_are_cut_back_to_one():
    looped = words("cool,", *["cool,"] * 7, "see", "you")
    assert [w.word for w in transcribe.remove_loops(looped)] == ["cool,", "see", "you"]
    counted = words("one", "two", "three", "four", "one", "two")  # counting compressions is no loop
    assert transcribe.remove_loops(counted) == counted
    urged = words(*["stay", "with", "me"] * 4, "okay")  # said four times over a patient: kept
    assert transcribe.remove_loops(urged) == urged
    phrase = words(*["stay", "with", "me"] * 9, "okay")
    assert [w.word for w in transcribe.remove_loops(phrase)] == ["stay", "with", "me", "okay"]


def test_the_guards_drop_words_over_silence_and_stock_phrases_over_quiet_audio():
    quiet = np.zeros(20 * transcribe.SAMPLE_RATE, np.float32)
    loud = quiet.copy()
    loud[10 * transcribe.SAMPLE_RATE :] = 0.1
    regions = [Region(0.0, 5.0), Region(10.0, 20.0)]
    stock = Segment(11.0, 12.0, "Thank you for watching.", words("Thank", "you", "for", "watching.", start=11.0))
    outside = Segment(6.0, 8.0, "ghost words", words("ghost", "words", start=6.5))
    real = Segment(1.0, 2.0, "Stay with me.", words("Stay", "with", "me.", start=1.0))
    kept, removed = transcribe.clean([real, outside, stock], regions, quiet)
    assert [s.text for s in kept] == ["Stay with me."]
    assert removed == {"outside_speech": 2, "loops": 0, "stock_phrases": 4}
    kept, _ = transcribe.clean([stock], regions, loud)  # said over real sound: someone said it
    assert [s.text for s in kept] == ["Thank you for watching."]
