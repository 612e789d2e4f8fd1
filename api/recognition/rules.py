"""The cue rules: a versioned JSON file admins edit, checked and compiled once into fast matchers.

Pattern syntax (one phrase per string, words separated by spaces, written as people speak;
punctuation, case and contractions don't matter because patterns are normalised like the words):

    you're not in trouble      plain words, in order
    i|we understand            a word with alternatives
    breath*                    any word starting with "breath"
    call * ambulance           exactly one word of anything
    hurt ... you               zero to three words, not across the end of a sentence
    <num> compressions         any number ("30", "thirty")
    (no one's|nobody's) here   alternatives of several words go in parentheses

A pattern may not start or end with `*` or `...`. An alternative that normalises to several
words ("that's|it's" = "that is" | "it is") is fine: the pattern is expanded into variants.
Beware that spaces separate words: "all right|okay" is "all" then "right|okay"; write
"(all right|okay)".
"""

import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from api.core.errors import Invalid
from api.recognition.normalise import normalise_word as _normalise

DEFAULT_RULES_PATH = Path(__file__).with_name("rules.json")
GAP_WORDS = 3
MAX_VARIANTS = 64
_PARTS = re.compile(r"\([^()]*\)|[^\s()]+")  # a parenthesised group, or a run of non-space

_TOP_KEYS = {
    "version",
    "categories",
    "suggestion_threshold",
    "low_confidence_probability",
    "evidence_scale",
    "negation",
    "cues",
    "description",
    "syntax",
}
_CUE_KEYS = {"id", "category", "label", "patterns", "weight", "negatable", "supporting", "speaker", "note"}
SPEAKERS = ("officer", "anyone", "civilian")


class RulesError(Invalid):
    """The rules file is unusable; the message says where and why."""


@dataclass(frozen=True)
class Element:
    """One position in a pattern. kind: 'word' (literals/prefixes), 'any', 'num' or 'gap'."""

    kind: str
    literals: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    def accepts(self, token: str) -> bool:
        if self.kind == "word":
            if token in self.literals:
                return True
            return bool(self.prefixes) and any(token.startswith(p) for p in self.prefixes)
        if self.kind == "num":
            return token.isdigit()
        return self.kind == "any"


@dataclass(frozen=True)
class Pattern:
    text: str
    elements: tuple[Element, ...]


@dataclass(frozen=True)
class Cue:
    id: str
    category: str
    label: str
    weight: float
    patterns: tuple[Pattern, ...]
    negatable: bool = True  # "not here to help" is no offer of help; "not breathing" still is life-saving
    supporting: bool = False  # politeness alone doesn't make a de-escalation: counts only beside a core cue
    # Whose words the cue reads (SPEAKERS). "officer": the wearer's behaviour, scored on officer speech
    # only. "anyone": context ("he's not breathing", "license and registration"), scored from the
    # officer and supporting only from anyone else. "civilian": what others say of the officer
    # ("thank you, officer"): a signal shown beside the highlights, never scored.
    speaker: str = "officer"

    @property
    def counter(self) -> bool:
        return self.weight < 0


Candidate = tuple[Cue, Pattern, int]


@dataclass
class Rules:
    version: int
    categories: tuple[str, ...]
    suggestion_threshold: float
    low_confidence_probability: float
    evidence_scale: float
    negation_words: frozenset[str]
    negation_window: int
    cues: tuple[Cue, ...]
    digest: str  # sha256 of the file's content: lets the service notice an edit without a version bump
    source: str = ""
    # Indexes from a pattern's first word (or first two, when both are plain words) to the pattern,
    # so matching only tries the few patterns that can start here: an hour of speech takes ms.
    # Each entry is (cue, pattern, how many elements the index lookup has already checked).
    by_pair: dict[tuple[str, str], list[Candidate]] = field(default_factory=dict, repr=False)
    by_word: dict[str, list[Candidate]] = field(default_factory=dict, repr=False)
    by_prefix: dict[str, list[Candidate]] = field(default_factory=dict, repr=False)
    by_number: list[Candidate] = field(default_factory=list, repr=False)
    prefix_lengths: tuple[int, ...] = ()

    def candidates(self, token: str, next_token: str | None) -> list[Candidate]:
        found = list(self.by_word.get(token, ()))
        if next_token is not None:
            found.extend(self.by_pair.get((token, next_token), ()))
        for length in self.prefix_lengths:
            if len(token) >= length:
                found.extend(self.by_prefix.get(token[:length], ()))
        if token.isdigit():
            found.extend(self.by_number)
        return found


