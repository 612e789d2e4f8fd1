"""What bestpart hears in a clip: Whisper's words, region by region, then who said each of them.

The transcript stage and the evaluation (bench/asr, through hear_file) call `hear`, so what is
measured is what the pipeline does.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from api.config import get_settings
from media import audio, diarize, transcribe, voice_encoder, whisper_models


@dataclass
class Heard:
    transcript: transcribe.Transcript
    speakers: diarize.Speakers | None


def resolve_model(name: str | None = None) -> whisper_models.ResolvedModel:
    """The configured Whisper model (base unless BESTPART_WHISPER_MODEL says otherwise), checked."""
    settings = get_settings()
    return whisper_models.resolve_model(name or settings.whisper_model or None, settings.resolved_model_dir)


def transcribe_options() -> transcribe.TranscribeOptions:
    """The pipeline's Whisper options: the defaults plus the configured prompt, if any."""
    return transcribe.TranscribeOptions(initial_prompt=transcribe.vocabulary_prompt(get_settings().whisper_vocabulary))


def hear(
    samples: np.ndarray,
    model: whisper_models.ResolvedModel,
    voiceprint: Sequence[float] | None = None,
    on_progress=None,
) -> Heard:
    """Words with times and probabilities, then a speaker on every segment and word."""
    settings = get_settings()
    whisper = transcribe.load_model(
        model.path, settings.whisper_device, settings.whisper_compute_type, settings.whisper_threads
    )
    started = time.perf_counter()
    heard = transcribe.transcribe(whisper, samples, model.name, transcribe_options(), on_progress)
    transcribed = time.perf_counter()
    known = None if voiceprint is None else np.asarray(voiceprint, dtype=np.float32)
    heard, speakers = diarize.diarize(heard, samples, voice_encoder.load_encoder(), known)
    # Wall time of each step, kept in the transcript: what the speakers cost beside Whisper.
    heard.coverage["seconds"] = {
        "transcribe": round(transcribed - started, 3),
        "diarize": round(time.perf_counter() - transcribed, 3),
    }
    return Heard(heard, speakers)


def hear_file(path: Path, model: str | None = None, timeout: float = 3600) -> dict:
    """A media file's transcript dict, as the pipeline would write it (no voiceprint)."""
    samples = audio.decode_audio(Path(path), timeout, get_settings().max_duration_seconds)
    return hear(samples, resolve_model(model)).transcript.to_dict()
