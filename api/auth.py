"""Who is asking, and may they. Every route declares a policy: `allow(...)` or `public()`.

A request is authenticated by a session cookie (browsers; unsafe methods need the CSRF token),
a bearer session token (scripts that used /api/v1/auth/login), or a bearer API token (personal:
the user's roles; service: its scope only). The sign-in form has a CSRF token of its own (below),
and every refusal by a policy is audited.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from fastapi import params as fastapi_params
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.audit.service import Actor, record
from api.core import policies
from api.core.errors import Forbidden
from api.core.policies import Role
from api.core.types import saved_id, utcnow
from api.db import SessionDep
from api.users import service as users
from api.users.models import AuthSession, User

SESSION_COOKIE = "bestpart_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
ALL_ROLES = policies.EVERYONE
LOGIN_CSRF_COOKIE = "bestpart_login_csrf"
LOGIN_CSRF_KEY = "login-csrf"
LOGIN_CSRF_MAX_AGE = timedelta(hours=2)  # a sign-in page left open longer is reloaded


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

    def signed_in_id(self, refusal: str) -> int:
        """The id of the person calling; Forbidden (with `refusal`) for a service token, which is no one."""
        if self.user is None:
            raise Forbidden(refusal)
        return saved_id(self.user)

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    def within(self, roles: frozenset[Role]) -> bool:
        """Holds one of a named set of api.core.policies (REVIEWERS, TRAINERS, ...)."""
        return policies.holds(self, roles)


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
        if signed_in := users.session_for_token(session, token):
            auth_session, user = signed_in
            return Principal(
                user.username,
                frozenset(Role(r) for r in user.roles),
                user=user,
                auth_session=auth_session,
                source=source,
            )
        return None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and (signed_in := users.session_for_token(session, cookie)):
        auth_session, user = signed_in
        return Principal(
            user.username,
            frozenset(Role(r) for r in user.roles),
            user=user,
            auth_session=auth_session,
            source=source,
            by_cookie=True,
        )
    return None


async def _csrf_ok(request: Request, principal: Principal) -> bool:
    if not principal.by_cookie or request.method in SAFE_METHODS:
        return True
    if principal.auth_session is None:  # resolve_principal sets by_cookie only with the cookie's session
        raise RuntimeError("a cookie principal without its session")
    expected = principal.auth_session.csrf_token
    sent: str | UploadFile | None = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        sent = (await request.form()).get("csrf_token")
    return sent is not None and _same(str(sent), expected)


def _same(a: str, b: str) -> bool:
    """In constant time; as bytes, since compare_digest refuses str with non-ASCII characters."""
    return secrets.compare_digest(a.encode(), b.encode())


# Paths a user who must change their one-time password may still use.
PASSWORD_CHANGE_PATHS = {
    "/api/v1/auth/password",
    "/api/v1/auth/logout",
    "/api/v1/auth/me",
    "/account/password",
    "/logout",
}


def keep_denial(
    session: Session,
    actor: Actor,
    *,
    reason: str,
    object_type: str | None = None,
    object_id: object = None,
    details: dict | None = None,
) -> None:
    """Audit a refusal (outcome "denied"). The refusal goes out as an HTTP error, whose rollback
    would take the record with it; so the request's transaction is rolled back now (as the error
    would) and the record committed alone."""
    session.rollback()
    record(
        session,
        actor,
        "access.denied",
        object_type=object_type,
        object_id=object_id,
        outcome="denied",
        details={"reason": reason, **(details or {})},
    )
    session.commit()


async def _denied(request: Request, session: Session, principal: Principal, reason: str) -> HTTPException:
    details = {"method": request.method, "path": request.url.path}
    await run_in_threadpool(keep_denial, session, principal.actor, reason=reason, details=details)
    return HTTPException(403, reason)


# --- the sign-in form's CSRF token ------------------------------------------------------------
# Without it, another site could post its own username and password to /login from a victim's
# browser and have them work, unknowingly, in the attacker's account (login CSRF). A double-submit
# cookie: the page sets a cookie and puts the same token in the form; another site can neither read
# nor set the cookie, so it cannot send a matching pair. The token is signed and dated: only tokens
# this server issued, recently, pass.


def new_login_csrf(session: Session) -> str:
    issued = str(int(utcnow().timestamp()))
    body = f"{secrets.token_urlsafe(16)}.{issued}"
    return f"{body}.{_sign(session, body)}"


def set_login_csrf_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/",
        secure=request.url.scheme == "https",
        max_age=int(LOGIN_CSRF_MAX_AGE.total_seconds()),
    )


def login_csrf_ok(session: Session, request: Request, sent: str | None) -> bool:
    """The form's token is the cookie's, signed by this server, and recent."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not cookie or not sent or not _same(cookie, sent):
        return False
    body, _, signature = cookie.rpartition(".")
    issued = body.rpartition(".")[2]
    if not issued.isascii() or not issued.isdigit() or not _same(signature, _sign(session, body)):
        return False
    age = utcnow().timestamp() - int(issued)
    return 0 <= age <= LOGIN_CSRF_MAX_AGE.total_seconds()


