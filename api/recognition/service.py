"""The recognition rules an admin edits: where the rules in force are, and an edit checked before
it is saved, each problem placed at the rule (the cue) it concerns.

The check is parse_rules, the one PUT /api/v1/recognition/rules runs (api.clips.recognition.
replace_rules): an edit passes here if and only if it passes there. parse_rules stops at the first
problem, so to show every problem at once each cue is also checked on its own (beside the edit's
categories), and the settings on their own (beside a cue that is fine), and a problem is named by
where it was found.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from api.config import get_settings
from api.recognition.rules import (  # noqa: F401  SPEAKERS: for the rules page
    _CUE_KEYS,
    _TOP_KEYS,
    DEFAULT_RULES_PATH,
    SPEAKERS,
    RulesError,
    load_rules,
    parse_rules,
)

SOURCE = "edit"
_PREFIX = f"rules file {SOURCE}: "
_CUE_WHERE = re.compile(r"^cue (#\d+|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"): ")
_QUOTED_KEY = re.compile(r"'([a-z_]+)'")
# Settings every cue is checked beside when the edit's own are broken, so that a broken setting
# does not hide a cue's problem.
_SOUND_SETTINGS = {
    "version": 1,
    "suggestion_threshold": 0.5,
    "low_confidence_probability": 0.5,
    "evidence_scale": 1.0,
    "negation": {"words": [], "window": 0},
}


def rules_path() -> Path:
    """The edited rules once there are any (BESTPART_RULES_PATH, or DATA_DIR/rules.json), else the
    packaged ones; the same place api.clips.recognition reads."""
    edited = get_settings().editable_rules_path
    return edited if edited.exists() else DEFAULT_RULES_PATH


@dataclass
class RulesInForce:
    """The rules file as it stands: its content, and its version, digest and cue count; `problem`
    when a hand edit broke it (the last good rules stay in force in the workers)."""

    data: dict
    version: int | None
    digest: str | None
    cues: int
    path: str
    problem: str | None = None

    @property
    def packaged(self) -> bool:
        """Still the rules that ship with bestpart (nobody has saved an edit)."""
        return Path(self.path) == DEFAULT_RULES_PATH


def rules_in_force() -> RulesInForce:
    path = rules_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return RulesInForce({}, None, None, 0, str(path), f"the rules file cannot be read: {exc}")
    try:
        rules = load_rules(path)
    except RulesError as exc:
        return RulesInForce(data if isinstance(data, dict) else {}, None, None, 0, str(path), str(exc))
    return RulesInForce(data, rules.version, rules.digest, len(rules.cues), str(path))


@dataclass
class RuleProblem:
    message: str
    cue: int | None = None  # the cue's place in the edit (0-based); None: the settings or the whole file
    cue_id: str | None = None
    field: str | None = None  # the key it concerns, where the message names one


@dataclass
class RulesCheck:
    ok: bool
    problems: list[RuleProblem] = field(default_factory=list)
    version: int | None = None
    cues: int = 0


def check(data: object) -> RulesCheck:
    """Check an edit as PUT /api/v1/recognition/rules would, and say where each problem is."""
    try:
        rules = parse_rules(data, source=SOURCE)
    except RulesError as exc:
        verdict = str(exc)
    else:
        return RulesCheck(ok=True, version=rules.version, cues=len(rules.cues))
    problems = _located(data) if isinstance(data, dict) else []
    if not problems:  # found by the whole only (an empty list of cues): the verdict, unplaced
        problems = [RuleProblem(_clean(verdict), field=_field(verdict, _TOP_KEYS | {"cues"}))]
    return RulesCheck(ok=False, problems=problems)


def _located(data: dict) -> list[RuleProblem]:
    problems = []
    cues = data.get("cues")
    cues = cues if isinstance(cues, list) else []
    settings = {key: value for key, value in data.items() if key != "cues"}
    categories = data.get("categories")
    listed: list = categories if isinstance(categories, list) else []
    sound_categories = bool(listed) and all(isinstance(c, str) and c for c in listed)
    probe = {"id": "probe", "category": listed[0] if sound_categories else "", "weight": 1, "patterns": ["probe"]}
    try:
        parse_rules({**settings, "cues": [probe]}, source=SOURCE)
    except RulesError as exc:
        problems.append(RuleProblem(_clean(str(exc)), field=_field(str(exc), _TOP_KEYS)))
    if not sound_categories:
        return problems  # every cue's category would be refused: the settings' problem says why
    base = {**_SOUND_SETTINGS, "categories": categories}
    seen: dict[str | None, int] = {}
    for n, cue in enumerate(cues):
        cue_id = cue.get("id") if isinstance(cue, dict) and isinstance(cue.get("id"), str) else None
        try:
            parse_rules({**base, "cues": [cue]}, source=SOURCE)
        except RulesError as exc:
            problems.append(RuleProblem(_clean(str(exc)), n, cue_id, _field(str(exc), _CUE_KEYS)))
            continue
        if cue_id in seen:
            problems.append(
                RuleProblem(f"the id {cue_id!r} is used by cue {seen[cue_id] + 1} already", n, cue_id, "id")
            )
        seen.setdefault(cue_id, n)
    return problems


def _clean(message: str) -> str:
    """The problem without "rules file edit: " and the cue's name (it is shown at the cue)."""
    return _CUE_WHERE.sub("", message.removeprefix(_PREFIX), count=1)


def _field(message: str, keys: set[str]) -> str | None:
    body = _clean(message)
    if body.startswith("pattern ") or "in pattern " in body:
        return "patterns"
    return next((key for key in _QUOTED_KEY.findall(body) if key in keys), None)
