"""The review queue and decisions (review team), replies to questions (officers), the rubric (admins)."""

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from api.auth import Admin, AnyUser, Reviewer
from api.clips.service import MEDIA_URL, visible_clip
from api.core.errors import ERRORS, Forbidden, Invalid
from api.core.types import utcnow
from api.db import SessionDep
from api.params import Id, Offset
from api.review import service
from api.review.models import ReviewState
from api.review.schemas import (
    ClipReviewPublic,
    DecisionIn,
    DecisionPublic,
    QueuePage,
    ReplyIn,
    ReviewItemPublic,
    RubricItemIn,
    RubricItemPublic,
)

router = APIRouter(tags=["review"])
Order = Literal["priority", "oldest"]


def _public(row: service.QueueRow, moment: datetime) -> ReviewItemPublic:
    item, clip = row.item, row.clip
    return ReviewItemPublic(
        **item.model_dump(
            include={"clip_id", "state", "claimed_by_name", "claim_expires_at", "queued_at", "updated_at", "priority"}
        ),
        age_seconds=round((moment - item.queued_at).total_seconds(), 1),
        clip_status=clip.status,
        clip_progress=round(row.progress, 3),
        badge_number=clip.badge_number,
        officer_name=row.officer_name,
        division=clip.division,
        categories=row.categories,
        evidence_id=clip.evidence_id,
        recorded_at=clip.recorded_at,
        poster=MEDIA_URL.format(id=clip.id, name="poster.jpg") if row.has_poster else None,
        hit=row.hit,
    )


def _publics(rows: list[service.QueueRow]) -> list[ReviewItemPublic]:
    moment = utcnow()
    return [_public(row, moment) for row in rows]


@router.get("/api/v1/review/queue", response_model=QueuePage, responses={401: ERRORS, 403: ERRORS})
def queue(
    _: Reviewer,
    session: SessionDep,
    state: ReviewState | None = None,
    category: str | None = None,
    division: str | None = None,
    badge_number: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    text: str | None = None,
    order: Order = "priority",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
):
    """A page of the queue (the same as the /queue page's), the total matching, and the counts per
    state under the other filters."""
    where = service.QueueFilter(state, category, division, badge_number, date_from, date_to, text)
    page = service.queue_page(session, where, order, limit, offset)
    return QueuePage(items=_publics(page.items), counts=page.counts, total=page.total)


@router.post(
    "/api/v1/review/next",
    response_model=ReviewItemPublic,
    responses={204: {"description": "nothing is waiting"}, 401: ERRORS, 403: ERRORS},
)
def next_clip(principal: Reviewer, session: SessionDep, order: Order = "priority"):
    """Claim the next clip for me (or return the one I already hold)."""
    item = service.next_for(session, principal.actor, order)
    if item is None:
        return Response(status_code=204)
    return _publics([service.queue_row(session, item)])[0]


@router.post(
    "/api/v1/review/{clip_id}/claim",
    response_model=ReviewItemPublic,
    responses={401: ERRORS, 403: ERRORS, 404: ERRORS, 409: ERRORS},
)
def claim(clip_id: Id, principal: Reviewer, session: SessionDep):
    return _publics([service.queue_row(session, service.claim(session, principal.actor, clip_id))])[0]


@router.post(
    "/api/v1/review/{clip_id}/decisions",
    response_model=DecisionPublic,
    status_code=201,
    responses={401: ERRORS, 403: ERRORS, 404: ERRORS, 409: ERRORS, 422: ERRORS},
)
def decide(clip_id: Id, body: DecisionIn, principal: Reviewer, session: SessionDep):
    """Select for training, nominate, dismiss (reason required) or ask the officer (question required).
    Deciding again revises the decision; the history is kept."""
    return service.decide(session, principal.actor, clip_id, body)


@router.get(
    "/api/v1/clips/{clip_id}/review", response_model=ClipReviewPublic, responses={401: ERRORS, 403: ERRORS, 404: ERRORS}
)
def clip_review(clip_id: Id, principal: AnyUser, session: SessionDep):
    """Where the clip stands in review, with every decision and reply (officers: their own clips)."""
    found = service.clip_review(session, principal, clip_id)
    item = _publics(service.queue_rows(session, [(found.item, found.clip)]))[0] if found.item else None
    return ClipReviewPublic(
        item=item,
        decisions=[DecisionPublic.model_validate(d, from_attributes=True) for d in found.decisions],
        replies=[r.model_dump(mode="json") for r in found.replies],
    )


@router.post(
    "/api/v1/clips/{clip_id}/replies", status_code=201, responses={401: ERRORS, 403: ERRORS, 404: ERRORS, 409: ERRORS}
)
def reply(clip_id: Id, body: ReplyIn, principal: AnyUser, session: SessionDep) -> dict:
    """The recording officer answers the review team's question."""
    clip = visible_clip(session, principal, clip_id)
    if not service.may_reply(principal, clip):
        raise Forbidden("only the recording officer answers questions about a clip")
    answer = service.reply(session, principal.actor, clip_id, body.text)
    return {"id": answer.id, "clip_id": clip_id, "text": answer.text}


@router.get("/api/v1/review/rubric", response_model=list[RubricItemPublic], responses={401: ERRORS})
def get_rubric(_: AnyUser, session: SessionDep, include_inactive: bool = False):
    return service.rubric(session, include_inactive)


@router.put(
    "/api/v1/review/rubric/{key}", response_model=RubricItemPublic, responses={401: ERRORS, 403: ERRORS, 422: ERRORS}
)
def put_rubric_item(key: str, body: RubricItemIn, principal: Admin, session: SessionDep):
    if body.key != key:
        raise Invalid("the key in the path and in the body differ")
    return service.save_rubric_item(session, principal.actor, key, body.label, body.position, body.active)
