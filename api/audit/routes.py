"""The audit log for admins: search, CSV export, verification."""

from datetime import datetime

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import select

from api.audit import service
from api.audit.models import AuditEvent
from api.auth import Admin
from api.db import SessionDep
from api.params import Offset
from api.errors import ERRORS

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


def _filter(actor, action, object_type, object_id, outcome, since, until) -> service.AuditFilter:
    return service.AuditFilter(actor, action, object_type, object_id, outcome, since, until)


@router.get("", response_model=list[AuditEventPublic], responses={401: ERRORS, 403: ERRORS})
def list_events(principal: Admin, session: SessionDep, actor: str | None = None, action: str | None = None,
                object_type: str | None = None, object_id: str | None = None, outcome: str | None = None,
                since: datetime | None = None, until: datetime | None = None,
                limit: int = Query(100, ge=1, le=1000), offset: Offset = 0):
    where = _filter(actor, action, object_type, object_id, outcome, since, until)
    events = service.search(session, where, limit, offset)
    service.record(session, principal.actor, "audit.view", details={"filters": _shown(where)})
    return events


@router.get("/export.csv", response_class=StreamingResponse, responses={401: ERRORS, 403: ERRORS})
def export_csv(principal: Admin, session: SessionDep, actor: str | None = None, action: str | None = None,
               object_type: str | None = None, object_id: str | None = None, outcome: str | None = None,
               since: datetime | None = None, until: datetime | None = None):
    where = _filter(actor, action, object_type, object_id, outcome, since, until)
    service.record(session, principal.actor, "audit.export", details={"filters": _shown(where)})
    events = service.search(session, where, limit=None)
    return StreamingResponse(service.as_csv(events), media_type="text/csv",
                             headers={"Content-Disposition": 'attachment; filename="bestpart-audit.csv"'})


@router.get("/verify", response_model=VerifyOut, responses={401: ERRORS, 403: ERRORS})
def verify(principal: Admin, session: SessionDep):
    problems = service.verify(session)
    count = session.exec(select(func.count()).select_from(AuditEvent)).one()
    service.record(session, principal.actor, "audit.verify", outcome="success" if not problems else "failure")
    return VerifyOut(intact=not problems, records=count, problems=problems)


def _shown(where: service.AuditFilter) -> dict:
    return {k: str(v) for k, v in vars(where).items() if v}
