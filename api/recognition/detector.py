"""Find positive-interaction cues in a transcript's words and score the clip.

Pure: a transcript dict in (the JSON shape media.transcribe writes), a Recognition out. No
database, no settings, so the pipeline, the evaluation and the tests all call the same thing.

How a clip is scored:
  1. Every word is normalised ("Narcan," -> narcan, "don't" -> do not) and the cue patterns are
     matched over the word sequence, so a highlight's start/end are its words' own timestamps.
  2. A match preceded closely by a negation ("not here to help") is dropped for negatable cues;
     overlapping matches for one category are merged, so no words count twice.
  3. Each match's confidence is the geometric mean of its words' Whisper probabilities; below
     `low_confidence_probability` on any word it is marked uncertain.
  4. Per category, evidence = sum over cues of weight x confidence (a cue's second occurrence
     adds half, later ones nothing), minus counter cues (negative weights, e.g. "stop resisting").
     Supporting cues (introductions, thanks) count only beside a core cue of the same category.
  5. category score = 1 - exp(-evidence / evidence_scale), in 0..1.

Speakers (media.diarize labels every word "officer" or "person N"): a cue reads only the words of
the speakers it names (Cue.speaker). The officer's behaviour counts on officer speech only: a
driver's "I understand" is not the officer's empathy. Context cues ("he's not breathing") count
from anyone, but only as support from someone other than the officer. Civilians' praise ("thank
you, officer") is a signal, shown and never scored. A transcript without speakers (from before
diarization) is read as all officer speech, as it always was.
"""

import math
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache

from api.recognition.normalise import ends_clause, ends_sentence, normalise_word
from api.recognition.rules import GAP_WORDS, Cue, Element, Rules, load_rules

OFFICER = "officer"
REPEAT_WEIGHT = 0.5  # a cue said twice is a little more convincing; twenty times is not twenty cues


@dataclass
class Highlight:
    start: float
    end: float
    cue: str
    category: str
    label: str
    words: list[str]
    confidence: float
    uncertain: bool
    speaker: str | None = None  # who said it; None on a transcript without speakers

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(start=round(self.start, 3), end=round(self.end, 3), confidence=round(self.confidence, 3))
        return data


@dataclass
class Recognition:
    highlights: list[Highlight]
    category_scores: dict[str, float]
    score: float
    suggested_categories: list[str]
    rules_version: int
    counter_cues: list[Highlight] = field(default_factory=list)  # e.g. "stop resisting": shown, never a highlight
    signals: list[Highlight] = field(default_factory=list)  # civilians' praise: shown, never scored

    def to_dict(self) -> dict:
        return {
            "rules_version": self.rules_version,
            "score": round(self.score, 4),
            "category_scores": {c: round(s, 4) for c, s in self.category_scores.items()},
            "suggested_categories": list(self.suggested_categories),
            "highlights": [h.to_dict() for h in self.highlights],
            "counter_cues": [h.to_dict() for h in self.counter_cues],
            "signals": [h.to_dict() for h in self.signals],
        }


@dataclass
class _Text:
    """The transcript flattened to one token stream; each token remembers its Whisper word."""

    starts: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    probs: list[float] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    word_of: list[int] = field(default_factory=list)
    speakers: list[str | None] = field(default_factory=list)  # per word
    clause_end: list[bool] = field(default_factory=list)  # per token
    sentence_end: list[bool] = field(default_factory=list)  # per token


@dataclass
class _Match:
    cue: Cue
    first: int  # token indexes, end exclusive
    stop: int
    supporting: bool = False  # a context cue heard from someone other than the officer


@lru_cache(maxsize=1)
def default_rules() -> Rules:
    return load_rules()


