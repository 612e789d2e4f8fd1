"""Evaluate the cue detector on the labelled transcripts in tests/recognition/transcripts.

    python -m api.recognition.evaluate [--data DIR] [--rules FILE] [--verbose]

Prints per-category precision/recall/F1, top-category accuracy, cue-moment recall and the highest
score of any negative, for all transcripts and for the held-out split (written after the rules
and never used to tune them). Exit code 0 when the targets are met on all transcripts, else 1.
"""

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from api.recognition.detector import Recognition, detect
from api.recognition.rules import Rules, load_rules

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "tests" / "recognition" / "transcripts"
TARGET_F1 = 0.85
CUE_WINDOW_S = 3.0


@dataclass
class CategoryStats:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    name: str
    threshold: float
    transcripts: int = 0
    negatives: int = 0
    categories: dict[str, CategoryStats] = field(default_factory=dict)
    top_correct: int = 0
    positives: int = 0
    cues_found: int = 0
    cues_expected: int = 0
    max_negative: float = 0.0
    max_negative_id: str = ""
    errors: list[str] = field(default_factory=list)  # one line per transcript we got wrong

    @property
    def top_accuracy(self) -> float:
        return self.top_correct / self.positives if self.positives else 1.0

    @property
    def cue_recall(self) -> float:
        return self.cues_found / self.cues_expected if self.cues_expected else 1.0

    def negatives_ok(self) -> bool:
        return self.max_negative < self.threshold

    def passed(self, target_f1: float = TARGET_F1) -> bool:
        return all(s.f1 >= target_f1 for s in self.categories.values()) and self.negatives_ok()


def load_labelled(data_dir: Path = DEFAULT_DATA) -> list[dict]:
    items = [json.loads(p.read_text()) for p in sorted(Path(data_dir).glob("*.json"))]
    if not items:
        raise SystemExit(f"no labelled transcripts in {data_dir}")
    return items


def evaluate(items: list[dict], rules: Rules, name: str = "all") -> Report:
    report = Report(
        name=name, threshold=rules.suggestion_threshold, categories={c: CategoryStats() for c in rules.categories}
    )
    for item in items:
        _score_one(report, item, detect(item["transcript"], rules))
    return report


def _score_one(report: Report, item: dict, result: Recognition) -> None:
    expected, predicted = set(item["expected_categories"]), set(result.suggested_categories)
    report.transcripts += 1
    for category, stats in report.categories.items():
        stats.tp += category in expected and category in predicted
        stats.fp += category not in expected and category in predicted
        stats.fn += category in expected and category not in predicted
    if expected:
        report.positives += 1
        report.top_correct += bool(result.suggested_categories) and result.suggested_categories[0] in expected
    else:
        report.negatives += 1
        if result.score >= report.max_negative:
            report.max_negative, report.max_negative_id = result.score, item["id"]
    missed = [c for c in item["expected_cues"] if not _cue_found(c, result)]
    report.cues_expected += len(item["expected_cues"])
    report.cues_found += len(item["expected_cues"]) - len(missed)
    if expected != predicted:
        scores = ", ".join(f"{c} {s:.2f}" for c, s in result.category_scores.items())
        report.errors.append(
            f"{item['id']}: expected {sorted(expected) or 'none'}, "
            f"suggested {result.suggested_categories or 'none'} ({scores})"
        )


def _cue_found(cue: dict, result: Recognition) -> bool:
    return any(h.cue == cue["cue"] and abs(h.start - cue["time"]) <= CUE_WINDOW_S for h in result.highlights)


def format_report(report: Report, target_f1: float = TARGET_F1) -> list[str]:
    mark = lambda ok: "PASS" if ok else "MISS"  # noqa: E731
    lines = [
        f"== {report.name}: {report.transcripts} transcripts "
        f"({report.positives} positive, {report.negatives} negative)",
        f"{'category':<22}{'P':>6}{'R':>6}{'F1':>6}   tp fp fn   target F1 >= {target_f1:.2f}",
    ]
    for category, s in report.categories.items():
        lines.append(
            f"{category:<22}{s.precision:>6.2f}{s.recall:>6.2f}{s.f1:>6.2f}"
            f"   {s.tp:>2} {s.fp:>2} {s.fn:>2}   {mark(s.f1 >= target_f1)}"
        )
    lines += [
        f"top suggested category accuracy: {report.top_accuracy:.2f} ({report.top_correct}/{report.positives} positives)",
        f"cue-moment recall (+/-{CUE_WINDOW_S:.0f} s): {report.cue_recall:.2f} "
        f"({report.cues_found}/{report.cues_expected})",
        f"highest negative score: {report.max_negative:.2f} ({report.max_negative_id or '-'}) "
        f"vs threshold {report.threshold:.2f}   {mark(report.negatives_ok())}",
    ]
    return lines


def format_splits(items: list[dict], rules: Rules) -> list[str]:
    """One line per split. Each devN split was written as the held-out set for rules version N-1 and
    then used to write version N (its first-sight scores are in the header of its script), so only
    the held-out splits ('heldout', 'heldout2', ...) say how the current rules do on transcripts
    they were not tuned on."""
    lines = [f"by split: n, F1 per category ({', '.join(rules.categories)}), highest negative score"]
    splits = sorted({i.get("split", "?") for i in items}, key=_split_order)
    for split in splits:
        report = evaluate([i for i in items if i.get("split") == split], rules, split)
        f1 = " ".join(f"{s.f1:.2f}" for s in report.categories.values())
        lines.append(f"  {split:<9}{report.transcripts:>4}   {f1}   {report.max_negative:.2f}")
    tuned = ", ".join(s for s in splits if not is_held_out(s))
    untouched = ", ".join(s for s in splits if is_held_out(s))
    lines.append(
        f"  (the rules were tuned on {tuned}; {untouched} never used to tune them)"
        if untouched
        else f"  (the rules were tuned on every split: {tuned})"
    )
    return lines


def is_held_out(split: str) -> bool:
    return split.startswith("heldout")


def _split_order(split: str) -> tuple[int, str]:
    return (1, split) if is_held_out(split) else (0, split)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of labelled transcript JSON files")
    parser.add_argument("--rules", type=Path, default=None, help="rules file (default: the packaged rules.json)")
    parser.add_argument("--verbose", "-v", action="store_true", help="list every misclassified transcript")
    args = parser.parse_args(argv)

    rules = load_rules(args.rules)
    items = load_labelled(args.data)
    started = time.perf_counter()
    overall = evaluate(items, rules, "all")
    elapsed_ms = (time.perf_counter() - started) * 1000
    held_out = [i for i in items if is_held_out(i.get("split", ""))]
    heldout = evaluate(held_out, rules, "held-out") if held_out else None

    print(f"rules version {rules.version} ({rules.source}), suggestion threshold {rules.suggestion_threshold:.2f}")
    if heldout is None:
        print(
            "\nno split is held out now: every one was used to write these rules. How each version did on a\n"
            "split it had not seen is in that split's header (tests/recognition/README.md has the table)."
        )
    for report in (overall, heldout) if heldout else (overall,):
        print()
        print("\n".join(format_report(report)))
        if report.errors and (args.verbose or report is heldout):
            print("misclassified:")
            print("\n".join(f"  {line}" for line in report.errors))
    print()
    print("\n".join(format_splits(items, rules)))
    print()
    print(f"detection: {len(items)} transcripts in {elapsed_ms:.1f} ms")
    passed = overall.passed()
    print(
        f"RESULT: {'PASS' if passed else 'MISS'} (targets on all transcripts: F1 >= {TARGET_F1} "
        f"per category, no negative at or above the threshold)"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
