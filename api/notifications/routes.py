from fastapi import APIRouter, Query, Response

from api.auth import CurrentPrincipal, Principal
from api.core.errors import ERRORS
from api.db import SessionDep
from api.notifications import service
from api.notifications.schemas import MarkRead, NotificationOut, Unread
from api.pagination import Limit, paging_headers

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"], responses={401: ERRORS})


def _user_id(principal: Principal) -> int:
    return principal.signed_in_id("only a signed-in person has an inbox")  # a service token has none


@router.get("")
def list_notifications(
    principal: CurrentPrincipal,
    session: SessionDep,
    response: Response,
    unread: bool = False,
    limit: Limit = 50,
    offset: int = Query(0, ge=0),
) -> list[NotificationOut]:
    """The caller's notifications, newest first (`X-Total-Count`: how many match)."""
    page = service.inbox(session, _user_id(principal), unread_only=unread, limit=limit, offset=offset)
    response.headers.update(paging_headers(page))
    return [NotificationOut.model_validate(n, from_attributes=True) for n in page.items]


@router.get("/unread")
def unread(principal: CurrentPrincipal, session: SessionDep) -> Unread:
    """How many of the caller's notifications are unread (the header's badge)."""
    return Unread(unread=service.unread_count(session, _user_id(principal)))


@router.post("/read", responses={404: ERRORS})
def mark_read(body: MarkRead, principal: CurrentPrincipal, session: SessionDep) -> Unread:
    """Mark notifications read: those named in `ids`, or all of the caller's."""
    return Unread(unread=service.mark_read(session, _user_id(principal), body.ids))
