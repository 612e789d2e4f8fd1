"""Who is asking, and may they. Every route declares a policy: `allow(...)` or `public()`.

A request is authenticated by a session cookie (browsers; unsafe methods need the CSRF token),
a bearer session token (scripts that used /api/v1/auth/login), or a bearer API token (personal:
the user's roles; service: its scope only).
"""

import secrets
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from api.audit.service import Actor
from api.db import SessionDep
from api.users import service as users
from api.users.models import AuthSession, Role, User

SESSION_COOKIE = "bestpart_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
ALL_ROLES = frozenset(Role)


@dataclass
class Principal:
    name: str
    roles: frozenset[Role] = frozenset()
    user: User | None = None
    scope: str | None = None
    auth_session: AuthSession | None = None
    source: str | None = None
    by_cookie: bool = False
    details: dict = field(default_factory=dict)

    @property
    def actor(self) -> Actor:
        return Actor(self.name, self.user.id if self.user else None, self.source)

    @property
    def badge_number(self) -> str | None:
        return self.user.badge_number if self.user else None

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def resolve_principal(request: Request, session: SessionDep) -> Principal | None:
    source = client_address(request)
    if token := _bearer(request):
        if found := users.token_principal_source(session, token):
            api_token, user = found
            if user:
                return Principal(user.username, frozenset(Role(r) for r in user.roles), user=user, source=source)
            return Principal(f"token:{api_token.name}", scope=api_token.scope, source=source)
        if found := users.session_for_token(session, token):
            auth_session, user = found
            return Principal(user.username, frozenset(Role(r) for r in user.roles), user=user,
                             auth_session=auth_session, source=source)
        return None
    if cookie := request.cookies.get(SESSION_COOKIE):
        if found := users.session_for_token(session, cookie):
            auth_session, user = found
            return Principal(user.username, frozenset(Role(r) for r in user.roles), user=user,
                             auth_session=auth_session, source=source, by_cookie=True)
    return None


async def _csrf_ok(request: Request, principal: Principal) -> bool:
    if not principal.by_cookie or request.method in SAFE_METHODS:
        return True
    expected = principal.auth_session.csrf_token
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        sent = (await request.form()).get("csrf_token")
    return sent is not None and secrets.compare_digest(str(sent), expected)


# Paths a user who must change their one-time password may still use.
PASSWORD_CHANGE_PATHS = {"/api/v1/auth/password", "/api/v1/auth/logout", "/api/v1/auth/me",
                         "/account/password", "/logout"}


class LoginRequired(Exception):
    """A page asked for by someone not signed in: the app answers with a redirect to /login."""

    def __init__(self, next_path: str, session_ended: bool = False):
        self.next_path = next_path
        self.session_ended = session_ended  # a session cookie came, but its session is over


def allow(*roles: Role, scope: str | None = None, page: bool = False):
    """A policy: the caller must hold one of `roles` (or a service token with `scope`).

    For pages (`page=True`) a caller who is not signed in is sent to the sign-in page instead.
    """
    async def policy(request: Request, session: SessionDep) -> Principal:
        # Database work off the event loop: a busy SQLite must never stall every other request.
        principal = await run_in_threadpool(resolve_principal, request, session)
        if principal is None:
            if page:
                raise LoginRequired(request.url.path, session_ended=SESSION_COOKIE in request.cookies)
            raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Bearer"})
        if not await _csrf_ok(request, principal):
            raise HTTPException(403, "the CSRF token is missing or wrong; reload the page")
        if principal.user and principal.user.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
            raise HTTPException(403, "change your one-time password first (POST /api/v1/auth/password)")
        if principal.has(*roles) or (scope is not None and principal.scope == scope):
            return principal
        wanted = [r.value for r in roles] + ([f"a service token with scope {scope}"] if scope else [])
        raise HTTPException(403, f"this needs the role {' or '.join(wanted)}")

    policy.allowed_roles = frozenset(roles)
    policy.allowed_scope = scope
    policy.page = page
    return policy


def allow_page(*roles: Role):
    return allow(*roles, page=True)


def public():
    """A policy for the few routes anyone may call (sign-in, health)."""
    def policy() -> None:
        return None

    policy.allowed_roles = None
    policy.allowed_scope = None
    return policy


AnyUser = Annotated[Principal, Depends(allow(*ALL_ROLES))]
CurrentPrincipal = AnyUser
Admin = Annotated[Principal, Depends(allow(Role.ADMIN))]
Reviewer = Annotated[Principal, Depends(allow(Role.REVIEWER, Role.ADMIN))]
Trainer = Annotated[Principal, Depends(allow(Role.TRAINER, Role.ADMIN))]
Committee = Annotated[Principal, Depends(allow(Role.COMMITTEE, Role.ADMIN))]
Uploader = Annotated[Principal, Depends(allow(Role.OFFICER, Role.ADMIN, scope="ingest"))]