def detect(transcript: dict, rules: Rules | None = None) -> Recognition:
    """Highlights, category scores, the clip score and suggested categories for one transcript."""
    rules = rules or default_rules()
    if hasattr(transcript, "to_dict"):  # a media.transcribe.Transcript works too
        transcript = transcript.to_dict()
    text = _flatten(transcript)
    heard = [_by_speaker(m, text) for m in _find_matches(text, rules)]
    signals = [_highlight(m, text, rules) for m in heard if m and m.cue.speaker == "civilian"]
    matches = _merge_overlaps([m for m in heard if m and m.cue.speaker != "civilian"])
    found = [_highlight(m, text, rules) for m in matches]
    highlights = [h for h, m in zip(found, matches) if not m.cue.counter]
    counters = [h for h, m in zip(found, matches) if m.cue.counter]
    scores = _category_scores(found, matches, rules)
    suggested = sorted(
        (c for c in rules.categories if scores[c] >= rules.suggestion_threshold), key=lambda c: -scores[c]
    )
    return Recognition(
        highlights=highlights,
        category_scores=scores,
        score=_clip_score(scores, suggested),
        suggested_categories=suggested,
        rules_version=rules.version,
        counter_cues=counters,
        signals=signals,
    )


def _flatten(transcript: dict) -> _Text:
    text = _Text()
    for segment in transcript.get("segments") or []:
        words = segment.get("words") or _spread(segment)
        for n, word in enumerate(words):
            last_in_segment = n == len(words) - 1  # a segment break is a pause: treat it as a full stop
            _add_word(text, word, last_in_segment)
    return text


def _spread(segment: dict) -> list[dict]:
    """No word timings (an old transcript): spread the segment's words evenly over its time."""
    parts = (segment.get("text") or "").split()
    start, end = float(segment.get("start", 0.0)), float(segment.get("end", 0.0))
    step = (end - start) / len(parts) if parts else 0.0
    return [
        {"start": start + i * step, "end": start + (i + 1) * step, "word": w, "probability": 1.0}
        for i, w in enumerate(parts)
    ]


@lru_cache(maxsize=65536)
def _word_info(raw: str) -> tuple[tuple[str, ...], bool, bool]:
    return normalise_word(raw), ends_clause(raw), ends_sentence(raw)


def _add_word(text: _Text, word: dict, last_in_segment: bool) -> None:
    raw = str(word.get("word", ""))
    tokens, clause, sentence = _word_info(raw)
    if not tokens:
        return
    index = len(text.raw)
    text.starts.append(float(word.get("start", 0.0)))
    text.ends.append(float(word.get("end", 0.0)))
    text.raw.append(raw.strip())
    probability = word.get("probability")
    text.probs.append(1.0 if probability is None else float(probability))  # unknown: don't penalise
    text.speakers.append(word.get("speaker"))
    clause, sentence = clause or last_in_segment, sentence or last_in_segment
    for n, token in enumerate(tokens):
        last = n == len(tokens) - 1
        text.tokens.append(token)
        text.word_of.append(index)
        text.clause_end.append(clause and last)
        text.sentence_end.append(sentence and last)


def _find_matches(text: _Text, rules: Rules) -> list[_Match]:
    matches = []
    tokens = text.tokens
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        for cue, pattern, checked in rules.candidates(token, following):  # the index checked `checked` elements
            stop = _match_rest(pattern.elements, checked, text, i + checked)
            if stop is None:
                continue
            if cue.negatable and not cue.counter and _negated(text, i, rules):
                continue
            matches.append(_Match(cue, i, stop))
    return matches


def _speaker(match: _Match, text: _Text) -> str | None:
    """Who said most of the match's words (None when the transcript has no speakers)."""
    said = [text.speakers[i] for i in range(text.word_of[match.first], text.word_of[match.stop - 1] + 1)]
    known = Counter(s for s in said if s)
    return known.most_common(1)[0][0] if known else None  # a tie: whoever spoke first


def _by_speaker(match: _Match, text: _Text) -> _Match | None:
    """The match as its cue's speaker rule reads it: dropped when the wrong person said it, support
    when a context cue came from someone other than the officer."""
    speaker = _speaker(match, text)
    officer = speaker in (None, OFFICER)  # no speakers at all: every word counts, as before diarization
    if match.cue.speaker == "officer":
        return match if officer else None
    if match.cue.speaker == "civilian":  # only someone known not to be the officer
        return match if speaker not in (None, OFFICER) else None
    return match if officer else replace(match, supporting=True)


