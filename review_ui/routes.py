"""Sign-in, sign-out and the start page; the other pages live beside this file, one module per area."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from api.auth import SESSION_COOKIE, allow, public, resolve_principal
from api.db import SessionDep
from api.users import service as users
from api.users.models import Role
from api.users.routes import set_session_cookie
from review_ui.pages import AnyPage, home_for, render

router = APIRouter(include_in_schema=False)


@router.get("/", dependencies=[Depends(public())])
def start(request: Request, session: SessionDep):
    principal = resolve_principal(request, session)
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    if principal.user and principal.user.must_change_password:
        return RedirectResponse("/account/password", status_code=303)
    return RedirectResponse(home_for(principal), status_code=303)


def _safe_next(target: str | None) -> str:
    """Only paths on this site: never an open redirect."""
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


SESSION_ENDED = ("Your session has ended (30 minutes without activity, 12 hours since you signed in, "
                 "or your account was changed). Sign in again to go on.")


@router.get("/login", dependencies=[Depends(public())])
def login_page(request: Request, next: str | None = None, ended: bool = False):
    return render(request, "login.html", None, next=_safe_next(next), message=SESSION_ENDED if ended else None)


@router.post("/login", dependencies=[Depends(public())])
def login_form(request: Request, session: SessionDep, username: Annotated[str, Form(max_length=100)],
               password: Annotated[str, Form(max_length=1000)], next: Annotated[str, Form()] = "/"):
    result = users.sign_in(session, username, password, request.client.host if request.client else None)
    if result.user is None:
        return render(request, "login.html", None, status_code=401, next=_safe_next(next), message=result.refusal)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, request, result.token)
    return response


@router.post("/logout", dependencies=[Depends(allow(*Role, page=True))])
def logout(request: Request, session: SessionDep):
    principal = resolve_principal(request, session)
    if principal and principal.auth_session:
        users.end_session(session, principal.auth_session, principal.actor)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/account/password")
def password_page(request: Request, principal: AnyPage):
    return render(request, "password.html", principal)
