"""Spoken-PII recall and precision on labelled BWC-like utterances: dev (tuned on), then blind.

    .venv/bin/python bench/pii/run.py [--isolated] [--defaults] [--show-blind] [--sets dev,blind]

Each set is a list of utterances {speaker, text, items: [{kind, text}]}. By default a set is read
as one clip (utterances in order, one segment each, as a conversation sounds: the officer's
question and the answer beside each other); --isolated makes every utterance a transcript of its
own. Words get Whisper's shape (leading space, punctuation attached) and synthetic times.

An item is found when every word of it lies inside a span (of any kind: a redaction is what
counts); recall is given per kind of item. A span with no word of any item is a false positive,
counted per 100 utterances. --defaults scores presidio's own default analyzer (every predefined
recogniser, every spaCy entity, no speaker rules) in the same run, for comparison.

Target: >= 95 % of a blind set's items found (any set named blind*; a fresh one written by someone
who has not read api/redaction/pii.py can be dropped in as blind2.json and run with --sets blind2).
Misses are printed for dev only; --show-blind prints the blind sets' too (look once you stop tuning).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from api.redaction import pii  # noqa: E402

TARGET = 0.95
WORD_SECONDS = 0.32
GAP_SECONDS = 1.5


def load(name: str) -> dict:
    return json.loads((HERE / f"{name}.json").read_text())


def segment_for(utterance: dict, start: float) -> tuple[dict, float]:
    """One transcript segment of an utterance: Whisper-style words (" word," with leading space)
    at a steady pace."""
    words, t = [], start
    for token in utterance["text"].split():
        duration = WORD_SECONDS + 0.02 * len(token)
        words.append(
            {
                "start": round(t, 3),
                "end": round(t + duration, 3),
                "word": " " + token,
                "probability": 0.9,
                "speaker": utterance["speaker"],
            }
        )
        t += duration + 0.05
    return (
        {
            "start": start,
            "end": round(t, 3),
            "text": utterance["text"],
            "speaker": utterance["speaker"],
            "speaker_confidence": 0.9,
            "words": words,
        },
        t,
    )


def transcripts(utterances: list[dict], isolated: bool) -> list[tuple[dict, list[int]]]:
    """(transcript, utterance index of each segment)."""
    if isolated:
        return [({"segments": [segment_for(u, 0.0)[0]]}, [i]) for i, u in enumerate(utterances)]
    segments, t = [], 0.0
    for u in utterances:
        segment, t = segment_for(u, t)
        segments.append(segment)
        t += GAP_SECONDS
    return [({"segments": segments}, list(range(len(utterances))))]


def item_words(utterance: dict) -> list[tuple[str, str, set[int]]]:
    """(kind, text, word indexes) of each item: the words its text overlaps, found in order."""
    bounds, at = [], 0
    for token in utterance["text"].split():
        at = utterance["text"].index(token, at)
        bounds.append((at, at + len(token)))
        at += len(token)
    out, cursor = [], 0
    for item in utterance["items"]:
        a = utterance["text"].index(item["text"], cursor)
        b = a + len(item["text"])
        cursor = b
        out.append((item["kind"], item["text"], {i for i, (x, y) in enumerate(bounds) if x < b and y > a}))
    return out


def score(name: str, data: dict, *, isolated: bool, find, show: bool) -> dict:
    utterances = data["utterances"]
    found_by_kind, total_by_kind, kind_right = Counter(), Counter(), Counter()
    false_positives, extra_words, misses, fps = 0, 0, [], []
    seconds = 0.0
    for transcript, order in transcripts(utterances, isolated):
        t0 = time.perf_counter()
        spans = find(transcript, data)
        seconds += time.perf_counter() - t0
        covered: set[tuple[int, int]] = set()
        by_segment: dict[int, list] = {}
        positions = [(s, w) for s, seg in enumerate(transcript["segments"]) for w in range(len(seg["words"]))]
        index = {key: i for i, key in enumerate(positions)}
        span_words = []
        for span in spans:
            keys = set(positions[index[span.first] : index[span.last] + 1])
            covered |= keys
            span_words.append((span, keys))
        for s, u in enumerate(order):
            by_segment[s] = item_words(utterances[u])
        item_keys = set()
        for s, items in by_segment.items():
            for kind, text, idxs in items:
                keys = {(s, i) for i in idxs}
                item_keys |= keys
                total_by_kind[kind] += 1
                if keys <= covered:
                    found_by_kind[kind] += 1
                    kind_right[kind] += any(span.kind == kind and keys & k for span, k in span_words)
                else:
                    misses.append((kind, text, utterances[order[s]]["text"]))
        for span, keys in span_words:
            if not keys & item_keys:
                false_positives += 1
                fps.append((span.kind, span.text, span.source, utterances[order[span.first[0]]]["text"]))
            extra_words += len(keys - item_keys)
    total = sum(total_by_kind.values())
    found = sum(found_by_kind.values())
    result = {
        "set": name,
        "utterances": len(utterances),
        "items": total,
        "found": found,
        "recall": found / total if total else 1.0,
        "per_kind": {k: (found_by_kind[k], total_by_kind[k]) for k in pii.KINDS if total_by_kind[k]},
        "kind_right": sum(kind_right.values()),
        "false_positives": false_positives,
        "fp_per_100": 100 * false_positives / len(utterances),
        "extra_words": extra_words,
        "seconds": seconds,
    }
    print(
        f"\n== {name} ({'isolated utterances' if isolated else 'one clip'}): {len(utterances)} utterances, "
        f"{total} PII items"
    )
    for kind, (f, t) in result["per_kind"].items():
        print(f"  {kind:8s} {f:3d}/{t:<3d} {100 * f / t:5.1f} %   (named {kind} for {kind_right[kind]} of them)")
    print(
        f"  overall  {found:3d}/{total:<3d} {100 * result['recall']:5.1f} %   false positives {false_positives} "
        f"({result['fp_per_100']:.1f} per 100 utterances), words redacted beyond the items {extra_words}, "
        f"analysis {seconds:.2f} s"
    )
    if show:
        for kind, text, utterance in misses:
            print(f"  MISS {kind:8s} {text!r:40s} in {utterance!r}")
        for kind, text, source, utterance in fps:
            print(f"  FP   {kind:8s} {text!r:40s} ({source}) in {utterance!r}")
    return result


def ours(transcript: dict, data: dict):
    return pii.find_pii(transcript, officer_name=data.get("officer_name"))


DEFAULT_KINDS = {
    "PERSON": "name",
    "LOCATION": "address",
    "PHONE_NUMBER": "phone",
    "DATE_TIME": "dob",
    "US_SSN": "ssn",
    "US_DRIVER_LICENSE": "licence",
}


def presidio_defaults():
    """presidio's default AnalyzerEngine on the same spaCy model: every predefined recogniser and
    entity, the text of each segment as it is, no rules about speakers."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": pii.SPACY_PACKAGE}])
    engine.nlp = {"en": __import__(pii.SPACY_PACKAGE).load()}
    analyzer = AnalyzerEngine(nlp_engine=engine)

    def find(transcript: dict, data: dict):
        words = pii._words(transcript)
        text = pii._layout(words)
        starts = [w.char_start for w in words]
        spans = []
        for r in analyzer.analyze(text=text, language="en"):
            first, last = pii._word_range(words, starts, r.start, r.end)
            if first is not None:
                kind = DEFAULT_KINDS.get(r.entity_type, r.entity_type.lower())
                spans.append(pii._span(words, first, last, kind, r.entity_type))
        return spans

    return find


