"""Reading a survey export: one row per response, each checked on its own, so one bad row is
reported and the rest are taken."""

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime

REQUIRED = ("survey_id", "incident_number", "date", "score")
OPTIONAL = ("division", "comment", "badge")
HEADER_ALIASES = {"badge_number": "badge", "survey": "survey_id", "incident": "incident_number"}
LIMITS = {"survey_id": 100, "incident_number": 200, "division": 200, "comment": 5000, "badge": 50}
MAX_ROWS = 200_000
SATISFIED = 0.75  # a 4 or 5 of 5, or 75 % and above: what the department's C-SAT counts
_PERCENT = re.compile(r"^(\d{1,3}(?:\.\d+)?)\s*%$")
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")


@dataclass(frozen=True)
class SurveyRow:
    line: int
    survey_id: str
    incident_number: str
    responded_on: date
    score: float
    scale: str
    division: str | None
    comment: str | None
    badge: str | None

    @property
    def satisfaction(self) -> float:
        return (self.score - 1) / 4 if self.scale == "1-5" else self.score / 100


class BadFile(ValueError):
    """The file as a whole cannot be read as a survey export."""


def read_rows(data: bytes) -> tuple[list[SurveyRow], list[dict]]:
    """The rows that hold, and a refusal ({line, survey_id, problem}) for each that does not."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadFile(f"the file is not UTF-8 text (byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text))
    headers = {_header(h): h for h in reader.fieldnames or []}
    if missing := [h for h in REQUIRED if h not in headers]:
        raise BadFile(
            f"the header row lacks {', '.join(missing)}: columns are {', '.join(REQUIRED + OPTIONAL)} "
            f"(found {', '.join(reader.fieldnames or []) or 'none'})"
        )
    rows, refusals, seen = [], [], set()
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            raise BadFile(f"more than {MAX_ROWS} rows: split the file")
        values = {name: (raw.get(original) or "").strip() for name, original in headers.items()}
        try:
            row = _row(number, values)
            if row.survey_id in seen:
                raise ValueError(f"survey_id {row.survey_id!r} appears twice in this file")
        except ValueError as exc:
            refusals.append({"line": number, "survey_id": values.get("survey_id") or None, "problem": str(exc)})
            continue
        seen.add(row.survey_id)
        rows.append(row)
    return rows, refusals


def _header(name: str) -> str:
    plain = re.sub(r"[\s-]+", "_", (name or "").strip().lower())
    return HEADER_ALIASES.get(plain, plain)


def _row(line: int, values: dict[str, str]) -> SurveyRow:
    for name in REQUIRED:
        if not values.get(name):
            raise ValueError(f"{name} is empty")
    for name, limit in LIMITS.items():
        if len(values.get(name, "")) > limit:
            raise ValueError(f"{name} is longer than {limit} characters")
    score, scale = _score(values["score"])
    return SurveyRow(
        line=line,
        survey_id=values["survey_id"],
        incident_number=values["incident_number"],
        responded_on=_date(values["date"]),
        score=score,
        scale=scale,
        division=values.get("division") or None,
        comment=values.get("comment") or None,
        badge=values.get("badge") or None,
    )


def _score(text: str) -> tuple[float, str]:
    if match := _PERCENT.match(text):
        percent = float(match.group(1))
        if percent <= 100:
            return percent, "percent"
    else:
        try:
            score = float(text)
        except ValueError:
            score = None
        if score is not None and 1 <= score <= 5:
            return score, "1-5"
    raise ValueError(f"score {text!r} is neither 1 to 5 nor a percentage such as 84%")


def _date(text: str) -> date:
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    raise ValueError(f"date {text!r} is not YYYY-MM-DD or MM/DD/YYYY")
