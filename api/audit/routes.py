"""The audit log for admins: search, CSV export, verification."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from api.audit import service
from api.auth import Admin
from api.core.errors import ERRORS
from api.db import SessionDep
from api.pagination import paging_headers
from api.params import MAX_ID, Offset

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AuditEventPublic(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str | None
    object_id: str | None
    outcome: str
    source: str | None
    details: dict
    hash: str


class VerifyOut(BaseModel):
    intact: bool
    records: int
    problems: list[str]


def _filter(
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> service.AuditFilter:
    """The search's query parameters, shared by the list and the export."""
    return service.AuditFilter(actor, action, object_type, object_id, outcome, since, until)


Filter = Annotated[service.AuditFilter, Depends(_filter)]


@router.get("", response_model=list[AuditEventPublic], responses={401: ERRORS, 403: ERRORS})
def list_events(
    principal: Admin,
    session: SessionDep,
    response: Response,
    where: Filter,
    limit: int = Query(100, ge=1, le=1000),
    before: Annotated[int | None, Query(ge=1, le=MAX_ID, description="records older than this seq")] = None,
    offset: Offset = 0,
):
    """The newest matching records first. The next page: `before` = the X-Next-Before header (absent
    on the last page); unlike `offset`, it does not shift as records arrive."""
    page = service.view(session, principal.actor, where, limit=limit, before=before, offset=offset)
    response.headers.update(paging_headers(page))
    return page.items


@router.get("/export.csv", response_class=StreamingResponse, responses={401: ERRORS, 403: ERRORS})
def export_csv(principal: Admin, session: SessionDep, where: Filter):
    events = service.export(session, principal.actor, where)
    return StreamingResponse(
        service.as_csv(events),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="bestpart-audit.csv"'},
    )


@router.get("/verify", response_model=VerifyOut, responses={401: ERRORS, 403: ERRORS})
def verify(principal: Admin, session: SessionDep):
    problems = service.verify(session)
    count = service.record_count(session)
    service.record(session, principal.actor, "audit.verify", outcome="success" if not problems else "failure")
    return VerifyOut(intact=not problems, records=count, problems=problems)