def two_minute_transcript() -> dict:
    """About two minutes of speech from the dev set, as one clip."""
    utterances, t = load("dev")["utterances"], 0.0
    segments = []
    while t < 120.0:
        for u in utterances:
            segment, t = segment_for(u, t)
            segments.append(segment)
            t += GAP_SECONDS
            if t >= 120.0:
                break
    return {"segments": segments}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--isolated", action="store_true", help="each utterance its own transcript")
    parser.add_argument("--defaults", action="store_true", help="also score presidio's defaults")
    parser.add_argument("--show-blind", action="store_true", help="print the blind set's misses too")
    parser.add_argument("--sets", default="dev,blind")
    args = parser.parse_args()

    t0 = time.perf_counter()
    pii.analyzer()
    load_seconds = time.perf_counter() - t0
    clip = two_minute_transcript()
    t0 = time.perf_counter()
    spans = pii.find_pii(clip, officer_name="Daniel Chen")
    clip_seconds = time.perf_counter() - t0
    words = sum(len(s["words"]) for s in clip["segments"])
    print(
        f"engine load {load_seconds:.2f} s; a {clip['segments'][-1]['end']:.0f} s transcript "
        f"({words} words) {clip_seconds:.3f} s, {len(spans)} spans"
    )

    results = {}
    for name in args.sets.split(","):
        data = load(name)
        if args.defaults:
            score(f"{name} / presidio defaults", data, isolated=args.isolated, find=presidio_defaults(), show=False)
        results[name] = score(
            name, data, isolated=args.isolated, find=ours, show=not name.startswith("blind") or args.show_blind
        )
    status = 0
    for name, blind in results.items():
        if name.startswith("blind"):
            verdict = "PASS" if blind["recall"] >= TARGET else "MISS"
            print(
                f"\n{verdict}: {name} recall {100 * blind['recall']:.1f} % (target {100 * TARGET:.0f} %), "
                f"{blind['fp_per_100']:.1f} false positives per 100 utterances"
            )
            status |= verdict != "PASS"
    return status


if __name__ == "__main__":
    sys.exit(main())
