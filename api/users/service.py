"""Accounts, sign-in, sessions and tokens. Services never commit."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, select

from api.audit.service import Actor, record
from api.users.models import ApiToken, AuthSession, LoginAttempt, Officer, Role, TokenScope, User
from api.users.passwords import check_password_policy, dummy_verify, hash_password, verify_password

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
SEEN_GRANULARITY = timedelta(seconds=30)  # don't write last_seen_at on every request


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; the message says why."""


def now() -> datetime:
    return datetime.now(UTC)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_roles(roles: list[str]) -> list[str]:
    try:
        return sorted({Role(r).value for r in roles})
    except ValueError:
        raise AccountError(f"unknown role in {roles}; roles are {', '.join(r.value for r in Role)}") from None


def create_user(session: Session, actor: Actor, username: str, password: str, roles: list[str], *,
                badge_number: str | None = None, display_name: str | None = None,
                must_change_password: bool = False) -> User:
    username = username.strip()
    if not username or len(username) > 100:
        raise AccountError("a username is 1 to 100 characters")
    if session.exec(select(User).where(func.lower(User.username) == username.lower())).first():
        raise AccountError(f"the username {username!r} is taken")
    check_password_policy(password, username)
    user = User(username=username, display_name=display_name, password_hash=hash_password(password),
                roles=parse_roles(roles), badge_number=badge_number or None,
                must_change_password=must_change_password)
    session.add(user)
    session.flush()
    record(session, actor, "user.create", object_type="user", object_id=user.id,
           details={"username": username, "roles": user.roles, "badge_number": user.badge_number})
    return user


def user_by_name(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(func.lower(User.username) == username.strip().lower())).first()


@dataclass
class SignIn:
    user: User | None
    token: str | None = None
    auth_session: AuthSession | None = None
    refusal: str | None = None


def sign_in(session: Session, username: str, password: str, source: str | None) -> SignIn:
    """Check the password, count failures, lock after too many, open a session on success."""
    user = user_by_name(session, username)
    actor = Actor(username[:100] or "anonymous", user.id if user else None, source)
    if user is None:
        dummy_verify(password)
        return _refuse(session, actor, username, source, None, "wrong username or password")
    if user.locked_at:
        return _refuse(session, actor, username, source, user,
                       "the account is locked after too many failed sign-ins; an administrator can unlock it")
    if not user.active:
        return _refuse(session, actor, username, source, user, "the account is disabled")
    if not verify_password(password, user.password_hash):
        refusal = _refuse(session, actor, username, source, user, "wrong username or password")
        if _recent_failures(session, user.username) >= LOCKOUT_FAILURES:
            user.locked_at = now()
            session.add(user)
            record(session, actor, "user.lock", object_type="user", object_id=user.id,
                   details={"reason": f"{LOCKOUT_FAILURES} failed sign-ins within 15 minutes"})
        return refusal
    session.add(LoginAttempt(username=user.username, succeeded=True, source=source))
    token = new_token()
    auth_session = AuthSession(token_hash=token_hash(token), user_id=user.id, csrf_token=new_token())
    session.add(auth_session)
    record(session, actor, "auth.login", object_type="user", object_id=user.id)
    return SignIn(user=user, token=token, auth_session=auth_session)


def _refuse(session, actor, username, source, user, reason) -> SignIn:
    session.add(LoginAttempt(username=(user.username if user else username)[:100], succeeded=False, source=source))
    record(session, actor, "auth.login", object_type="user", object_id=user.id if user else None,
           outcome="failure", details={"reason": reason})
    session.flush()
    return SignIn(user=None, refusal=reason)


def _recent_failures(session: Session, username: str) -> int:
    """Failures in the window since the last success (a success resets the count)."""
    since = now() - LOCKOUT_WINDOW
    last_success = session.exec(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.username == username, LoginAttempt.succeeded)
    ).one()
    if last_success and last_success > since:
        since = last_success
    return session.exec(
        select(func.count()).where(LoginAttempt.username == username, ~LoginAttempt.succeeded,
                                   LoginAttempt.at >= since)
    ).one()


def session_for_token(session: Session, token: str) -> tuple[AuthSession, User] | None:
    """A live session for the token, renewed; None if unknown, ended, idle or too old."""
    found = session.exec(select(AuthSession).where(AuthSession.token_hash == token_hash(token))).first()
    if found is None or found.ended_at is not None:
        return None
    moment = now()
    if moment - found.last_seen_at > IDLE_TIMEOUT or moment - found.created_at > ABSOLUTE_TIMEOUT:
        return None
    user = session.get(User, found.user_id)
    if user is None or not user.active or user.locked_at:
        return None
    if moment - found.last_seen_at > SEEN_GRANULARITY:
        found.last_seen_at = moment
        session.add(found)
    return found, user


