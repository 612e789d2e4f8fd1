"""What every page shares: templates, the page policies, navigation by role, rendering."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import (
    SESSION_COOKIE,
    LoginRequired,
    Principal,
    allowed_page,
    policies,  # api.core.policies (the import contract lets pages reach it through api.auth)
)

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def clock(seconds: float | None, tenths: bool = True) -> str:
    """83.46 → "1:23.5" (or "1:23"; 3725 → "1:02:05.0"): the format app.js's clock writes too,
    and the clip page's time fields read."""
    if seconds is None:
        return "–"
    tenth_count = round(max(0.0, float(seconds)) * 10)
    whole, tenth = divmod(tenth_count, 10) if tenths else (int(max(0.0, float(seconds))), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return f"{text}.{tenth}" if tenths else text


def when(moment: datetime | None) -> str:
    """A moment as every page writes it: "2026-12-04 19:51 UTC"."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "–"


templates.env.globals.update(clock=clock, when=when)  # every template formats times with these
STATIC_DIR = Path(__file__).parent / "static"

# The page policies, each a named set of api.core.policies, as the API's are.
AnyPage = Annotated[Principal, allowed_page(policies.EVERYONE)]
OfficerPage = Annotated[Principal, allowed_page(policies.UPLOADERS)]
ReviewerPage = Annotated[Principal, allowed_page(policies.REVIEWERS)]
TrainerPage = Annotated[Principal, allowed_page(policies.TRAINERS)]
# The nominations: the committee, and reviewers who nominate.
CommitteePage = Annotated[Principal, allowed_page(policies.PROGRAM)]
AdminPage = Annotated[Principal, allowed_page(policies.ADMINS)]
ProgramPage = Annotated[Principal, allowed_page(policies.PROGRAM)]

# (label, path, roles that see the link): the same sets as the pages' policies.
NAVIGATION = [
    ("Upload", "/upload", policies.UPLOADERS),
    ("My footage", "/my", policies.OFFICERS),
    ("Queue", "/queue", policies.REVIEWERS),
    ("Nominations", "/nominations", policies.PROGRAM),
    ("Awards", "/awards", policies.EVERYONE),
    ("Nominate", "/nominate", policies.EVERYONE),  # anyone nominates a colleague
    ("Curriculum", "/curriculum", policies.TRAINERS),
    ("Lessons", "/lessons", policies.EVERYONE),  # published lessons, for every employee to watch
    ("Dashboard", "/dashboard", policies.PROGRAM),
    ("Admin", "/admin", policies.ADMINS),
]


def navigation(principal: Principal) -> list[tuple[str, str]]:
    return [(label, path) for label, path, roles in NAVIGATION if principal.roles & roles]


def home_for(principal: Principal) -> str:
    """Each role's own starting page."""
    for role, path in (
        (policies.Role.REVIEWER, "/queue"),
        (policies.Role.OFFICER, "/my"),
        (policies.Role.COMMITTEE, "/nominations"),
        (policies.Role.TRAINER, "/curriculum"),
        (policies.Role.ADMIN, "/admin"),
    ):
        if role in principal.roles:
            return path
    return "/awards"


def render(
    request: Request, template: str, principal: Principal | None, status_code: int = 200, **context
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        template,
        {
            "principal": principal,
            "nav": navigation(principal) if principal else [],
            "csrf_token": principal.auth_session.csrf_token if principal and principal.auth_session else "",
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )


async def login_required_handler(request: Request, exc: LoginRequired):
    if not exc.session_ended:
        return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)
    response = RedirectResponse(f"/login?next={quote(exc.next_path)}&ended=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE)  # said once: the next page asks to sign in plainly
    return response


async def http_error_handler(request: Request, exc: StarletteHTTPException):
    """JSON for the API; a page for people."""
    from fastapi.exception_handlers import http_exception_handler

    if request.url.path.startswith("/api/") or request.url.path.startswith("/static/"):
        return await http_exception_handler(request, exc)
    return render(
        request,
        "error.html",
        None,
        status_code=exc.status_code,
        status=exc.status_code,
        message=exc.detail if isinstance(exc.detail, str) else "Something went wrong.",
    )
