"""Nominations (review team), the committee's decisions, awards and each officer's recognition."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from api.auth import AnyUser, Committee, Principal, Reviewer, allow
from api.awards import service
from api.awards.models import Nomination, NominationState
from api.awards.schemas import AwardPublic, CommitteeDecisionIn, NominationIn, NominationPublic, RecognitionPublic
from api.db import SessionDep
from api.params import Id
from api.errors import ERRORS
from api.users.models import Officer, Role

router = APIRouter(prefix="/api/v1", tags=["awards"])
NOMINATION_READERS = (Role.REVIEWER, Role.COMMITTEE, Role.ADMIN)
NominationReader = Annotated[Principal, Depends(allow(*NOMINATION_READERS))]


@router.post("/nominations", response_model=NominationPublic, status_code=201,
             responses={401: ERRORS, 403: ERRORS, 422: ERRORS})
def nominate(body: NominationIn, principal: Reviewer, session: SessionDep):
    """Nominate officers for an Act of Excellence, with the clips and the moments that matter."""
    return service.public(session, service.nominate(session, principal.actor, body))


@router.get("/nominations", response_model=list[NominationPublic], responses={401: ERRORS, 403: ERRORS})
def list_nominations(_: NominationReader, session: SessionDep, state: NominationState | None = None,
                     badge_number: str | None = None):
    return [service.public(session, n) for n in service.list_nominations(session, state, badge_number)]


@router.get("/nominations/{nomination_id}", response_model=NominationPublic,
            responses={401: ERRORS, 403: ERRORS, 404: ERRORS})
def get_nomination(nomination_id: Id, principal: AnyUser, session: SessionDep):
    nomination = session.get(Nomination, nomination_id)
    if nomination is None or not _may_read(session, principal, nomination):
        raise HTTPException(404, f"no nomination {nomination_id}")
    return service.public(session, nomination)


def _may_read(session, principal: Principal, nomination: Nomination) -> bool:
    """The one rule for a nomination and its narrative: the review team, the committee, admins, and
    the officers it names. Trainers see awards, which are the department's record, but not the
    narratives of nominations, which are the review team's and the committee's working papers."""
    if principal.has(*NOMINATION_READERS):
        return True
    return principal.badge_number in service.officers_of(session, nomination.id)


@router.post("/nominations/{nomination_id}/decision", response_model=NominationPublic,
             responses={401: ERRORS, 403: ERRORS, 404: ERRORS, 409: ERRORS, 422: ERRORS})
def decide(nomination_id: Id, body: CommitteeDecisionIn, principal: Committee, session: SessionDep):
    """The committee approves (each named officer receives the award) or declines with a reason."""
    nomination = session.get(Nomination, nomination_id)
    if nomination is None:
        raise HTTPException(404, f"no nomination {nomination_id}")
    return service.public(session, service.decide(session, principal.actor, nomination, body))


@router.get("/awards", response_model=list[AwardPublic], responses={401: ERRORS})
def list_awards(principal: AnyUser, session: SessionDep, badge_number: str | None = None, division: str | None = None):
    """The record of Acts of Excellence (officers: their own)."""
    if not principal.has(Role.REVIEWER, Role.COMMITTEE, Role.TRAINER, Role.ADMIN):
        badge_number, division = principal.badge_number or "\x00", None
    return service.list_awards(session, badge_number, division)


@router.get("/officers/{badge_number}/recognition", response_model=RecognitionPublic,
            responses={401: ERRORS, 404: ERRORS})
def recognition(badge_number: str, principal: AnyUser, session: SessionDep):
    """An officer's recognition history: awards and the nominations that name them."""
    staff = principal.has(Role.REVIEWER, Role.COMMITTEE, Role.TRAINER, Role.ADMIN)
    if not staff and badge_number != principal.badge_number:
        raise HTTPException(404, f"no recognition history for {badge_number} that you may see")
    officer = session.get(Officer, badge_number)
    return RecognitionPublic(
        badge_number=badge_number, officer_name=officer.name if officer else None,
        awards=service.list_awards(session, badge_number),
        nominations=[service.public(session, n) for n in service.list_nominations(session, badge_number=badge_number)
                     if _may_read(session, principal, n)],
    )