def end_session(session: Session, auth_session: AuthSession, actor: Actor) -> None:
    auth_session.ended_at = now()
    session.add(auth_session)
    record(session, actor, "auth.logout", object_type="user", object_id=auth_session.user_id)


def end_all_sessions(session: Session, user_id: int) -> None:
    session.execute(update(AuthSession).where(AuthSession.user_id == user_id, AuthSession.ended_at.is_(None))
                    .values(ended_at=now()))


def token_principal_source(session: Session, token: str) -> tuple[ApiToken, User | None] | None:
    found = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(token))).first()
    if found is None or found.revoked_at is not None:
        return None
    user = session.get(User, found.user_id) if found.user_id else None
    if found.user_id and (user is None or not user.active or user.locked_at):
        return None
    if found.last_used_at is None or now() - found.last_used_at > SEEN_GRANULARITY:
        found.last_used_at = now()
        session.add(found)
    return found, user


def create_token(session: Session, actor: Actor, name: str, *, user: User | None = None,
                 scope: str | None = None) -> tuple[ApiToken, str]:
    """A personal token (for a user) or a service token (with a scope). Returns the secret once."""
    if (user is None) == (scope is None):
        raise AccountError("a token belongs to a user or has a scope, not both and not neither")
    if scope is not None:
        try:
            scope = TokenScope(scope).value
        except ValueError:
            raise AccountError(f"unknown scope {scope!r}; scopes are {', '.join(s.value for s in TokenScope)}") from None
    secret = "bp_" + new_token()
    token = ApiToken(name=name.strip()[:100] or "token", token_hash=token_hash(secret),
                     user_id=user.id if user else None, scope=scope)
    session.add(token)
    session.flush()
    record(session, actor, "token.create", object_type="token", object_id=token.id,
           details={"name": token.name, "user": user.username if user else None, "scope": scope})
    return token, secret


def revoke_token(session: Session, actor: Actor, token: ApiToken) -> None:
    token.revoked_at = now()
    session.add(token)
    record(session, actor, "token.revoke", object_type="token", object_id=token.id)


def unlock(session: Session, actor: Actor, user: User) -> None:
    user.locked_at = None
    session.add(user)
    # Forget the failures that caused the lock, so the next mistake does not lock again at once.
    session.add(LoginAttempt(username=user.username, succeeded=True, source="unlock"))
    record(session, actor, "user.unlock", object_type="user", object_id=user.id)


def set_active(session: Session, actor: Actor, user: User, active: bool) -> None:
    user.active = active
    session.add(user)
    if not active:
        end_all_sessions(session, user.id)
    record(session, actor, "user.enable" if active else "user.disable", object_type="user", object_id=user.id)


def set_roles(session: Session, actor: Actor, user: User, roles: list[str]) -> None:
    before = user.roles
    user.roles = parse_roles(roles)
    session.add(user)
    record(session, actor, "user.roles", object_type="user", object_id=user.id,
           details={"before": before, "after": user.roles})


def change_password(session: Session, actor: Actor, user: User, current: str, new: str) -> None:
    if not verify_password(current, user.password_hash):
        raise AccountError("the current password is wrong")
    check_password_policy(new, user.username)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    session.add(user)
    record(session, actor, "user.password", object_type="user", object_id=user.id)


def bootstrap_admin(session: Session) -> str | None:
    """On an empty database: an `admin` account with a one-time password, returned once."""
    if session.exec(select(User.id).limit(1)).first() is not None:
        return None
    password = "-".join(secrets.token_hex(3) for _ in range(4))
    create_user(session, Actor("system"), "admin", password, [Role.ADMIN.value], display_name="Administrator",
                must_change_password=True)
    return password


def import_officers(session: Session, actor: Actor, rows: list[dict]) -> tuple[int, list[str]]:
    """Upsert the directory from CSV rows (badge_number, name, division). Returns (count, problems)."""
    count, problems = 0, []
    for line, row in enumerate(rows, start=2):
        badge = (row.get("badge_number") or "").strip()
        name = (row.get("name") or "").strip()
        if not badge or not name:
            problems.append(f"line {line}: badge_number and name are required")
            continue
        officer = session.get(Officer, badge) or Officer(badge_number=badge, name=name)
        officer.name, officer.division = name[:200], ((row.get("division") or "").strip() or None)
        session.add(officer)
        count += 1
    record(session, actor, "officer.import", object_type="officer", details={"rows": count, "problems": len(problems)})
    return count, problems


def set_profile(session: Session, actor: Actor, user: User, changes: dict) -> None:
    for key, value in changes.items():
        setattr(user, key, (value or "").strip() or None)
    session.add(user)
    record(session, actor, "user.profile", object_type="user", object_id=user.id, details=changes)
