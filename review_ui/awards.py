"""Pages: the nomination form (any employee nominates a colleague), the committee's nominations
(pending and decided) with their votes, the record of Acts of Excellence, one award, and its
printable certificate.

The form sends through the JSON API (nominate.js: GET /api/v1/nominees, POST
/api/v1/colleague-nominations); committee members vote through it (nominations.js); these pages
only read, through the same service functions as GET /api/v1/nominations, GET /api/v1/awards and
GET /api/v1/awards/{id}.
"""

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request

from api.awards import service as awards
from api.awards.schemas import NominationOrder
from api.db import SessionDep
from api.pagination import offset_of
from api.params import MAX_ID, Id
from review_ui.pages import AnyPage, CommitteePage, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
AWARDS_PAGE_SIZE = 50
PageNumber = Annotated[int, Query(ge=1, le=MAX_ID)]
ClipNumber = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Seconds = Annotated[float | None, Query(ge=0, le=86_400)]
LABELS = {"community-engagement": "Community engagement"}  # the others read well as they are
CATEGORY_LABELS = {c: LABELS.get(c, c.capitalize()) for c in awards.CATEGORIES}


@router.get("/nominate")
def nominate_page(
    request: Request,
    principal: AnyPage,
    session: SessionDep,
    clip: ClipNumber = None,
    at: Seconds = None,
):
    """The nomination form, for every employee: who (found in the directory by name), what
    happened, when; optionally a clip they may see and a moment of it (`?clip=ID&at=SECONDS`
    fills them in, from a clip's page)."""
    rules = awards.committee_rules()
    return render(
        request,
        "nominate.html",
        principal,
        today=date.today().isoformat(),
        categories=CATEGORY_LABELS,
        clips=awards.clip_choices(session, principal),
        clip=clip if clip is not None and awards.may_nominate_clip(session, principal, clip) else None,
        at=at,
        self_nomination=rules.self_nomination,
        personal=principal.user is not None,
    )


@router.get("/nominations")
def nominations_page(
    request: Request,
    principal: CommitteePage,
    session: SessionDep,
    pending_page: PageNumber = 1,
    decided_page: PageNumber = 1,
):
    """Pending nominations (oldest first) with their clips, moments and votes so far; decided ones
    below. The vote controls appear only for those the API lets vote: the committee and admins."""
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
    cards = awards.nomination_cards(session, pending.items + decided.items, principal)
    rules = awards.committee_rules()
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
        quorum=rules.quorum,
        majority=rules.majority,
        categories=CATEGORY_LABELS,
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
    year: Annotated[str | None, Query(max_length=4)] = None,
    category: str | None = None,
    page: PageNumber = 1,
):
    """The record of Acts of Excellence, filterable by person, division (or a civilian's unit), year
    and category (officers: their own), each award linked to its page; the CSV of what the filters
    show; a link to the nomination form."""
    staff = awards.sees_every_award(principal)
    year_number = int(year) if year and year.isdigit() and 1900 <= int(year) <= 9999 else None
    category = category if category in CATEGORY_LABELS else None
    # An officer's own awards, whatever the filters say: only year and category narrow them.
    badge_filter = _blank_is_none(badge_number) if staff else None
    division_filter = _blank_is_none(division) if staff else None
    filters: dict[str, str | int | None] = {
        "badge_number": badge_filter,
        "division": division_filter,
        "year": year_number,
        "category": category,
    }
    found = awards.list_awards(
        session,
        principal,
        badge_filter,
        division_filter,
        year=year_number,
        category=category,
        limit=AWARDS_PAGE_SIZE,
        offset=offset_of(page, AWARDS_PAGE_SIZE),
    )
    choices = awards.award_filter_choices(session) if staff else None
    query = urlencode({k: v for k, v in filters.items() if v})
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
        filters=filters,
        filtered=any(filters.values()),
        query=query,
        csv_href="/api/v1/awards.csv" + (f"?{query}" if query else ""),
        choices=choices,
        categories=CATEGORY_LABELS,
    )


@router.get("/awards/{award_id}")
def award_page(award_id: Id, request: Request, principal: AnyPage, session: SessionDep):
    """One award: the officer, the narrative, the clip moments (each opens the clip at that time),
    the committee's decision with its votes, the date; a link to the certificate."""
    award = awards.award_detail(session, principal, award_id)  # 404 for an award they may not see
    return render(request, "award.html", principal, award=award, categories=CATEGORY_LABELS)


@router.get("/awards/{award_id}/certificate")
def certificate_page(award_id: Id, request: Request, principal: AnyPage, session: SessionDep):
    """The award's certificate, laid out for printing on one landscape page (certificate.css)."""
    award = awards.award_detail(session, principal, award_id)
    return render(request, "certificate.html", principal, award=award, categories=CATEGORY_LABELS)
