"""The review queue and decisions (review team), replies to questions (officers), the rubric (admins)."""

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from api.auth import Admin, AnyUser, Reviewer
from api.clips.schemas import StagePublic
from api.clips.service import MEDIA_URL, visible_clip
from api.core.errors import ERRORS, Forbidden, Invalid
from api.core.types import utcnow
from api.db import SessionDep
from api.params import Id, Offset
from api.review import service
from api.review.models import ReviewState
from api.review.schemas import (
    ClipNominationPublic,
    ClipReviewPublic,
    DecisionIn,
    DecisionPublic,
    IntakeProblemPublic,
    ProgressPublic,
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
        selected_for_training=row.selected_for_training,
        nomination=_nomination(row.nomination),
        compliment=row.compliment,
        eta_seconds=row.eta_seconds,
    )


def _nomination(found: service.ClipNomination | None) -> ClipNominationPublic | None:
    return ClipNominationPublic(**vars(found)) if found else None


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
    compliment: bool = False,
    order: Order = "priority",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
):
    """A page of the queue (the same as the /queue page's), the total matching, and the counts per
    state under the other filters. `compliment`: only clips a satisfied person's survey response is
    linked to (in priority order they come first anyway)."""
    where = service.QueueFilter(state, category, division, badge_number, date_from, date_to, text, compliment)
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
    """Claim a queued clip for me (Start review): others see that I hold it. The claim lapses after
    `review_claim_minutes` unless renewed; claiming it again renews it."""
    return _publics([service.queue_row(session, service.claim(session, principal.actor, clip_id))])[0]


@router.post(
    "/api/v1/review/{clip_id}/claim/renew",
    response_model=ReviewItemPublic,
    responses={401: ERRORS, 403: ERRORS, 409: ERRORS},
)
def renew_claim(clip_id: Id, principal: Reviewer, session: SessionDep):
    """The open clip page's heartbeat: my claim runs on. 409 once it lapsed or was released."""
    return _publics([service.queue_row(session, service.renew(session, principal.actor, clip_id))])[0]


@router.delete(
    "/api/v1/review/{clip_id}/claim",
    response_model=ReviewItemPublic,
    responses={401: ERRORS, 403: ERRORS, 404: ERRORS},
)
def release_claim(clip_id: Id, principal: Reviewer, session: SessionDep):
    """Let the clip go back to the queue: my own claim (admins: anyone's)."""
    return _publics([service.queue_row(session, service.release(session, principal, clip_id))])[0]


@router.get("/api/v1/review/progress", response_model=list[ProgressPublic], responses={401: ERRORS})
def progress(
    principal: AnyUser, session: SessionDep, ids: Annotated[list[int] | None, Query(max_length=service.MAX_LIVE)] = None
):
    """Processing as it goes for these clips (those the caller may see): status, progress, stages and
    an ETA from the measured real-time factor. The queue, clip and My footage pages poll it."""
    return [
        ProgressPublic(
            **{name: getattr(p, name) for name in ("clip_id", "status", "progress", "reason", "eta_seconds")},
            stages=[StagePublic.model_validate(s, from_attributes=True) for s in p.stages],
        )
        for p in service.live_progress(session, principal, ids or [])
    ]


@router.get("/api/v1/review/intake-problems", response_model=list[IntakeProblemPublic], responses={401: ERRORS})
def intake_problems(principal: AnyUser, session: SessionDep):
    """Clips rejected or failed at intake, with the reason and what to do: all of them for admins,
    the caller's own for an officer. They are not reviewable."""
    return [
        IntakeProblemPublic(
            clip_id=p.clip.id,
            status=str(p.clip.status),
            badge_number=p.clip.badge_number,
            evidence_id=p.clip.evidence_id,
            reason=p.reason,
            what_to_do=p.what_to_do,
            created_at=p.clip.created_at,
        )
        for p in service.intake_problems(session, principal)
    ]


@router.post(
    "/api/v1/review/{clip_id}/decisions",
    response_model=DecisionPublic,
    status_code=201,
    responses={401: ERRORS, 403: ERRORS, 404: ERRORS, 409: ERRORS, 422: ERRORS},
)
def decide(clip_id: Id, body: DecisionIn, principal: Reviewer, session: SessionDep):
    """Select for training, nominate (with the nomination, made in the same transaction), dismiss
    (reason required) or ask the officer (question required). Deciding again revises the decision;
    the history is kept. Selecting for training and nominating both hold until a dismissal."""
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
        state=found.item.state if found.item else None,
        held_by=found.held_by,
        selected_for_training=found.selected_for_training,
        nomination=_nomination(found.nomination),
        reviewable=found.reviewable,
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
