"""Pages: the committee's nominations (pending and decided) and the record of Acts of Excellence.

The committee decides through the JSON API (nominations.js); these pages only read. A page of
nominations costs a fixed handful of queries: officers, names, clips are loaded for the whole page.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import func
from sqlmodel import select

from api.awards.models import Award, Nomination, NominationClip, NominationOfficer, NominationState
from api.awards.schemas import AwardPublic
from api.clips.models import Clip
from api.db import SessionDep
from api.params import MAX_ID
from api.users.models import Officer, Role
from review_ui.pages import AnyPage, CommitteePage, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
AWARDS_PAGE_SIZE = 50
# Who sees every award; the others see their own (the rule of GET /api/v1/awards).
AWARD_READERS = (Role.REVIEWER, Role.COMMITTEE, Role.TRAINER, Role.ADMIN)
PageNumber = Annotated[int, Query(ge=1, le=MAX_ID)]


@dataclass
class NominatedClipRow:
    clip_id: int
    moments: list[dict]
    clip: Clip | None


@dataclass
class NominationCard:
    nomination: Nomination
    officers: list[tuple[str, str | None]] = field(default_factory=list)  # (badge, name)
    clips: list[NominatedClipRow] = field(default_factory=list)


def _cards(session, nominations: list[Nomination]) -> list[NominationCard]:
    """Officers (with names), clips and moments for a page of nominations in four queries."""
    ids = [n.id for n in nominations]
    if not ids:
        return []
    officers: dict[int, list[str]] = defaultdict(list)
    for row in session.exec(select(NominationOfficer).where(NominationOfficer.nomination_id.in_(ids))
                            .order_by(NominationOfficer.badge_number)):
        officers[row.nomination_id].append(row.badge_number)
    badges = {badge for found in officers.values() for badge in found}
    names = dict(session.exec(select(Officer.badge_number, Officer.name).where(Officer.badge_number.in_(badges))).all()
                 ) if badges else {}
    clips: dict[int, list[NominationClip]] = defaultdict(list)
    for row in session.exec(select(NominationClip).where(NominationClip.nomination_id.in_(ids))
                            .order_by(NominationClip.id)):
        clips[row.nomination_id].append(row)
    clip_ids = {row.clip_id for rows in clips.values() for row in rows}
    facts = {c.id: c for c in session.exec(select(Clip).where(Clip.id.in_(clip_ids)))} if clip_ids else {}
    return [NominationCard(
        nomination=n,
        officers=[(badge, names.get(badge)) for badge in officers[n.id]],
        clips=[NominatedClipRow(row.clip_id, sorted(row.moments, key=lambda m: m.get("at", 0)), facts.get(row.clip_id))
               for row in clips[n.id]],
    ) for n in nominations]


def _page(session, query, order, page: int, size: int) -> tuple[list[Nomination], int]:
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = list(session.exec(query.order_by(*order).limit(size).offset((page - 1) * size)))
    return rows, total


@router.get("/nominations")
def nominations_page(request: Request, principal: CommitteePage, session: SessionDep,
                     pending_page: PageNumber = 1, decided_page: PageNumber = 1):
    """Pending nominations (oldest first) with their clips and moments; decided ones below.

    Approve and decline appear only for those the API lets decide: the committee and admins."""
    pending, pending_total = _page(session, select(Nomination).where(Nomination.state == NominationState.PENDING),
                                   (Nomination.created_at, Nomination.id), pending_page, PAGE_SIZE)
    decided, decided_total = _page(session, select(Nomination).where(Nomination.state != NominationState.PENDING),
                                   (Nomination.decided_at.desc(), Nomination.id.desc()), decided_page, PAGE_SIZE)
    cards = _cards(session, pending + decided)
    return render(request, "nominations.html", principal,
                  pending=cards[:len(pending)], decided=cards[len(pending):],
                  pending_total=pending_total, decided_total=decided_total,
                  pending_page=pending_page, decided_page=decided_page, page_size=PAGE_SIZE,
                  can_decide=principal.has(Role.COMMITTEE, Role.ADMIN), today=date.today().isoformat())


def _blank_is_none(value: str | None) -> str | None:
    return value.strip() or None if value else None


@router.get("/awards")
def awards_page(request: Request, principal: AnyPage, session: SessionDep, badge_number: str | None = None,
                division: str | None = None, page: PageNumber = 1):
    """The record of Acts of Excellence, filterable by officer and division (officers: their own)."""
    staff = principal.has(*AWARD_READERS)
    badge_number, division = _blank_is_none(badge_number), _blank_is_none(division)
    if not staff:
        badge_number, division = principal.badge_number or "\x00", None
    query = select(Award, Officer.name).join(Officer, Officer.badge_number == Award.badge_number, isouter=True)
    counted = select(Award.id)
    for condition in ([Award.badge_number == badge_number] if badge_number else []) + (
            [Award.division == division] if division else []):
        query, counted = query.where(condition), counted.where(condition)
    total = session.exec(select(func.count()).select_from(counted.subquery())).one()
    rows = session.exec(query.order_by(Award.awarded_on.desc(), Award.id.desc())
                        .limit(AWARDS_PAGE_SIZE).offset((page - 1) * AWARDS_PAGE_SIZE))
    awards = [AwardPublic(**award.model_dump(), officer_name=name) for award, name in rows]
    divisions, officers = [], []
    if staff:  # the choices for the filters: only values that have awards
        divisions = [d for d in session.exec(select(Award.division).distinct().order_by(Award.division)) if d]
        officers = list(session.exec(
            select(Award.badge_number, Officer.name).join(Officer, Officer.badge_number == Award.badge_number,
                                                          isouter=True).distinct().order_by(Award.badge_number)))
    return render(request, "awards.html", principal, awards=awards, total=total, page=page,
                  page_size=AWARDS_PAGE_SIZE, has_next=page * AWARDS_PAGE_SIZE < total, staff=staff,
                  badge_number=badge_number if staff else None, division=division,
                  divisions=divisions, officers=officers)
