"""Sign-in, the signed-in user, and the administration of users, tokens and the officer directory."""

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from api.auth import SESSION_COOKIE, Admin, AnyUser, Staff, client_address, public
from api.core.errors import ERRORS, Invalid, NotFound
from api.core.types import saved_id
from api.db import SessionDep
from api.pagination import Limit, paging_headers
from api.params import Id, Offset
from api.search import service as search
from api.users import service
from api.users.models import ApiToken, PersonKind, User
from api.users.schemas import (
    ImportResult,
    LoginIn,
    LoginOut,
    MeOut,
    OfficerLinkIn,
    OfficerPublic,
    PasswordChangeIn,
    PasswordResetOut,
    TokenCreated,
    TokenCreateIn,
    TokenPublic,
    UserCreateIn,
    UserPublic,
    UserUpdateIn,
)

router = APIRouter(tags=["accounts"])


@router.post(
    "/api/v1/auth/login",
    response_model=LoginOut,
    dependencies=[Depends(public())],
    responses={401: ERRORS, 403: ERRORS, 429: ERRORS},
)
def login(body: LoginIn, request: Request, session: SessionDep):
    """Sign in. Scripts use the returned token as a bearer token; browsers get an HttpOnly cookie.

    401 for a wrong username or password (or a locked account: the same answer); 403 for a disabled
    account (after the right password); 429 with Retry-After after too many failures."""
    result = service.sign_in(session, body.username, body.password, client_address(request))
    if result.user is None:
        return JSONResponse(
            {"detail": result.refusal},
            status_code=result.status,  # the refusal is committed
            headers=result.headers,
        )
    token, auth_session = result.token, result.auth_session
    if token is None or auth_session is None:  # sign_in opens a session whenever it signs a user in
        raise RuntimeError("a sign-in without its session")
    out = LoginOut(token=token, csrf_token=auth_session.csrf_token, user=UserPublic.of(result.user))
    response = JSONResponse(out.model_dump(mode="json"))
    set_session_cookie(response, request, token)
    return response


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=int(service.ABSOLUTE_TIMEOUT.total_seconds()),
    )


@router.post("/api/v1/auth/logout", status_code=204, responses={401: ERRORS})
def logout(principal: AnyUser, session: SessionDep):
    if principal.auth_session:
        service.end_session(session, principal.auth_session, principal.actor)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/api/v1/auth/me", response_model=MeOut, responses={401: ERRORS})
def me(principal: AnyUser, session: SessionDep):
    return MeOut(
        user=_public(session, principal.user) if principal.user else None,
        name=principal.name,
        roles=sorted(principal.roles),
        scope=principal.scope,
        csrf_token=principal.auth_session.csrf_token if principal.auth_session else None,
    )


@router.post("/api/v1/auth/password", status_code=204, responses={401: ERRORS, 403: ERRORS, 422: ERRORS})
def change_password(body: PasswordChangeIn, principal: AnyUser, session: SessionDep):
    if principal.user is None:
        raise Invalid("a service token has no password")
    service.change_password(session, principal.actor, principal.user, body.current_password, body.new_password)
    return Response(status_code=204)


@router.get("/api/v1/users", response_model=list[UserPublic], responses={401: ERRORS, 403: ERRORS})
def list_users(
    _: Admin,
    session: SessionDep,
    response: Response,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = None,
    offset: Offset = 0,
):
    """Users by name (`q`: part of a username or display name, or a badge); the total in X-Total-Count."""
    page = service.list_users(session, q, limit=limit, offset=offset)
    response.headers.update(paging_headers(page))
    linked = service.accounts_of(session, page.items)
    return [UserPublic.of(u, linked.get(saved_id(u))) for u in page.items]


@router.post(
    "/api/v1/users",
    response_model=UserPublic,
    status_code=201,
    responses={401: ERRORS, 403: ERRORS, 409: ERRORS, 422: ERRORS},
)
def create_user(body: UserCreateIn, principal: Admin, session: SessionDep):
    """A new account; one with a badge that is in the directory is linked to that person (`officer`),
    one whose badge is not there yet is linked once an import adds it."""
    # The password is the admin's choice: the user changes it at the first sign-in.
    user = service.create_user(
        session,
        principal.actor,
        body.username,
        body.password,
        body.roles,
        badge_number=body.badge_number,
        display_name=body.display_name,
        must_change_password=True,
    )
    return _public(session, user)


def _public(session, user: User) -> UserPublic:
    return UserPublic.of(user, service.person(session, user.badge_number))


