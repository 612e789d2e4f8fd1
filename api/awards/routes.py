"""Nominations (review team), the committee's decisions, awards and each officer's recognition."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response

from api.auth import AnyUser, Principal, Reviewer, allow
from api.awards import service
from api.awards.models import Nomination, NominationState
from api.awards.schemas import (
    AwardPublic,
    CommitteeDecisionIn,
    NominationIn,
    NominationOrder,
    NominationPublic,
    RecognitionPublic,
)
from api.core.errors import ERRORS
from api.db import SessionDep
from api.pagination import Limit, paging_headers
from api.params import Id, Offset
from api.users import service as users

router = APIRouter(prefix="/api/v1", tags=["awards"])
NominationReader = Annotated[Principal, Depends(allow(*service.NOMINATION_READERS))]
Decider = Annotated[Principal, Depends(allow(*service.DECIDERS))]


@router.post(
    "/nominations", response_model=NominationPublic, status_code=201, responses={401: ERRORS, 403: ERRORS, 422: ERRORS}
)
def nominate(body: NominationIn, principal: Reviewer, session: SessionDep):
    """Nominate officers for an Act of Excellence, with the clips and the moments that matter."""
    return service.public(session, service.nominate(session, principal.actor, body))


@router.get("/nominations", response_model=list[NominationPublic], responses={401: ERRORS, 403: ERRORS})
def list_nominations(
    _: NominationReader,
    session: SessionDep,
    response: Response,
    state: NominationState | None = None,
    badge_number: str | None = None,
    decided: bool | None = None,
    order: NominationOrder = NominationOrder.NEWEST,
    limit: Limit = None,
    offset: Offset = 0,
):
    """Nominations (by state, or `decided` either way; naming an officer), a page of them; the total
    in X-Total-Count. The committee works through the pending ones oldest first (`order=oldest`)."""
    page = service.list_nominations(
        session, state, badge_number, decided=decided, order=order, limit=limit, offset=offset
    )
    response.headers.update(paging_headers(page))
    return [service.public(session, n) for n in page.items]


@router.get(
    "/nominations/{nomination_id}", response_model=NominationPublic, responses={401: ERRORS, 403: ERRORS, 404: ERRORS}
)
def get_nomination(nomination_id: Id, principal: AnyUser, session: SessionDep):
    nomination = session.get(Nomination, nomination_id)
    if nomination is None or not service.may_read_nomination(session, principal, nomination):
        raise HTTPException(404, f"no nomination {nomination_id}")
    return service.public(session, nomination)


@router.post(
    "/nominations/{nomination_id}/decision",
    response_model=NominationPublic,
    responses={401: ERRORS, 403: ERRORS, 404: ERRORS, 409: ERRORS, 422: ERRORS},
)
def decide(nomination_id: Id, body: CommitteeDecisionIn, principal: Decider, session: SessionDep):
    """The committee approves (each named officer receives the award) or declines with a reason."""
    nomination = session.get(Nomination, nomination_id)
    if nomination is None:
        raise HTTPException(404, f"no nomination {nomination_id}")
    return service.public(session, service.decide(session, principal.actor, nomination, body))


@router.get("/awards", response_model=list[AwardPublic], responses={401: ERRORS})
def list_awards(
    principal: AnyUser,
    session: SessionDep,
    response: Response,
    badge_number: str | None = None,
    division: str | None = None,
    limit: Limit = None,
    offset: Offset = 0,
):
    """The record of Acts of Excellence, newest first (officers: their own); the total in X-Total-Count."""
    page = service.list_awards(session, principal, badge_number, division, limit=limit, offset=offset)
    response.headers.update(paging_headers(page))
    return page.items


@router.get(
    "/officers/{badge_number}/recognition", response_model=RecognitionPublic, responses={401: ERRORS, 404: ERRORS}
)
def recognition(badge_number: str, principal: AnyUser, session: SessionDep):
    """An officer's recognition history: awards and the nominations that name them."""
    if not service.sees_every_award(principal) and badge_number != principal.badge_number:
        raise HTTPException(404, f"no recognition history for {badge_number} that you may see")
    officer = users.officer(session, badge_number)
    nominations = service.list_nominations(session, badge_number=badge_number).items
    return RecognitionPublic(
        badge_number=badge_number,
        officer_name=officer.name if officer else None,
        awards=service.list_awards(session, principal, badge_number).items,
        nominations=[
            service.public(session, n) for n in nominations if service.may_read_nomination(session, principal, n)
        ],
    )
