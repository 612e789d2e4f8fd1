"""Importing survey responses, linking them to clips, and the figures the dashboard charts."""

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from api.audit.service import Actor, record
from api.clips.models import Clip
from api.core.errors import Invalid
from api.core.types import saved_id
from api.db import enqueue_after_commit
from api.pagination import Page, offset_page
from api.surveys.models import SurveyImport, SurveyResponse
from api.surveys.rows import SATISFIED, BadFile, SurveyRow, read_rows

REDACT_JOB = "surveys.redact"
MAX_FILE_BYTES = 50 * 1024 * 1024
_COMPARED = ("incident_number", "responded_on", "score", "scale", "division", "comment", "badge_number")


def import_file(session: Session, actor: Actor, filename: str, data: bytes) -> SurveyImport:
    """Take every valid row not imported before (by survey id); report the others. Importing the
    same file again changes nothing. Comments are checked for personal details by the worker."""
    if len(data) > MAX_FILE_BYTES:
        raise Invalid(f"the file is larger than {MAX_FILE_BYTES // 2**20} MB: split it")
    try:
        rows, refusals = read_rows(data)
    except BadFile as exc:
        raise Invalid(f"{filename}: {exc}") from None
    unreadable = len(refusals)
    known = _existing(session, [row.survey_id for row in rows])
    fresh, unchanged = [], 0
    for row in rows:
        before = known.get(row.survey_id)
        if before is None:
            fresh.append(row)
        elif _same(before, row):
            unchanged += 1
        else:
            refusals.append(
                {
                    "line": row.line,
                    "survey_id": row.survey_id,
                    "problem": f"survey_id {row.survey_id!r} was imported before with other values; it was not changed",
                }
            )
    batch = SurveyImport(
        filename=filename[:300],
        sha256=hashlib.sha256(data).hexdigest(),
        rows=len(rows) + unreadable,
        accepted=len(fresh),
        unchanged=unchanged,
        refused=len(refusals),
        refusals=sorted(refusals, key=lambda r: r["line"]),
        imported_by=actor.name,
    )
    session.add(batch)
    session.flush()
    batch_id = saved_id(batch)
    session.add_all(_response(row, batch_id) for row in fresh)
    session.flush()
    record(
        session,
        actor,
        "surveys.import",
        object_type="survey_import",
        object_id=batch.id,
        details={
            "file": batch.filename,
            "sha256": batch.sha256,
            "accepted": batch.accepted,
            "unchanged": unchanged,
            "refused": batch.refused,
        },
    )
    if fresh:
        enqueue_after_commit(session, REDACT_JOB, batch.id)
    return batch


def _existing(session: Session, survey_ids: list[str]) -> dict[str, SurveyResponse]:
    found = {}
    for start in range(0, len(survey_ids), 500):
        chunk = survey_ids[start : start + 500]
        found.update(
            {
                r.survey_id: r
                for r in session.exec(select(SurveyResponse).where(col(SurveyResponse.survey_id).in_(chunk)))
            }
        )
    return found


def _response(row: SurveyRow, import_id: int) -> SurveyResponse:
    return SurveyResponse(
        survey_id=row.survey_id,
        incident_number=row.incident_number,
        responded_on=row.responded_on,
        division=row.division,
        score=row.score,
        scale=row.scale,
        satisfaction=round(row.satisfaction, 4),
        comment=row.comment,
        comment_shown=None if row.comment else "",
        badge_number=row.badge,
        import_id=import_id,
    )


def _same(before: SurveyResponse, row: SurveyRow) -> bool:
    after = _response(row, before.import_id)
    return all(getattr(before, name) == getattr(after, name) for name in _COMPARED)


def redact_comments(session: Session, import_id: int) -> int:
    """Fill `comment_shown` for this import's comments: personal details replaced by "[redacted]".
    Returns how many comments were checked."""
    from api.surveys.comments import redact_text  # spaCy: the worker's, never the web process's

    pending = session.exec(
        select(SurveyResponse).where(SurveyResponse.import_id == import_id, col(SurveyResponse.comment_shown).is_(None))
    ).all()
    for response in pending:
        response.comment_shown = redact_text(response.comment or "")
        session.add(response)
    return len(pending)


def links_clip():
    """The SQL condition under which a survey response is about the clip in the outer query."""
    return sa.and_(
        col(SurveyResponse.incident_number) == Clip.incident_number,
        sa.or_(col(SurveyResponse.badge_number).is_(None), col(SurveyResponse.badge_number) == Clip.badge_number),
    )


def has_compliment():
    """SQL: the clip in the outer query has a linked response from a satisfied person."""
    return sa.exists().where(links_clip(), col(SurveyResponse.satisfaction) >= SATISFIED)


@dataclass
class ClipSurvey:
    survey_id: str
    responded_on: str
    score: str  # as the person gave it: "5 of 5", "84 %"
    satisfied: bool
    comment: str | None  # None: still being checked for personal details
    comment_checked: bool


def for_clip(session: Session, clip: Clip, *, as_admin: bool) -> list[ClipSurvey]:
    """The responses about this clip's incident (and officer, where the survey names a badge).
    Admins read the comment as sent; everyone else once personal details are taken out."""
    if not clip.incident_number:
        return []
    rows = session.exec(
        select(SurveyResponse)
        .where(SurveyResponse.incident_number == clip.incident_number)
        .where(
            sa.or_(col(SurveyResponse.badge_number).is_(None), col(SurveyResponse.badge_number) == clip.badge_number)
        )
        .order_by(col(SurveyResponse.responded_on).desc(), col(SurveyResponse.id))
    ).all()
    return [
        ClipSurvey(
            survey_id=r.survey_id,
            responded_on=r.responded_on.isoformat(),
            score=f"{r.score:g} of 5" if r.scale == "1-5" else f"{r.score:g} %",
            satisfied=r.satisfaction >= SATISFIED,
            comment=(r.comment if as_admin else r.comment_shown) or None,
            comment_checked=r.comment_shown is not None,
        )
        for r in rows
    ]


def imports(session: Session, *, limit: int | None, offset: int = 0) -> Page[SurveyImport]:
    return offset_page(session, select(SurveyImport), (col(SurveyImport.id).desc(),), limit=limit, offset=offset)


def csat_by_month(session: Session) -> list[dict]:
    """C-SAT (the share of satisfied responses) per month and division, oldest month first."""
    year = sa.extract("year", col(SurveyResponse.responded_on))
    month = sa.extract("month", col(SurveyResponse.responded_on))
    division = sa.func.coalesce(SurveyResponse.division, "unknown")
    satisfied = sa.func.sum(sa.case((col(SurveyResponse.satisfaction) >= SATISFIED, 1), else_=0))
    # SQLAlchemy's select and execute: sqlmodel's select is typed for at most four columns.
    grouped = session.execute(
        sa.select(year, month, division, sa.func.count(), satisfied)
        .group_by(year, month, division)
        .order_by(year, month, division)
    ).all()
    return [
        {
            "month": f"{int(y):04d}-{int(m):02d}",
            "division": d,
            "responses": n,
            "satisfied": int(s),
            "csat": round(s / n, 4),
        }
        for y, m, d, n, s in grouped
    ]