@router.patch("/api/v1/users/{user_id}", response_model=UserPublic, responses={401: ERRORS, 403: ERRORS, 404: ERRORS})
def update_user(user_id: Id, body: UserUpdateIn, principal: Admin, session: SessionDep):
    user = _user_or_404(session, user_id)
    if body.roles is not None:
        service.set_roles(session, principal.actor, user, body.roles)
    if body.active is not None and body.active != user.active:
        service.set_active(session, principal.actor, user, body.active)
    if "badge_number" in body.model_fields_set or "display_name" in body.model_fields_set:
        service.set_profile(
            session,
            principal.actor,
            user,
            body.model_dump(include={"badge_number", "display_name"} & body.model_fields_set),
        )
    return _public(session, user)


@router.put(
    "/api/v1/users/{user_id}/officer",
    response_model=UserPublic,
    responses={401: ERRORS, 403: ERRORS, 404: ERRORS, 422: ERRORS},
)
def link_officer(user_id: Id, body: OfficerLinkIn, principal: Admin, session: SessionDep):
    """Link the account to the directory's person with this badge (422 when the directory has
    nobody with it), or to nobody (null: the account's badge is taken off)."""
    user = _user_or_404(session, user_id)
    service.link_officer(session, principal.actor, user, body.badge_number)
    return _public(session, user)


@router.post(
    "/api/v1/users/{user_id}/unlock", response_model=UserPublic, responses={401: ERRORS, 403: ERRORS, 404: ERRORS}
)
def unlock_user(user_id: Id, principal: Admin, session: SessionDep):
    user = _user_or_404(session, user_id)
    service.unlock(session, principal.actor, user)
    return _public(session, user)


@router.post(
    "/api/v1/users/{user_id}/reset",
    response_model=PasswordResetOut,
    status_code=201,
    responses={401: ERRORS, 403: ERRORS, 404: ERRORS},
)
def issue_reset(user_id: Id, principal: Admin, session: SessionDep):
    """A one-time code (valid 24 hours) with which the user chooses a new password at /reset."""
    user = _user_or_404(session, user_id)
    reset, code = service.issue_password_reset(session, principal.actor, user)
    return PasswordResetOut(user_id=user.id, code=code, path=f"/reset?code={code}", expires_at=reset.expires_at)


def _user_or_404(session, user_id: Id) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


@router.get("/api/v1/tokens", response_model=list[TokenPublic], responses={401: ERRORS, 403: ERRORS})
def list_tokens(_: Admin, session: SessionDep, response: Response, limit: Limit = None, offset: Offset = 0):
    """Tokens in the order made; the total in X-Total-Count."""
    page = service.list_tokens(session, limit=limit, offset=offset)
    response.headers.update(paging_headers(page))
    return page.items


@router.post(
    "/api/v1/tokens",
    response_model=TokenCreated,
    status_code=201,
    responses={401: ERRORS, 403: ERRORS, 409: ERRORS, 422: ERRORS},
)
def create_token(body: TokenCreateIn, principal: Admin, session: SessionDep):
    user = None
    if body.username:
        user = service.user_by_name(session, body.username)
        if user is None:
            raise Invalid(f"no user named {body.username!r}")
    token, secret = service.create_token(
        session, principal.actor, body.name, user=user, scope=body.scope, expires_in_days=body.expires_in_days
    )
    return TokenCreated(**token.model_dump(exclude={"token_hash"}), token=secret)


@router.delete("/api/v1/tokens/{token_id}", status_code=204, responses={401: ERRORS, 403: ERRORS, 404: ERRORS})
def revoke_token(token_id: Id, principal: Admin, session: SessionDep):
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token {token_id}")
    service.revoke_token(session, principal.actor, token)
    return Response(status_code=204)


@router.get("/api/v1/officers", response_model=list[OfficerPublic], responses={401: ERRORS, 403: ERRORS})
def list_officers(_: Staff, session: SessionDep, division: str | None = None, kind: PersonKind | None = None):
    """The directory by name: sworn officers and civilian employees (`kind`); `division` matches a
    division or a civilian's unit."""
    return service.list_officers(session, division, kind.value if kind else None)


@router.post(
    "/api/v1/officers/import",
    response_model=ImportResult,
    responses={401: ERRORS, 403: ERRORS, 409: ERRORS, 422: ERRORS},
)
def import_officers(
    principal: Admin,
    session: SessionDep,
    body: Annotated[
        str,
        Body(
            media_type="text/csv",
            description="badge_number,name,division and, optionally, kind (sworn or civilian) and unit",
        ),
    ],
):
    """Officers and civilian employees, added or updated by badge; a bad row is reported and
    skipped. An account whose badge the import adds is linked to that person (`linked`)."""
    rows = list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))
    if not rows or "badge_number" not in rows[0]:
        raise Invalid(f"send CSV with a header row: {service.DIRECTORY_COLUMNS} (kind and unit may be left out)")
    result = search.import_people(session, principal.actor, rows)
    return ImportResult(imported=result.imported, problems=result.problems, linked=result.linked)
