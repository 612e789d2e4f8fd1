"""Build the labelled evaluation transcripts from the hand-written scripts in corpus/*.txt.

The scripts are dialogue written for the purpose; this turns each into the JSON a faster-whisper
run would produce (segments with per-word start/end/probability), with word timings from a fixed
speaking rate and probabilities from a seeded generator, so the output is the same every time.

Script format:
    === <id>                       starts a transcript
    title: <free text>
    categories: a, b               expected categories; empty for a negative
    O: <officer line>              one segment per line; the speaker tag (O/P/S/D/...) is dropped,
                                   since Whisper output has no speakers either
    {cue.id}word                   an expected cue moment at this word's start
    word~0.31                      this word gets probability 0.31 (Whisper was unsure)

Run `python tests/recognition/build_corpus.py` after editing a script; `--check` fails if the
JSON files are stale (the test suite runs it).
"""

import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent
SCRIPTS = HERE / "corpus"
OUT = HERE / "transcripts"
MODEL = "synthetic: hand-written script, timings at a fixed speaking rate"

_SPEAKER = re.compile(r"^[A-Z][A-Za-z0-9]{0,3}:\s*")
_MARK = re.compile(r"^\{([a-z_.]+)\}")
_PROB = re.compile(r"~(0?\.\d+)")


def parse(text: str, split: str) -> list[dict]:
    items, current = [], None
    for line_no, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("==="):
            current = {"id": line[3:].strip(), "split": split, "title": "", "categories": [], "lines": []}
            items.append(current)
        elif current is None:
            raise ValueError(f"{split}.txt line {line_no}: text before the first '=== id'")
        elif line.startswith("title:"):
            current["title"] = line[6:].strip()
        elif line.startswith("categories:"):
            current["categories"] = [c.strip() for c in line[11:].split(",") if c.strip()]
        else:
            current["lines"].append(_SPEAKER.sub("", line))
    return items


def build(item: dict) -> dict:
    rng = random.Random(item["id"])  # seeded per transcript: stable output
    t = 0.6
    segments, cues = [], []
    for line in item["lines"]:
        words = []
        for token in line.split():
            mark = _MARK.match(token)
            if mark:
                cues.append({"time": round(t, 2), "cue": mark.group(1)})
                token = token[mark.end() :]
            prob = _PROB.search(token)
            if prob:
                token = token[: prob.start()] + token[prob.end() :]  # "Narcan~0.38," -> "Narcan,"
                probability = float(prob.group(1))
            else:  # Whisper's usual range for clear speech, with the odd softer word
                probability = round(0.995 - 0.3 * rng.random() ** 4, 4)
            if not token:
                continue
            duration = min(0.75, 0.14 + 0.055 * len(token))
            words.append(
                {"start": round(t, 3), "end": round(t + duration, 3), "word": token, "probability": probability}
            )
            t += duration + 0.06
        if words:
            segments.append(
                {
                    "start": words[0]["start"],
                    "end": words[-1]["end"],
                    "text": " ".join(w["word"] for w in words),
                    "words": words,
                }
            )
        t += 0.5 + rng.random() * 1.2  # the pause before the next speaker
    return {
        "id": item["id"],
        "split": item["split"],
        "title": item["title"],
        "expected_categories": item["categories"],
        "expected_cues": cues,
        "transcript": {"language": "en", "model": MODEL, "segments": segments},
    }


def build_all() -> dict[str, str]:
    """File name -> JSON text for every script."""
    files = {}
    for script in sorted(SCRIPTS.glob("*.txt")):
        for item in parse(script.read_text(), script.stem):
            files[f"{item['id']}.json"] = json.dumps(build(item), indent=1) + "\n"
    return files


def stale_files() -> list[str]:
    files = build_all()
    on_disk = {p.name for p in OUT.glob("*.json")}
    return sorted(
        name for name, text in files.items() if not (OUT / name).exists() or (OUT / name).read_text() != text
    ) + sorted(on_disk - set(files))


def main() -> int:
    if "--check" in sys.argv:
        stale = stale_files()
        print("stale:", ", ".join(stale) if stale else "none")
        return 1 if stale else 0
    OUT.mkdir(exist_ok=True)
    files = build_all()
    for old in OUT.glob("*.json"):
        if old.name not in files:
            old.unlink()
    for name, text in files.items():
        (OUT / name).write_text(text)
    print(f"wrote {len(files)} transcripts to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
