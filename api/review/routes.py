"""The review queue and decisions (review team), replies to questions (officers), the rubric (admins)."""

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from sqlalchemy import func
from sqlmodel import select

from api.access import visible_clip
from api.auth import Admin, AnyUser, Reviewer
from api.clips.models import Clip, Stage
from api.db import SessionDep
from api.params import Id, Offset
from api.errors import ERRORS
from api.review import service
from api.review.models import ReviewItem, ReviewState
from api.review.schemas import (ClipReviewPublic, DecisionIn, DecisionPublic, QueuePage, ReplyIn, ReviewItemPublic,
                                RubricItemIn, RubricItemPublic)
from api.users.models import Role

router = APIRouter(tags=["review"])
Order = Literal["priority", "oldest"]


def _public(session, pairs: list[tuple[ReviewItem, Clip]]) -> list[ReviewItemPublic]:
    clip_ids = [clip.id for _, clip in pairs]
    categories = service.categories_of(session, clip_ids)
    progress = dict(session.exec(select(Stage.clip_id, func.avg(Stage.progress))
                                 .where(Stage.clip_id.in_(clip_ids)).group_by(Stage.clip_id)).all())
    moment = datetime.now(UTC)
    return [ReviewItemPublic(
        **item.model_dump(include={"clip_id", "state", "claimed_by_name", "claim_expires_at", "queued_at",
                                   "updated_at", "priority"}),
        age_seconds=round((moment - item.queued_at).total_seconds(), 1),
        clip_status=clip.status, clip_progress=round(float(progress.get(clip.id) or 0), 3),
        badge_number=clip.badge_number, division=clip.division, categories=categories[clip.id],
        evidence_id=clip.evidence_id, recorded_at=clip.recorded_at,
    ) for item, clip in pairs]


@router.get("/api/v1/review/queue", response_model=QueuePage, responses={401: ERRORS, 403: ERRORS})
def queue(_: Reviewer, session: SessionDep, state: ReviewState | None = None, category: str | None = None,
          division: str | None = None, badge_number: str | None = None, date_from: date | None = None,
          date_to: date | None = None, text: str | None = None, order: Order = "priority",
          limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Offset = 0):
    where = service.QueueFilter(state, category, division, badge_number, date_from, date_to, text)
    rows, total, counts = service.list_queue(session, where, order, limit, offset)
    return QueuePage(items=_public(session, list(rows)), counts=counts, total=total)


@router.post("/api/v1/review/next", response_model=ReviewItemPublic,
             responses={204: {"description": "nothing is waiting"}, 401: ERRORS, 403: ERRORS})
def next_clip(principal: Reviewer, session: SessionDep, order: Order = "priority"):
    """Claim the next clip for me (or return the one I already hold)."""
    item = service.next_for(session, principal.actor, order)
    if item is None:
        return Response(status_code=204)
    return _public(session, [(item, session.get(Clip, item.clip_id))])[0]


@router.post("/api/v1/review/{clip_id}/claim", response_model=ReviewItemPublic,
             responses={401: ERRORS, 403: ERRORS, 404: ERRORS, 409: ERRORS})
def claim(clip_id: Id, principal: Reviewer, session: SessionDep):
    item = service.claim(session, principal.actor, clip_id)
    return _public(session, [(item, session.get(Clip, clip_id))])[0]


@router.post("/api/v1/review/{clip_id}/decisions", response_model=DecisionPublic, status_code=201,
             responses={401: ERRORS, 403: ERRORS, 404: ERRORS, 409: ERRORS, 422: ERRORS})
def decide(clip_id: Id, body: DecisionIn, principal: Reviewer, session: SessionDep):
    """Select for training, nominate, dismiss (reason required) or ask the officer (question required).
    Deciding again revises the decision; the history is kept."""
    return service.decide(session, principal.actor, clip_id, body)


@router.get("/api/v1/clips/{clip_id}/review", response_model=ClipReviewPublic,
            responses={401: ERRORS, 403: ERRORS, 404: ERRORS})
def clip_review(clip_id: Id, principal: AnyUser, session: SessionDep):
    """Where the clip stands in review, with every decision and reply (officers: their own clips)."""
    clip = visible_clip(session, principal, clip_id)
    item = service.item_for(session, clip_id)
    decisions, replies = service.history(session, clip_id)
    return ClipReviewPublic(item=_public(session, [(item, clip)])[0] if item else None,
                            decisions=[DecisionPublic.model_validate(d, from_attributes=True) for d in decisions],
                            replies=[r.model_dump(mode="json") for r in replies])


@router.post("/api/v1/clips/{clip_id}/replies", status_code=201, responses={401: ERRORS, 403: ERRORS, 404: ERRORS, 409: ERRORS})
def reply(clip_id: Id, body: ReplyIn, principal: AnyUser, session: SessionDep) -> dict:
    """The recording officer answers the review team's question."""
    clip = visible_clip(session, principal, clip_id)
    if not principal.has(Role.OFFICER) or clip.badge_number != principal.badge_number:
        raise HTTPException(403, "only the recording officer answers questions about a clip")
    answer = service.reply(session, principal.actor, clip_id, body.text)
    return {"id": answer.id, "clip_id": clip_id, "text": answer.text}


@router.get("/api/v1/review/rubric", response_model=list[RubricItemPublic], responses={401: ERRORS})
def get_rubric(_: AnyUser, session: SessionDep, include_inactive: bool = False):
    return service.rubric(session, include_inactive)


@router.put("/api/v1/review/rubric/{key}", response_model=RubricItemPublic, responses={401: ERRORS, 403: ERRORS, 422: ERRORS})
def put_rubric_item(key: str, body: RubricItemIn, principal: Admin, session: SessionDep):
    if body.key != key:
        raise HTTPException(422, "the key in the path and in the body differ")
    return service.save_rubric_item(session, principal.actor, key, body.label, body.position, body.active)