def _match_rest(elements: tuple[Element, ...], k: int, text: _Text, i: int) -> int | None:
    """Match elements[k:] from token i; the end (exclusive) of the shortest match, or None."""
    tokens = text.tokens
    while k < len(elements):
        element = elements[k]
        if element.kind == "gap":
            for skip in range(GAP_WORDS + 1):
                if skip and (i + skip > len(tokens) or text.sentence_end[i + skip - 2]):
                    break  # a gap never reaches into the next sentence
                stop = _match_rest(elements, k + 1, text, i + skip)
                if stop is not None:
                    return stop
            return None
        if i >= len(tokens) or not element.accepts(tokens[i]):
            return None
        i, k = i + 1, k + 1
    return i


def _negated(text: _Text, first: int, rules: Rules) -> bool:
    """A negation word within a few words before the match, in the same clause."""
    for j in range(first - 1, max(first - rules.negation_window, 0) - 1, -1):
        if text.clause_end[j]:
            return False
        if text.tokens[j] in rules.negation_words:
            return True
    return False


def _merge_overlaps(matches: list[_Match]) -> list[_Match]:
    """Overlapping matches for the same category are one moment: the same words must not count twice
    ("community center" is a resource, not also talk of the community). The longest match wins,
    then the heavier cue."""

    def group(m: _Match) -> tuple[str, bool]:
        return m.cue.category, m.cue.counter

    def strength(m: _Match) -> tuple[int, float]:
        return m.stop - m.first, abs(m.cue.weight)

    kept: list[_Match] = []
    for match in sorted(matches, key=lambda m: (group(m), m.first, -(m.stop - m.first))):
        previous = kept[-1] if kept else None
        if previous and group(previous) == group(match) and match.first < previous.stop:
            if strength(match) > strength(previous):
                kept[-1] = match
            continue
        kept.append(match)
    return sorted(kept, key=lambda m: (m.first, m.cue.id))


def _highlight(match: _Match, text: _Text, rules: Rules) -> Highlight:
    first, last = text.word_of[match.first], text.word_of[match.stop - 1]
    probs = text.probs[first : last + 1]
    # Geometric mean: one word Whisper barely heard drags the whole phrase down, as it should.
    confidence = math.exp(sum(math.log(max(p, 1e-6)) for p in probs) / len(probs))
    return Highlight(
        start=text.starts[first],
        end=text.ends[last],
        cue=match.cue.id,
        category=match.cue.category,
        label=match.cue.label,
        words=text.raw[first : last + 1],
        confidence=min(1.0, confidence),
        uncertain=min(probs) < rules.low_confidence_probability,
        speaker=_speaker(match, text),
    )


def _category_scores(found: list[Highlight], matches: list[_Match], rules: Rules) -> dict[str, float]:
    by_cue: dict[str, list[float]] = defaultdict(list)
    cues = {}
    supported: dict[str, bool] = defaultdict(lambda: True)  # every match of the cue came from others
    for highlight, match in zip(found, matches):
        by_cue[match.cue.id].append(highlight.confidence)
        cues[match.cue.id] = match.cue
        supported[match.cue.id] &= match.supporting
    core: defaultdict[str, float] = defaultdict(float)
    supporting: defaultdict[str, float] = defaultdict(float)
    against: defaultdict[str, float] = defaultdict(float)
    for cue_id, confidences in by_cue.items():
        cue = cues[cue_id]
        best = sorted(confidences, reverse=True)[:2]
        amount = abs(cue.weight) * (best[0] + REPEAT_WEIGHT * sum(best[1:]))
        bucket = against if cue.counter else supporting if cue.supporting or supported[cue_id] else core
        bucket[cue.category] += amount
    scores = {}
    for category in rules.categories:
        evidence = core[category] + (supporting[category] if core[category] > 0 else 0.0) - against[category]
        scores[category] = 1.0 - math.exp(-max(evidence, 0.0) / rules.evidence_scale)
    return scores


def _clip_score(scores: dict[str, float], suggested: list[str]) -> float:
    """The best category; several suggested categories combine (noisy-or), so a clip that is both
    a de-escalation and a life-saving call ranks above one that is only one of them. Unsuggested
    categories never lift a clip past the threshold, so score >= threshold iff something is suggested."""
    if not suggested:
        return max(scores.values(), default=0.0)
    return 1.0 - math.prod(1.0 - scores[c] for c in suggested)
