"""Pages for administrators: users and roles (and the person of the directory each account is),
the officer directory's import, API tokens, the review rubric, the sample clips on a first run, and
the audit log with filters, CSV export and chain verification; the recognition rules
(review_ui/rules.py, included here).

Pages read through the services; the browser acts through the JSON API (admin.js) and swaps in the
`_admin_*.html` partials after a change. The one form post here loads the sample clips.
"""

import json
from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse

from api.audit import service as audit
from api.clips.service import has_clips
from api.db import SessionDep
from api.pagination import offset_of
from api.params import MAX_ID
from api.review import service as review
from api.samples import load_samples
from api.users import service as users
from api.users.schemas import Role
from review_ui import rules
from review_ui.pages import AdminPage, render

router = APIRouter(include_in_schema=False)
router.include_router(rules.router)  # /admin/rules

USERS_PAGE = 50
TOKENS_PAGE = 50
AUDIT_PAGE = 50
Page = Annotated[int, Query(ge=1, le=MAX_ID // max(USERS_PAGE, TOKENS_PAGE))]
Text = Annotated[str | None, Query(max_length=200)]
Count = Annotated[int | None, Query(ge=0, le=10_000)]


def _users(session, principal, q: str | None, page: int) -> dict:
    """A page of users (by name), filtered by part of a username or display name, or a badge."""
    found = users.list_users(session, q, limit=USERS_PAGE, offset=offset_of(page, USERS_PAGE))
    return {
        "users": found.items,
        "linked": users.accounts_of(session, found.items),
        "users_total": found.total,
        "q": q or "",
        "page": page,
        "users_pages": found.pages,
        "roles": list(Role),
        "me": principal.user.id if principal.user else None,
    }


def _tokens(session, tokens_page: int) -> dict:
    """A page of API tokens, live ones first, newest first; secrets are never stored, so never shown."""
    found = users.list_tokens(session, live_first=True, limit=TOKENS_PAGE, offset=offset_of(tokens_page, TOKENS_PAGE))
    owners = users.usernames(session, {t.user_id for t in found.items if t.user_id})
    return {
        "tokens": found.items,
        "owners": owners,
        "tokens_page": tokens_page,
        "now": datetime.now(UTC),
        "tokens_pages": found.pages,
        "scopes": [s.value for s in users.TokenScope],
    }


def _rubric(session) -> dict:
    return {"rubric": review.rubric(session, include_inactive=True)}


@router.get("/admin")
def admin_page(
    request: Request,
    principal: AdminPage,
    session: SessionDep,
    q: Text = None,
    page: Page = 1,
    tokens_page: Page = 1,
    loaded: Count = None,
    present: Count = None,
    failed: Count = None,
):
    """Users, tokens and the rubric; on an empty database, the offer to load the sample clips."""
    samples = None if loaded is None else {"loaded": loaded, "present": present or 0, "failed": failed or 0}
    directory = users.list_officers(session)
    return render(
        request,
        "admin.html",
        principal,
        offer_samples=not has_clips(session),
        samples=samples,
        directory=directory,
        civilians=sum(1 for entry in directory if entry.kind == "civilian"),
        directory_columns=users.DIRECTORY_COLUMNS,
        **_users(session, principal, q, page),
        **_tokens(session, tokens_page),
        **_rubric(session),
    )


@router.get("/admin/fragments/{name}")
def admin_fragment(
    name: Literal["users", "tokens", "rubric"],
    request: Request,
    principal: AdminPage,
    session: SessionDep,
    q: Text = None,
    page: Page = 1,
    tokens_page: Page = 1,
):
    """One section of the admin page, for admin.js to swap in after a change."""
    context = {
        "users": lambda: _users(session, principal, q, page),
        "tokens": lambda: _tokens(session, tokens_page),
        "rubric": lambda: _rubric(session),
    }[name]()
    return render(request, f"_admin_{name}.html", principal, **context)


@router.post("/admin/samples")
def load_sample_clips(principal: AdminPage, session: SessionDep, load: Annotated[str, Form(max_length=20)]):
    """Ingest the sample clips that ship with bestpart (again: nothing is added twice)."""
    result = load_samples(session, principal.actor)
    query = urlencode({"loaded": len(result.added), "present": len(result.present), "failed": len(result.problems)})
    return RedirectResponse(f"/admin?{query}", status_code=303)


# --- the audit log ----------------------------------------------------------------------------


def _filled(value: str | None) -> str | None:
    """A filter's text, or None for one left empty."""
    return value.strip() if value and value.strip() else None


def _moment(text: str | None) -> datetime | None:
    """A datetime-local value ("2026-11-20T21:14") or ISO 8601; without a zone it is UTC."""
    if not text or not text.strip():
        return None
    moment = datetime.fromisoformat(text.strip())  # Python 3.11 reads a trailing Z too
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@router.get("/admin/audit")
def audit_page(
    request: Request,
    principal: AdminPage,
    session: SessionDep,
    actor: Text = None,
    action: Text = None,
    object_type: Text = None,
    object_id: Text = None,
    outcome: Text = None,
    since: Text = None,
    until: Text = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
):
    """The newest records first (or those before record `before`), filtered; the same filters go to
    the CSV export."""
    problems: list[str] = []
    moments: dict[str, datetime | None] = {}
    for name, text in (("since", since), ("until", until)):
        try:
            moments[name] = _moment(text)
        except ValueError:
            problems.append(f"“{text}” is not a date and time (use 2026-11-20T21:14); the {name} filter is left out.")
            moments[name] = None
    where = audit.AuditFilter(
        actor=_filled(actor),
        action=_filled(action),
        object_type=_filled(object_type),
        object_id=_filled(object_id),
        outcome=_filled(outcome),
        since=moments["since"],
        until=moments["until"],
    )
    found = audit.view(session, principal.actor, where, limit=AUDIT_PAGE, before=before)
    rows = [(event, json.dumps(event.details, sort_keys=True, ensure_ascii=False)) for event in found.items]
    filters = {
        "actor": actor or "",
        "action": action or "",
        "object_type": object_type or "",
        "object_id": object_id or "",
        "outcome": outcome or "",
        "since": since or "",
        "until": until or "",
    }
    kept = {k: v for k, v in filters.items() if v}
    older = "?" + urlencode({**kept, "before": found.next_before}) if found.next_before else None
    shown = where.shown()
    return render(
        request,
        "audit.html",
        principal,
        rows=rows,
        filters=filters,
        outcomes=audit.OUTCOMES,
        problems=problems,
        newest="?" + urlencode(kept) if before else None,
        older=older,
        export_url="/api/v1/audit/export.csv" + (f"?{urlencode(shown)}" if shown else ""),
    )
