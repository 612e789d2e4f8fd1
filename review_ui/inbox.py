"""Page: the inbox. It reads through api.notifications.service, as GET /api/v1/notifications
does; inbox.js marks read through the API and keeps the header's badge current."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.db import SessionDep
from api.notifications import service
from api.pagination import offset_of
from review_ui.pages import AnyPage, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 30


@router.get("/inbox")
def inbox_page(
    request: Request, principal: AnyPage, session: SessionDep, page: Annotated[int, Query(ge=1, le=100_000)] = 1
):
    user_id = principal.signed_in_id("only a signed-in person has an inbox")
    listing = service.inbox(session, user_id, unread_only=False, limit=PAGE_SIZE, offset=offset_of(page, PAGE_SIZE))
    return render(
        request,
        "inbox.html",
        principal,
        notifications=listing.items,
        page=page,
        total=listing.total,
        page_size=PAGE_SIZE,
        unread=service.unread_count(session, user_id),
    )