def load_rules(path: str | Path | None = None) -> Rules:
    """Read, validate and compile a rules file (default: the packaged rules.json)."""
    path = Path(path) if path is not None else DEFAULT_RULES_PATH
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RulesError(f"rules file {path}: cannot be read ({exc.strerror or exc})") from exc
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RulesError(f"rules file {path}: not valid JSON ({exc})") from exc
    return parse_rules(data, source=str(path), digest=hashlib.sha256(raw).hexdigest())


def parse_rules(data: object, source: str = "<rules>", digest: str | None = None) -> Rules:
    """Validate and compile rules already parsed from JSON. Raises RulesError naming the problem."""
    where = f"rules file {source}"
    if not isinstance(data, dict):
        raise RulesError(f"{where}: the top level must be a JSON object")
    _no_unknown_keys(data, _TOP_KEYS, where)
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RulesError(f"{where}: 'version' must be a positive integer, got {version!r}")
    categories = data.get("categories")
    if (
        not isinstance(categories, list)
        or not categories
        or not all(isinstance(c, str) and c for c in categories)
        or len(set(categories)) != len(categories)
    ):
        raise RulesError(f"{where}: 'categories' must be a non-empty list of distinct names")
    negation = data.get("negation", {"words": [], "window": 0})
    if (
        not isinstance(negation, dict)
        or not isinstance(negation.get("words"), list)
        or not all(isinstance(w, str) for w in negation["words"])
        or not isinstance(negation.get("window"), int)
        or negation["window"] < 0
    ):
        raise RulesError(f'{where}: \'negation\' must be {{"words": [...], "window": N}}')
    cues_data = data.get("cues")
    if not isinstance(cues_data, list) or not cues_data:
        raise RulesError(f"{where}: 'cues' must be a non-empty list")

    cues, seen = [], set()
    for n, cue_data in enumerate(cues_data):
        cue = _parse_cue(cue_data, n, where, set(categories))
        if cue.id in seen:
            raise RulesError(f"{where}: cue id {cue.id!r} is used twice")
        seen.add(cue.id)
        cues.append(cue)

    rules = Rules(
        version=version,
        categories=tuple(categories),
        suggestion_threshold=_fraction(data, "suggestion_threshold", where),
        low_confidence_probability=_fraction(data, "low_confidence_probability", where),
        evidence_scale=_positive(data, "evidence_scale", where),
        negation_words=frozenset(t for w in negation["words"] for t in _normalise(w)),
        negation_window=negation["window"],
        cues=tuple(cues),
        digest=digest or hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest(),
        source=source,
    )
    _index(rules)
    return rules


def _parse_cue(data: object, n: int, file_where: str, categories: set[str]) -> Cue:
    where = f"{file_where}: cue #{n + 1}"
    if not isinstance(data, dict):
        raise RulesError(f"{where}: must be a JSON object")
    cue_id = data.get("id")
    if not isinstance(cue_id, str) or not cue_id:
        raise RulesError(f"{where}: 'id' must be a non-empty string")
    where = f"{file_where}: cue {cue_id!r}"
    _no_unknown_keys(data, _CUE_KEYS, where)
    if data.get("category") not in categories:
        raise RulesError(f"{where}: 'category' must be one of {sorted(categories)}, got {data.get('category')!r}")
    weight = data.get("weight")
    if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight == 0 or abs(weight) > 5:
        raise RulesError(f"{where}: 'weight' must be a non-zero number between -5 and 5, got {weight!r}")
    patterns = data.get("patterns")
    if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) for p in patterns):
        raise RulesError(f"{where}: 'patterns' must be a non-empty list of strings")
    for flag in ("negatable", "supporting"):
        if not isinstance(data.get(flag, False), bool):
            raise RulesError(f"{where}: '{flag}' must be true or false")
    if data.get("speaker", "officer") not in SPEAKERS:
        raise RulesError(f"{where}: 'speaker' must be one of {list(SPEAKERS)}, got {data.get('speaker')!r}")
    return Cue(
        id=cue_id,
        category=data["category"],
        label=str(data.get("label") or cue_id),
        weight=float(weight),
        patterns=tuple(variant for p in patterns for variant in compile_pattern(p, where)),
        negatable=data.get("negatable", True),
        supporting=data.get("supporting", False),
        speaker=data.get("speaker", "officer"),
    )


