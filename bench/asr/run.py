"""The ASR evaluation: transcribe the synthetic BWC clips and score words, speakers and recognition.

    python bench/asr/run.py [--split dev|blind|all] [--model NAME_OR_PATH] [--only ID_SUBSTRING] [--json FILE]

Renders the clips (cached, bench/asr/generate.py), runs each through workers.hearing.hear_file, then
api.recognition.detect on the transcript. One row per clip, then the median and worst clip per
metric, then PASS/MISS per target. Exit 1 on any MISS.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never fetch a model during an evaluation

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

import score
from generate import generate

MIN_KEPT, MAX_WER, MIN_SPEAKERS = 0.95, 0.30, 0.90


def evaluate(ref_path: Path, hear_file, detect, model: str | None) -> dict:
    """One clip's row: transcribe, score, recognise."""
    ref = json.loads(ref_path.read_text())
    row = {"id": ref["id"], "seconds": ref["duration"], "expected": ref["expected_categories"]}
    began = time.perf_counter()
    try:
        transcript = hear_file(ref_path.parent / ref["media"], model=model)
        suggested = list(detect(transcript).suggested_categories)
    except Exception as e:  # noqa: BLE001 -- one broken clip is a MISS, not the end of the evaluation
        return {**row, "error": f"{type(e).__name__}: {e}", "wall_s": time.perf_counter() - began}
    row["wall_s"] = time.perf_counter() - began
    expected, hypothesis = score.reference_words(ref), score.transcript_words(transcript)
    row.update(
        wer=score.wer(expected, hypothesis),
        kept=score.words_kept(expected, hypothesis),
        speakers=score.speaker_attribution(ref, transcript),
        suggested=suggested,
        categories_ok=set(ref["expected_categories"]) <= set(suggested)
        and (bool(ref["expected_categories"]) or not suggested),
    )
    return row


def show_row(row: dict) -> None:
    head = f"{row['id']:<22} {row['seconds']:6.1f}"
    if "error" in row:
        print(f"{head}  ERROR {row['error']}")
        return
    verdict = "OK   " if row["categories_ok"] else "WRONG"
    print(
        f"{head} {row['wer']:6.3f} {row['kept']:6.3f} {row['speakers']:6.3f}  {verdict} "
        f"{','.join(row['suggested']) or '-'} / {','.join(row['expected']) or '-'}  {row['wall_s']:6.1f}"
    )


METRICS = (  # name, value of a row, worst of
    ("WER", lambda r: r["wer"], max),
    ("words kept", lambda r: r["kept"], min),
    ("speaker attribution", lambda r: r["speakers"], min),
    ("wall s / audio s", lambda r: r["wall_s"] / r["seconds"], max),
)


def summary(rows: list) -> None:
    """Median and worst clip of each metric (clips that failed to run have no metrics)."""
    good = [r for r in rows if "error" not in r]
    if not good:
        return
    print()
    for name, value, worst in METRICS:
        bad = worst(good, key=value)
        print(f"{name:<20} median {statistics.median(map(value, good)):6.3f}   worst {value(bad):6.3f} {bad['id']}")


def targets(rows: list) -> bool:
    """PASS/MISS per target, naming the clips that miss; True when all pass."""
    ran = [r for r in rows if "error" not in r]
    checks = [
        ("every clip transcribed without an error", [r["id"] for r in rows if "error" in r]),
        (f"every clip words kept >= {MIN_KEPT}", [r["id"] for r in ran if r["kept"] < MIN_KEPT]),
        (f"every clip WER <= {MAX_WER}", [r["id"] for r in ran if r["wer"] > MAX_WER]),
        (f"every clip speaker attribution >= {MIN_SPEAKERS}", [r["id"] for r in ran if r["speakers"] < MIN_SPEAKERS]),
        (
            "every positive clip gets its expected categories",
            [r["id"] for r in ran if r["expected"] and not r["categories_ok"]],
        ),
        ("no routine clip gets a category", [r["id"] for r in ran if not r["expected"] and r["suggested"]]),
    ]
    print()
    for name, misses in checks:
        print(f"{'MISS' if misses else 'PASS'}  {name}" + (f": {', '.join(misses)}" if misses else ""))
    return not any(misses for _, misses in checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "blind", "all"], default="dev")
    parser.add_argument("--model", help="Whisper model name or path (default: hear_file's own)")
    parser.add_argument("--only", default="", help="only the clips whose id contains this")
    parser.add_argument("--json", type=Path, help="write every row to this file")
    args = parser.parse_args()

    refs = generate(args.split, only=args.only)
    if not refs:
        print(f"no clip scripts in bench/asr/scripts/{args.split} match {args.only!r}")
        return 1
    from api.recognition import detect
    from workers.hearing import hear_file

    minutes = sum(json.loads(p.read_text())["duration"] for p in refs) / 60
    print(f"{len(refs)} clips, {minutes:.1f} min of audio, split {args.split}, model {args.model or 'default'}\n")
    print(f"{'clip':<22} {'audio':>6} {'WER':>6} {'kept':>6} {'spkr':>6}  categories (suggested / expected)  wall s")
    rows = []
    for ref_path in refs:
        rows.append(evaluate(ref_path, hear_file, detect, args.model))
        show_row(rows[-1])
    summary(rows)
    ok = targets(rows)
    if args.json:
        args.json.write_text(json.dumps({"split": args.split, "model": args.model, "rows": rows}, indent=1) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
