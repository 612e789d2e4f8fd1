"""What every page shares: templates, the page policies, navigation by role, rendering."""

from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.auth import SESSION_COOKIE, LoginRequired, Principal, allow_page
from api.users.schemas import Role

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
STATIC_DIR = Path(__file__).parent / "static"

AnyPage = Annotated[Principal, Depends(allow_page(*Role))]
OfficerPage = Annotated[Principal, Depends(allow_page(Role.OFFICER, Role.ADMIN))]
ReviewerPage = Annotated[Principal, Depends(allow_page(Role.REVIEWER, Role.ADMIN))]
TrainerPage = Annotated[Principal, Depends(allow_page(Role.TRAINER, Role.ADMIN))]
CommitteePage = Annotated[Principal, Depends(allow_page(Role.COMMITTEE, Role.REVIEWER, Role.ADMIN))]
AdminPage = Annotated[Principal, Depends(allow_page(Role.ADMIN))]
ProgramPage = Annotated[Principal, Depends(allow_page(Role.REVIEWER, Role.COMMITTEE, Role.ADMIN))]

# (label, path, roles that see the link)
NAVIGATION = [
    ("Upload", "/upload", {Role.OFFICER, Role.ADMIN}),
    ("My footage", "/my", {Role.OFFICER}),
    ("Queue", "/queue", {Role.REVIEWER, Role.ADMIN}),
    ("Nominations", "/nominations", {Role.COMMITTEE, Role.REVIEWER, Role.ADMIN}),
    ("Awards", "/awards", set(Role)),
    ("Curriculum", "/curriculum", {Role.TRAINER, Role.ADMIN}),
    ("Dashboard", "/dashboard", {Role.REVIEWER, Role.COMMITTEE, Role.ADMIN}),
    ("Admin", "/admin", {Role.ADMIN}),
]


def navigation(principal: Principal) -> list[tuple[str, str]]:
    return [(label, path) for label, path, roles in NAVIGATION if principal.roles & roles]


def home_for(principal: Principal) -> str:
    """Each role's own starting page."""
    for role, path in (
        (Role.REVIEWER, "/queue"),
        (Role.OFFICER, "/my"),
        (Role.COMMITTEE, "/nominations"),
        (Role.TRAINER, "/curriculum"),
        (Role.ADMIN, "/admin"),
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