def _sign(session: Session, body: str) -> str:
    return hmac.new(users.server_key(session, LOGIN_CSRF_KEY), body.encode(), hashlib.sha256).hexdigest()


class LoginRequired(Exception):
    """A page asked for by someone not signed in: the app answers with a redirect to /login."""

    def __init__(self, next_path: str, session_ended: bool = False):
        self.next_path = next_path
        self.session_ended = session_ended  # a session cookie came, but its session is over


class Policy:
    """A route's policy, as a FastAPI dependency. It says who may call: `allowed_roles` (None for a
    public route) and `allowed_scope`; the authorization tests read them off every route."""

    allowed_roles: frozenset[Role] | None = None
    allowed_scope: str | None = None


class RolePolicy(Policy):
    def __init__(self, roles: tuple[Role, ...], scope: str | None, page: bool):
        self.roles = roles
        self.allowed_roles = frozenset(roles)
        self.allowed_scope = scope
        self.page = page

    async def __call__(self, request: Request, session: SessionDep) -> Principal:
        roles, scope, page = self.roles, self.allowed_scope, self.page
        # Database work off the event loop: a busy SQLite must never stall every other request.
        principal = await run_in_threadpool(resolve_principal, request, session)
        if principal is None:
            if page:
                raise LoginRequired(request.url.path, session_ended=SESSION_COOKIE in request.cookies)
            raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Bearer"})
        if not await _csrf_ok(request, principal):
            raise await _denied(request, session, principal, "the CSRF token is missing or wrong; reload the page")
        if principal.user and principal.user.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
            raise await _denied(
                request, session, principal, "change your one-time password first (POST /api/v1/auth/password)"
            )
        if principal.has(*roles) or (scope is not None and principal.scope == scope):
            return principal
        wanted = [r.value for r in roles] + ([f"a service token with scope {scope}"] if scope else [])
        raise await _denied(request, session, principal, f"this needs the role {' or '.join(wanted)}")


class PublicPolicy(Policy):
    def __call__(self) -> None:
        return None


def allow(*roles: Role, scope: str | None = None, page: bool = False) -> RolePolicy:
    """A policy: the caller must hold one of `roles` (or a service token with `scope`). The sets
    of roles are named once, in api.core.policies: `allow(*policies.REVIEWERS)`.

    For pages (`page=True`) a caller who is not signed in is sent to the sign-in page instead.
    """
    return RolePolicy(roles, scope, page)


def allow_page(*roles: Role) -> RolePolicy:
    return allow(*roles, page=True)


def public() -> PublicPolicy:
    """A policy for the few routes anyone may call (sign-in, health)."""
    return PublicPolicy()


def allowed(roles: frozenset[Role], *, scope: str | None = None) -> fastapi_params.Depends:
    """The dependency marker for a route that a named set of api.core.policies may call:
    `Annotated[Principal, allowed(policies.ADMINS)]`."""
    return Depends(allow(*policies.in_order(roles), scope=scope))


def allowed_page(roles: frozenset[Role]) -> fastapi_params.Depends:
    """The dependency marker for a page that a named set of api.core.policies may open."""
    return Depends(allow_page(*policies.in_order(roles)))


AnyUser = Annotated[Principal, allowed(policies.EVERYONE)]
CurrentPrincipal = AnyUser
Admin = Annotated[Principal, allowed(policies.ADMINS)]
Reviewer = Annotated[Principal, allowed(policies.REVIEWERS)]
Trainer = Annotated[Principal, allowed(policies.TRAINERS)]
Committee = Annotated[Principal, allowed(policies.COMMITTEE)]
Program = Annotated[Principal, allowed(policies.PROGRAM)]  # nominations, the dashboard and the statistics
CurriculumReader = Annotated[Principal, allowed(policies.CURRICULUM_READERS)]
Staff = Annotated[Principal, allowed(policies.STAFF)]  # everyone but officers: the directory, every award
Uploader = Annotated[Principal, allowed(policies.UPLOADERS, scope=policies.INGEST_SCOPE)]
