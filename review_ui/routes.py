"""Sign-in, sign-out, the password pages and the start page; the other pages live beside this
file, one module per area."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse

from api.auth import (
    SESSION_COOKIE,
    allow,
    client_address,
    login_csrf_ok,
    new_login_csrf,
    policies,  # api.core.policies (the import contract lets pages reach it through api.auth)
    public,
    resolve_principal,
    set_login_csrf_cookie,
)
from api.db import SessionDep
from api.users import service as users
from api.users.routes import set_session_cookie  # the one exception in tests/test_import_contract.py
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


SESSION_ENDED = (
    "Your session has ended (30 minutes without activity, 12 hours since you signed in, "
    "or your account was changed). Sign in again to go on."
)
PASSWORD_SET = "Your new password is set. Sign in with it."
FORM_EXPIRED = "The sign-in form had expired. Sign in again."
Text = Annotated[str, Form(max_length=1000)]


def _form_page(
    request: Request, session, template: str, status_code: int = 200, headers: dict | None = None, **context
):
    """A page with a form that anyone may send (sign-in, reset), and the form's CSRF token: in the
    form and in a cookie (api.auth's login CSRF)."""
    token = new_login_csrf(session)
    response = render(request, template, None, status_code=status_code, login_csrf=token, **context)
    set_login_csrf_cookie(response, request, token)
    response.headers.update(headers or {})
    return response


@router.get("/login", dependencies=[Depends(public())])
def login_page(
    request: Request, session: SessionDep, next: str | None = None, ended: bool = False, reset: bool = False
):
    return _form_page(
        request,
        session,
        "login.html",
        next=_safe_next(next),
        message=SESSION_ENDED if ended else None,
        notice=PASSWORD_SET if reset else None,
    )


@router.post("/login", dependencies=[Depends(public())])
def login_form(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=100)],
    password: Text,
    next: Annotated[str, Form()] = "/",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
):
    if not login_csrf_ok(session, request, csrf_token):
        return _form_page(request, session, "login.html", status_code=403, next=_safe_next(next), message=FORM_EXPIRED)
    result = users.sign_in(session, username, password, client_address(request))
    if result.user is None:
        return _form_page(
            request,
            session,
            "login.html",
            status_code=result.status,
            headers=result.headers,
            next=_safe_next(next),
            message=result.refusal,
        )
    # A one-time password is changed first: every other page would refuse it.
    if result.token is None:  # sign_in opens a session whenever it signs a user in
        raise RuntimeError("a sign-in without its session")
    target = "/account/password" if result.user.must_change_password else _safe_next(next)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, result.token)
    return response


@router.post("/logout", dependencies=[Depends(allow(*policies.EVERYONE, page=True))])
def logout(request: Request, session: SessionDep):
    principal = resolve_principal(request, session)
    if principal and principal.auth_session:
        users.end_session(session, principal.auth_session, principal.actor)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/account/password")
def password_page(request: Request, principal: AnyPage):
    return render(request, "password.html", principal, min_length=users.MIN_LENGTH)


@router.get("/reset", dependencies=[Depends(public())])
def reset_page(request: Request, session: SessionDep, code: Annotated[str, Query(max_length=200)] = ""):
    """Where a user chooses a new password with the one-time code an admin issued."""
    found = users.open_password_reset(session, code) if code else None
    return _form_page(
        request,
        session,
        "reset.html",
        code=code,
        username=found[1].username if found else None,
        message=None if found or not code else users.BAD_RESET,
        min_length=users.MIN_LENGTH,
    )


@router.post("/reset", dependencies=[Depends(public())])
def reset_form(
    request: Request,
    session: SessionDep,
    code: Annotated[str, Form(max_length=200)],
    new_password: Text,
    repeat_password: Text,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
):
    found = users.open_password_reset(session, code)
    username = found[1].username if found else None

    def again(status_code: int, message: str):
        return _form_page(
            request,
            session,
            "reset.html",
            status_code=status_code,
            message=message,
            code=code,
            username=username,
            min_length=users.MIN_LENGTH,
        )

    if not login_csrf_ok(session, request, csrf_token):
        return again(403, "The form had expired; send it again.")
    if new_password != repeat_password:
        return again(400, "The two passwords differ.")
    try:
        users.redeem_password_reset(session, code, new_password, client_address(request))
    except (users.AccountError, users.WeakPassword) as exc:
        return again(400, str(exc))
    return RedirectResponse("/login?reset=1", status_code=303)
