"""Pages for officers: upload footage, and follow what became of it (My footage).

Pages read through the services; the browser acts through the JSON API (upload.js, my.js).
A page of clips costs a fixed handful of queries, however many clips there are.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import func
from sqlmodel import select

from api.access import clip_filter
from api.awards import service as awards
from api.clips import service as clips_service
from api.clips.models import Category, Clip, ClipStatus
from api.clips.schemas import ClipPublic
from api.db import SessionDep
from api.params import MAX_ID
from api.review.models import Decision, OfficerReply, ReviewItem, ReviewState
from api.users.models import Role
from review_ui.pages import OfficerPage, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
ACCEPT = "video/*,.mp4,.m4v,.mov,.mkv,.avi"
REVIEW_LABELS = {
    ReviewState.QUEUED: "Waiting for review",
    ReviewState.IN_REVIEW: "Being reviewed",
    ReviewState.SELECTED_FOR_TRAINING: "Selected for training",
    ReviewState.NOMINATED: "Nominated for an Act of Excellence",
    ReviewState.DISMISSED: "Reviewed: not taken further",
    ReviewState.NEEDS_INFO: "The review team has a question",
}


@router.get("/upload")
def upload_page(request: Request, principal: OfficerPage):
    """Drag in several files with the ingest fields; upload.js sends each one and follows it."""
    badge_editable = principal.has(Role.ADMIN)
    return render(request, "upload.html", principal,
                  categories=[c.value for c in Category], accept=ACCEPT,
                  badge=principal.badge_number or "", badge_editable=badge_editable,
                  can_upload=badge_editable or bool(principal.badge_number))


@dataclass
class ClipRow:
    clip: ClipPublic
    review_state: ReviewState | None
    review_label: str | None
    decision: Decision | None  # the latest
    question: str | None  # open needs-info question
    last_reply: OfficerReply | None
    can_reply: bool
    can_tag: bool


def _my_clips_query(principal, badge: str):
    """My clips: recorded under my badge, and (belt and braces) within what I may see."""
    query = select(Clip).where(Clip.badge_number == badge)
    condition = clip_filter(principal)
    return query if condition is None else query.where(condition)


def _rows(session, principal, clips: list[Clip]) -> list[ClipRow]:
    """Review state, latest decision and replies for a page of clips: one query each, not per clip."""
    ids = [clip.id for clip in clips]
    publics = clips_service.clips_public(session, clips)
    items = {item.clip_id: item for item in session.exec(select(ReviewItem).where(ReviewItem.clip_id.in_(ids)))}
    latest: dict[int, Decision] = {}
    for decision in session.exec(select(Decision).where(Decision.clip_id.in_(ids)).order_by(Decision.id)):
        latest[decision.clip_id] = decision
    replies: dict[int, OfficerReply] = {}
    for answer in session.exec(select(OfficerReply).where(OfficerReply.clip_id.in_(ids)).order_by(OfficerReply.id)):
        replies[answer.clip_id] = answer
    officer = principal.has(Role.OFFICER)
    rows = []
    for clip, public in zip(clips, publics):
        item = items.get(clip.id)
        state = item.state if item else None
        decision = latest.get(clip.id)
        asking = state == ReviewState.NEEDS_INFO and decision is not None
        rows.append(ClipRow(
            clip=public, review_state=state, review_label=REVIEW_LABELS.get(state),
            decision=decision, question=decision.reason if asking else None,
            last_reply=replies.get(clip.id),
            # The API lets only the recording officer answer, and the officer or an admin tag.
            can_reply=asking and officer and clip.badge_number == principal.badge_number,
            can_tag=clip.status == ClipStatus.READY and (principal.has(Role.ADMIN) or officer),
        ))
    return rows


@router.get("/my")
def my_footage(request: Request, principal: OfficerPage, session: SessionDep,
               page: Annotated[int, Query(ge=1, le=MAX_ID)] = 1, status: str | None = None,
               clip: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None):
    """My clips and where they stand in review; my nominations and awards.

    `?clip=ID&at=SECONDS` (a link from the player) shows that one clip with its tag form open."""
    badge = principal.badge_number
    status = status if status in {s.value for s in ClipStatus} else None
    rows, total = [], 0
    if badge:
        query = _my_clips_query(principal, badge)
        if status:
            query = query.where(Clip.status == status)
        if clip:
            query = query.where(Clip.id == clip)
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
        clips = list(session.exec(query.order_by(Clip.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
        rows = _rows(session, principal, clips) if clips else []
    nominations = awards.list_nominations(session, badge_number=badge) if badge else []
    my_awards = awards.list_awards(session, badge_number=badge) if badge else []
    return render(request, "my_footage.html", principal, rows=rows, total=total, page=page,
                  page_size=PAGE_SIZE, has_next=page * PAGE_SIZE < total, status=status, only_clip=clip,
                  statuses=[s.value for s in ClipStatus], badge=badge,
                  categories=[c.value for c in Category],
                  nominations=nominations, awards=my_awards)
