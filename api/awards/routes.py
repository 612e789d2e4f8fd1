"""Nominations (the review team's, and any employee's of a colleague), the committee's votes, awards
and each person's recognition."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from api.auth import AnyUser, Committee, Program, Reviewer
from api.awards import service
from api.awards.models import NominationSource, NominationState
from api.awards.schemas import (
    AwardDetail,
    AwardPublic,
    ColleagueNominationIn,
    CommitteeDecisionIn,
    NominationIn,
    NominationOrder,
    NominationPublic,
    RecognitionPublic,
    RecusalIn,
    VoteIn,
)
from api.clips.models import Category
from api.core.errors import ERRORS
from api.db import SessionDep
from api.pagination import Limit, paging_headers
from api.params import Id, Offset
from api.users.schemas import PersonPublic

router = APIRouter(prefix="/api/v1", tags=["awards"])
NominationReader = Program
Decider = Committee
Year = Annotated[
    int | None,
    Query(
        ge=1900, le=9998, description="awarded in this calendar year (up to 9998: the year after it bounds the range)"
    ),
]
VOTE_ERRORS: dict[int | str, dict[str, Any]] = {401: ERRORS, 403: ERRORS, 404: ERRORS, 409: ERRORS, 422: ERRORS}


@router.post(
    "/nominations", response_model=NominationPublic, status_code=201, responses={401: ERRORS, 403: ERRORS, 422: ERRORS}
)
def nominate(body: NominationIn, principal: Reviewer, session: SessionDep):
    """Nominate officers for an Act of Excellence, with the clips and the moments that matter."""
    return service.public(session, service.nominate(session, principal.actor, body), principal)


@router.post(
    "/colleague-nominations",
    response_model=NominationPublic,
    status_code=201,
    responses={401: ERRORS, 403: ERRORS, 422: ERRORS},
)
def nominate_colleague(body: ColleagueNominationIn, principal: AnyUser, session: SessionDep):
    """Any employee, sworn or civilian, nominates a colleague from the directory (`nominee`, a
    badge): what happened, when, and optionally a clip they may see with its moments. It goes to
    the committee like the review team's (`source` "colleague"). Nominating yourself is refused
    (403) unless BESTPART_COMMITTEE_SELF_NOMINATION is on."""
    return service.public(session, service.nominate_colleague(session, principal, body), principal)


@router.get("/nominees", response_model=list[PersonPublic], responses={401: ERRORS, 422: ERRORS})
def nominees(principal: AnyUser, session: SessionDep, q: Annotated[str, Query(min_length=1, max_length=100)]):
    """Whom the nomination form offers: people in the directory (sworn officers and civilian
    employees) whose name has `q` in it or whose badge starts with it, by name, at most 20."""
    return service.nominees(session, principal, q)


@router.get("/nominations", response_model=list[NominationPublic], responses={401: ERRORS, 403: ERRORS})
def list_nominations(
    principal: NominationReader,
    session: SessionDep,
    response: Response,
    state: NominationState | None = None,
    badge_number: str | None = None,
    decided: bool | None = None,
    source: NominationSource | None = None,
    order: NominationOrder = NominationOrder.NEWEST,
    limit: Limit = None,
    offset: Offset = 0,
):
    """Nominations (by state, or `decided` either way; naming a person; from the review team or from
    colleagues), a page of them; the total in X-Total-Count. The committee works through the
    pending ones oldest first (`order=oldest`)."""
    page = service.list_nominations(
        session, state, badge_number, decided=decided, source=source, order=order, limit=limit, offset=offset
    )
    response.headers.update(paging_headers(page))
    return [service.public(session, n, principal) for n in page.items]


@router.get(
    "/nominations/{nomination_id}", response_model=NominationPublic, responses={401: ERRORS, 403: ERRORS, 404: ERRORS}
)
def get_nomination(nomination_id: Id, principal: AnyUser, session: SessionDep):
    """A nomination, its votes so far (the tally only, for the officers it names) and the caller's own."""
    return service.public(session, service.get_nomination(session, principal, nomination_id), principal)


