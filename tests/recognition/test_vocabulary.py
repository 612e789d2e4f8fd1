"""The domain vocabulary measurably helps real Whisper (tiny.en) on real speech (espeak-ng).

Fixtures: tests/fixtures/vocab_*.m4a, their text in tests/fixtures/vocabulary.txt (made by
make_fixtures.sh). bench/vocabulary.py measures the same on more sentences and a long recording.
"""

import numpy as np
import pytest

from api.config import DEFAULT_VOCABULARY, Settings
from media import audio, transcribe
from tests.media.test_outputs import word_error_rate
from workers.tasks import transcribe_options

DOMAIN = {"narcan", "cpr", "aed", "tourniquet"}


def sentences(fixtures) -> dict[str, str]:
    lines = (fixtures / "vocabulary.txt").read_text().splitlines()
    return dict(line.split("|", 1) for line in lines if line.strip())


@pytest.fixture(scope="module")
def heard(fixtures) -> dict[str, tuple[str, str, str]]:
    """name -> (spoken text, heard without vocabulary, heard with the default vocabulary)."""
    model = transcribe.load_model(transcribe.default_model_path())
    plain = transcribe.TranscribeOptions()
    tuned = transcribe.TranscribeOptions(initial_prompt=transcribe.vocabulary_prompt(DEFAULT_VOCABULARY))
    found = {}
    for name, text in sentences(fixtures).items():
        samples = audio.decode_audio(fixtures / f"{name}.m4a", 60)
        without, with_ = (" ".join(s.text for s in transcribe.transcribe(model, samples, "tiny.en", o).segments)
                          for o in (plain, tuned))
        found[name] = (text, without, with_)
    return found


def words(text: str) -> set[str]:
    return set("".join(c.lower() if c.isalnum() else " " for c in text).split())


def test_the_vocabulary_never_raises_the_word_error_rate(heard):
    for name, (text, without, with_) in heard.items():
        assert word_error_rate(text, with_) <= word_error_rate(text, without), (name, without, with_)


def test_the_vocabulary_lowers_the_word_error_rate_overall(heard):
    without = sum(word_error_rate(text, w) for text, w, _ in heard.values())
    with_ = sum(word_error_rate(text, w) for text, _, w in heard.values())
    assert with_ < without * 0.85, (without, with_)


def test_the_domain_words_are_heard_with_the_vocabulary(heard):
    for name, (text, without, with_) in heard.items():
        spoken = words(text) & DOMAIN
        assert spoken <= words(with_), (name, with_)
    missed_without = sum(len(words(text) & DOMAIN - words(without)) for text, without, _ in heard.values())
    assert missed_without >= 2, "without the vocabulary tiny.en mishears these words (else the fixtures prove nothing)"


def test_the_pipeline_passes_the_configured_vocabulary_as_the_prompt(monkeypatch):
    assert transcribe_options().initial_prompt == transcribe.vocabulary_prompt(DEFAULT_VOCABULARY)
    monkeypatch.setattr("workers.tasks.get_settings", lambda: Settings(whisper_vocabulary=" Narcan ,, AED "))
    assert transcribe_options().initial_prompt == "Narcan, AED"
    monkeypatch.setattr("workers.tasks.get_settings", lambda: Settings(whisper_vocabulary=""))
    assert transcribe_options().initial_prompt is None


def test_the_vocabulary_costs_no_speech_on_a_long_clip(fixtures, speech_text):
    # Four minutes of speech, many 30 s windows: a vocabulary that prompts every window (hotwords)
    # made tiny.en skip whole windows here and lose half the words.
    model = transcribe.load_model(transcribe.default_model_path())
    looped = np.tile(audio.decode_audio(fixtures / "speech.mp4", 60), 16)
    heard = transcribe.transcribe(model, looped, "tiny.en", transcribe_options()).segments
    assert word_error_rate(" ".join([speech_text] * 16), " ".join(s.text for s in heard)) < 0.25
