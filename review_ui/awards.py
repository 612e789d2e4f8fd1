"""Pages: the committee's nominations (pending and decided) and the record of Acts of Excellence.

The committee decides through the JSON API (nominations.js); these pages only read, through the
same service functions as GET /api/v1/nominations and GET /api/v1/awards.
"""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.awards import service as awards
from api.awards.schemas import NominationOrder
from api.db import SessionDep
from api.pagination import offset_of
from api.params import MAX_ID
from review_ui.pages import AnyPage, CommitteePage, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
AWARDS_PAGE_SIZE = 50
PageNumber = Annotated[int, Query(ge=1, le=MAX_ID)]


@router.get("/nominations")
def nominations_page(
    request: Request,
    principal: CommitteePage,
    session: SessionDep,
    pending_page: PageNumber = 1,
    decided_page: PageNumber = 1,
):
    """Pending nominations (oldest first) with their clips and moments; decided ones below.

    Approve and decline appear only for those the API lets decide: the committee and admins."""
    pending = awards.list_nominations(
        session, decided=False, order=NominationOrder.OLDEST, limit=PAGE_SIZE, offset=offset_of(pending_page, PAGE_SIZE)
    )
    decided = awards.list_nominations(
        session,
        decided=True,
        order=NominationOrder.RECENTLY_DECIDED,
        limit=PAGE_SIZE,
        offset=offset_of(decided_page, PAGE_SIZE),
    )
    cards = awards.nomination_cards(session, pending.items + decided.items)
    return render(
        request,
        "nominations.html",
        principal,
        pending=cards[: len(pending.items)],
        decided=cards[len(pending.items) :],
        pending_total=pending.total,
        decided_total=decided.total,
        pending_page=pending_page,
        decided_page=decided_page,
        page_size=PAGE_SIZE,
        can_decide=awards.may_decide(principal),
        today=date.today().isoformat(),
    )


def _blank_is_none(value: str | None) -> str | None:
    return value.strip() or None if value else None


@router.get("/awards")
def awards_page(
    request: Request,
    principal: AnyPage,
    session: SessionDep,
    badge_number: str | None = None,
    division: str | None = None,
    page: PageNumber = 1,
):
    """The record of Acts of Excellence, filterable by officer and division (officers: their own)."""
    staff = awards.sees_every_award(principal)
    found = awards.list_awards(
        session,
        principal,
        _blank_is_none(badge_number),
        _blank_is_none(division),
        limit=AWARDS_PAGE_SIZE,
        offset=offset_of(page, AWARDS_PAGE_SIZE),
    )
    divisions, officers = awards.award_filter_choices(session) if staff else ([], [])
    return render(
        request,
        "awards.html",
        principal,
        awards=found.items,
        total=found.total,
        page=page,
        page_size=AWARDS_PAGE_SIZE,
        has_next=found.has_next,
        staff=staff,
        badge_number=_blank_is_none(badge_number) if staff else None,
        division=_blank_is_none(division) if staff else None,
        divisions=divisions,
        officers=officers,
    )
