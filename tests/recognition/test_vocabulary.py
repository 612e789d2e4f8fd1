"""The optional vocabulary prompt (BESTPART_WHISPER_VOCABULARY, off by default): the pipeline
passes what is configured, and with it real Whisper (tiny.en) still loses no speech.

bench/asr (make eval-asr) measures what the prompt does to every word on the evaluation set.
"""

import numpy as np

from api.config import DEFAULT_VOCABULARY, Settings
from media import audio, transcribe
from tests.media.test_outputs import word_error_rate
from workers.hearing import transcribe_options


def test_the_pipeline_passes_the_configured_vocabulary_as_the_prompt(monkeypatch):
    assert transcribe_options().initial_prompt is None  # off unless configured (issue 8's measurement)
    monkeypatch.setattr("workers.hearing.get_settings", lambda: Settings(whisper_vocabulary=" Narcan ,, AED "))
    assert transcribe_options().initial_prompt == "Narcan, AED"
    monkeypatch.setattr("workers.hearing.get_settings", lambda: Settings(whisper_vocabulary=DEFAULT_VOCABULARY))
    assert transcribe_options().initial_prompt == transcribe.vocabulary_prompt(DEFAULT_VOCABULARY)


def test_the_vocabulary_costs_no_speech_on_a_long_clip(fixtures, speech_text):
    # Four minutes of speech, many 30 s windows: a vocabulary that prompts every window (hotwords)
    # made tiny.en skip whole windows here and lose half the words.
    model = transcribe.load_model(transcribe.default_model_path())
    looped = np.tile(audio.decode_audio(fixtures / "speech.mp4", 60), 16)
    prompted = transcribe.TranscribeOptions(initial_prompt=transcribe.vocabulary_prompt(DEFAULT_VOCABULARY))
    heard = transcribe.transcribe(model, looped, "tiny.en", prompted).segments
    assert word_error_rate(" ".join([speech_text] * 16), " ".join(s.text for s in heard)) < 0.25