def compile_pattern(text: str, where: str = "pattern") -> list[Pattern]:
    """One pattern string -> one or more matchers. An alternative that is several words once
    normalised ("that's|it's" -> that is | it is) makes a separate variant of the pattern."""
    variants: list[list[Element]] = [[]]
    if text.count("(") != text.count(")"):
        raise RulesError(f"{where}: pattern {text!r} has unbalanced parentheses")
    for part in _PARTS.findall(text):
        options = _options(part, text, where)
        if len(variants) * len(options) > MAX_VARIANTS:
            raise RulesError(f"{where}: pattern {text!r} has too many combinations of alternatives; split it")
        variants = [v + list(o) for v in variants for o in options]
    if not variants[0]:
        raise RulesError(f"{where}: pattern {text!r} has no words")
    for elements in variants:
        if elements[0].kind in ("any", "gap") or elements[-1].kind in ("any", "gap"):
            raise RulesError(f"{where}: pattern {text!r} may not start or end with '*' or '...'")
    return [Pattern(text=text, elements=tuple(e)) for e in variants]


def _options(part: str, text: str, where: str) -> list[tuple[Element, ...]]:
    """The ways one space-separated part of a pattern can match, each a run of elements."""
    special = {"*": Element("any"), "...": Element("gap"), "<num>": Element("num")}
    if part in special:
        return [(special[part],)]
    if part.startswith("("):  # "(no one's|nobody's)": alternatives that may be several words
        part = part[1:-1]
    single_literals: set[str] = set()
    single_prefixes: list[str] = []
    multi: list[tuple[Element, ...]] = []
    for alternative in part.split("|"):
        run = _word_run(alternative, text, where)
        if len(run) > 1:
            multi.append(run)
        else:  # one-word alternatives share one element: cheaper to match
            single_literals |= run[0].literals
            single_prefixes += run[0].prefixes
    options = multi
    if single_literals or single_prefixes:
        options.insert(0, (Element("word", frozenset(single_literals), tuple(single_prefixes)),))
    return options


def _word_run(alternative: str, text: str, where: str) -> tuple[Element, ...]:
    """Words as spoken -> their normalised tokens: "don't" -> do, not; "de-escalat*" -> de, escalat*."""
    is_prefix = alternative.endswith("*")
    tokens = tuple(t for word in alternative.rstrip("*").split() for t in _normalise(word))
    if not tokens:
        raise RulesError(f"{where}: in pattern {text!r}, {alternative!r} has no letters or digits")
    run = [Element("word", literals=frozenset([t])) for t in tokens]
    if is_prefix:
        run[-1] = Element("word", prefixes=(tokens[-1],))
    return tuple(run)


def _index(rules: Rules) -> None:
    for cue in rules.cues:
        for pattern in cue.patterns:
            first, second = pattern.elements[0], pattern.elements[1:2]
            if first.kind == "num":
                rules.by_number.append((cue, pattern, 1))
            elif _plain(first) and second and _plain(second[0]):
                for pair in itertools.product(first.literals, second[0].literals):
                    rules.by_pair.setdefault(pair, []).append((cue, pattern, 2))
            else:
                for literal in first.literals:
                    rules.by_word.setdefault(literal, []).append((cue, pattern, 1))
                for prefix in first.prefixes:
                    rules.by_prefix.setdefault(prefix, []).append((cue, pattern, 1))
    rules.prefix_lengths = tuple(sorted({len(p) for p in rules.by_prefix}))


def _plain(element: Element) -> bool:
    return element.kind == "word" and not element.prefixes


def _no_unknown_keys(data: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise RulesError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def _fraction(data: dict, key: str, where: str) -> float:
    value = data.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value < 1:
        raise RulesError(f"{where}: '{key}' must be a number between 0 and 1, got {value!r}")
    return float(value)


def _positive(data: dict, key: str, where: str) -> float:
    value = data.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise RulesError(f"{where}: '{key}' must be a positive number, got {value!r}")
    return float(value)