@router.post("/nominations/{nomination_id}/votes", response_model=NominationPublic, responses=VOTE_ERRORS)
def vote(nomination_id: Id, body: VoteIn, principal: Decider, session: SessionDep):
    """The caller's vote, once: approve, or decline with a reason. The vote that brings the votes
    cast to the quorum (BESTPART_COMMITTEE_QUORUM) settles it: approved when approvals are more than
    BESTPART_COMMITTEE_MAJORITY of the votes cast (each named officer receives the award), declined
    otherwise. A member named in the nomination may not vote on it (403)."""
    nomination = service.get_nomination(session, principal, nomination_id)
    return service.public(session, service.vote(session, principal, nomination, body), principal)


@router.post("/nominations/{nomination_id}/recusal", response_model=NominationPublic, responses=VOTE_ERRORS)
def recuse(nomination_id: Id, body: RecusalIn, principal: Decider, session: SessionDep):
    """The caller steps aside from the nomination (e.g. they supervise the officer): recorded with the
    reason, counted neither way nor toward the quorum; 409 after a vote."""
    nomination = service.get_nomination(session, principal, nomination_id)
    return service.public(session, service.recuse(session, principal, nomination, body), principal)


@router.post("/nominations/{nomination_id}/decision", response_model=NominationPublic, responses=VOTE_ERRORS)
def decide(nomination_id: Id, body: CommitteeDecisionIn, principal: Decider, session: SessionDep):
    """The caller's vote, as this route has always taken it (`approve`, `reason`, `award_name`,
    `awarded_on`): the same as POST .../votes. The nomination stays pending until the quorum."""
    nomination = service.get_nomination(session, principal, nomination_id)
    return service.public(session, service.vote(session, principal, nomination, body), principal)


@router.get("/awards", response_model=list[AwardPublic], responses={401: ERRORS, 422: ERRORS})
def list_awards(
    principal: AnyUser,
    session: SessionDep,
    response: Response,
    badge_number: str | None = None,
    division: str | None = None,
    year: Year = None,
    category: Category | None = None,
    limit: Limit = None,
    offset: Offset = 0,
):
    """The record of Acts of Excellence, newest first (officers: their own); the total in X-Total-Count."""
    page = service.list_awards(
        session,
        principal,
        badge_number,
        division,
        year=year,
        category=category.value if category else None,
        limit=limit,
        offset=offset,
    )
    response.headers.update(paging_headers(page))
    return page.items


@router.get(
    "/awards.csv",
    responses={200: {"content": {"text/csv": {}}, "description": "the awards record"}, 401: ERRORS, 422: ERRORS},
    response_class=Response,
)
def export_awards(
    principal: AnyUser,
    session: SessionDep,
    year: Year = None,
    division: str | None = None,
    category: Category | None = None,
    badge_number: str | None = None,
):
    """The awards record as CSV (one row per officer awarded, with the tally), filtered like GET
    /awards; officers get their own."""
    text = service.awards_csv(
        session,
        principal,
        year=year,
        division=division or None,
        category=category.value if category else None,
        badge_number=badge_number or None,
    )
    name = "-".join(["bestpart-awards", *(str(p) for p in (year, category and category.value) if p)])
    return Response(text, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@router.get("/awards/{award_id}", response_model=AwardDetail, responses={401: ERRORS, 404: ERRORS})
def get_award(award_id: Id, principal: AnyUser, session: SessionDep):
    """One award: the narrative, the clips and moments, the decision, the tally and (for the review
    team and the committee) each member's vote."""
    return service.award_detail(session, principal, award_id)


@router.get(
    "/officers/{badge_number}/recognition", response_model=RecognitionPublic, responses={401: ERRORS, 404: ERRORS}
)
def recognition(badge_number: str, principal: AnyUser, session: SessionDep):
    """A person's recognition history: awards, and the nominations that name them from the review
    team and from colleagues (each with its `source`)."""
    return service.recognition(session, principal, badge_number)
