"""Pages for administrators: users and roles, API tokens, the review rubric, the sample clips on a
first run, and the audit log with filters, CSV export and chain verification.

Pages read through the services; the browser acts through the JSON API (admin.js) and swaps in the
`_admin_*.html` partials after a change. The one form post here loads the sample clips.
"""

import json
from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, or_
from sqlmodel import select

from api.audit import service as audit
from api.audit.models import AuditEvent
from api.clips.models import Clip
from api.db import SessionDep
from api.params import MAX_ID
from api.review import service as review
from api.samples import load_samples
from api.users import service as users_service
from api.users.models import ApiToken, Role, TokenScope, User
from review_ui.pages import AdminPage, render

router = APIRouter(include_in_schema=False)

USERS_PAGE = 50
TOKENS_PAGE = 50
AUDIT_PAGE = 50
OUTCOMES = ("success", "denied", "failure")
Page = Annotated[int, Query(ge=1, le=MAX_ID // max(USERS_PAGE, TOKENS_PAGE))]
Text = Annotated[str | None, Query(max_length=200)]
Count = Annotated[int | None, Query(ge=0, le=10_000)]


def has_clips(session) -> bool:
    """Whether any clip was ever ingested: an empty database gets the offer of the sample clips."""
    return session.exec(select(Clip.id).limit(1)).first() is not None


def _pages(total: int, size: int) -> int:
    return max(1, -(-total // size))


def _users(session, principal, q: str | None, page: int) -> dict:
    """A page of users (by name), filtered by part of a username or display name, or a badge."""
    users_service.clear_lapsed_locks(session)  # the list shows only the locks in force
    query = select(User)
    if q:
        needle = q.strip().lower()
        query = query.where(or_(func.lower(User.username).contains(needle, autoescape=True),
                                func.lower(User.display_name).contains(needle, autoescape=True),
                                User.badge_number == q.strip()))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    users = session.exec(query.order_by(User.username).limit(USERS_PAGE).offset((page - 1) * USERS_PAGE)).all()
    return {"users": users, "users_total": total, "q": q or "", "page": page,
            "users_pages": _pages(total, USERS_PAGE), "roles": list(Role),
            "me": principal.user.id if principal.user else None}


def _tokens(session, tokens_page: int) -> dict:
    """A page of API tokens, live ones first, newest first; secrets are never stored, so never shown."""
    total = session.exec(select(func.count()).select_from(ApiToken)).one()
    tokens = session.exec(select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
                          .limit(TOKENS_PAGE).offset((tokens_page - 1) * TOKENS_PAGE)).all()
    owner_ids = {t.user_id for t in tokens if t.user_id}
    owners = dict(session.exec(select(User.id, User.username).where(User.id.in_(owner_ids))).all()) if owner_ids else {}
    return {"tokens": tokens, "owners": owners, "tokens_page": tokens_page, "now": datetime.now(UTC),
            "tokens_pages": _pages(total, TOKENS_PAGE), "scopes": [s.value for s in TokenScope]}


def _rubric(session) -> dict:
    return {"rubric": review.rubric(session, include_inactive=True)}


@router.get("/admin")
def admin_page(request: Request, principal: AdminPage, session: SessionDep, q: Text = None, page: Page = 1,
               tokens_page: Page = 1, loaded: Count = None, present: Count = None, failed: Count = None):
    """Users, tokens and the rubric; on an empty database, the offer to load the sample clips."""
    samples = None if loaded is None else {"loaded": loaded, "present": present or 0, "failed": failed or 0}
    return render(request, "admin.html", principal, offer_samples=not has_clips(session), samples=samples,
                  **_users(session, principal, q, page), **_tokens(session, tokens_page), **_rubric(session))


@router.get("/admin/fragments/{name}")
def admin_fragment(name: Literal["users", "tokens", "rubric"], request: Request, principal: AdminPage,
                   session: SessionDep, q: Text = None, page: Page = 1, tokens_page: Page = 1):
    """One section of the admin page, for admin.js to swap in after a change."""
    context = {"users": lambda: _users(session, principal, q, page), "tokens": lambda: _tokens(session, tokens_page),
               "rubric": lambda: _rubric(session)}[name]()
    return render(request, f"_admin_{name}.html", principal, **context)


@router.post("/admin/samples")
def load_sample_clips(principal: AdminPage, session: SessionDep, load: Annotated[str, Form(max_length=20)]):
    """Ingest the sample clips that ship with bestpart (again: nothing is added twice)."""
    result = load_samples(session, principal.actor)
    query = urlencode({"loaded": len(result.added), "present": len(result.present), "failed": len(result.problems)})
    return RedirectResponse(f"/admin?{query}", status_code=303)


# --- the audit log ----------------------------------------------------------------------------


def _moment(text: str | None) -> datetime | None:
    """A datetime-local value ("2026-11-20T21:14") or ISO 8601; without a zone it is UTC."""
    if not text or not text.strip():
        return None
    moment = datetime.fromisoformat(text.strip())  # Python 3.11 reads a trailing Z too
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _search(session, where: audit.AuditFilter, before: int | None, limit: int) -> list[AuditEvent]:
    """audit.search with a keyset: the records older than `before`. Paging by offset would shift
    as records arrive (each view of this page adds one), and would scan ever more rows."""
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    for column in ("actor", "action", "object_type", "object_id", "outcome"):
        if value := getattr(where, column):
            query = query.where(getattr(AuditEvent, column) == value)
    if where.since:
        query = query.where(AuditEvent.at >= where.since)
    if where.until:
        query = query.where(AuditEvent.at < where.until)
    if before:
        query = query.where(AuditEvent.seq < before)
    return list(session.exec(query))


@router.get("/admin/audit")
def audit_page(request: Request, principal: AdminPage, session: SessionDep, actor: Text = None,
               action: Text = None, object_type: Text = None, object_id: Text = None, outcome: Text = None,
               since: Text = None, until: Text = None, before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None):
    """The newest records first (or those before record `before`), filtered; the same filters go to
    the CSV export."""
    problems, moments = [], {}
    for name, text in (("since", since), ("until", until)):
        try:
            moments[name] = _moment(text)
        except ValueError:
            problems.append(f"“{text}” is not a date and time (use 2026-11-20T21:14); the {name} filter is left out.")
            moments[name] = None
    where = audit.AuditFilter(*(value.strip() if value and value.strip() else None
                                for value in (actor, action, object_type, object_id, outcome)),
                              moments["since"], moments["until"])
    events = _search(session, where, before, AUDIT_PAGE + 1)
    shown = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in vars(where).items() if v}
    audit.record(session, principal.actor, "audit.view", details={"filters": shown})
    rows = [(event, json.dumps(event.details, sort_keys=True, ensure_ascii=False)) for event in events[:AUDIT_PAGE]]
    filters = {"actor": actor or "", "action": action or "", "object_type": object_type or "",
               "object_id": object_id or "", "outcome": outcome or "", "since": since or "", "until": until or ""}
    kept = {k: v for k, v in filters.items() if v}
    older = "?" + urlencode({**kept, "before": rows[-1][0].seq}) if len(events) > AUDIT_PAGE else None
    return render(request, "audit.html", principal, rows=rows, filters=filters, outcomes=OUTCOMES, problems=problems,
                  newest="?" + urlencode(kept) if before else None, older=older,
                  export_url="/api/v1/audit/export.csv" + (f"?{urlencode(shown)}" if shown else ""))
