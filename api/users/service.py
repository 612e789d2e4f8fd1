"""Accounts, sign-in, sessions and tokens. Services never commit."""

import hashlib
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.audit.service import Actor, record
from api.core.errors import Conflict, Forbidden, Invalid, ServiceError
from api.core.types import saved_id, utcnow
from api.pagination import Page, offset_page
from api.users import throttle
from api.users.models import (
    ApiToken,
    AuthSession,
    LoginAttempt,
    Officer,
    PasswordReset,
    PersonKind,
    Role,
    ServerKey,
    TokenScope,
    User,
)
from api.users.passwords import (  # noqa: F401 (MIN_LENGTH, WeakPassword: for the password pages)
    MIN_LENGTH,
    WeakPassword,
    check_password_policy,
    dummy_verify,
    hash_password,
    verify_password,
)
from api.users.schemas import PersonPublic

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
LOCKOUT_FAILURES = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
LOCK_DURATION = timedelta(minutes=10)  # CJIS 5.5.3; an admin's unlock ends it sooner
RESET_VALIDITY = timedelta(hours=24)
MAX_TOKEN_DAYS = 3650
# One answer for an unknown username, a wrong password and a locked account, so that nobody learns
# which usernames exist or which are locked; it says enough for the real user to know what to do.
WRONG = (
    f"Wrong username or password. After {LOCKOUT_FAILURES} failed sign-ins an account is locked for "
    f"{LOCK_DURATION // timedelta(minutes=1)} minutes; an administrator can unlock it sooner."
)
DISABLED = "the account is disabled; ask an administrator"
BAD_RESET = (
    "this reset code is not valid: it was used already, it expired, or it was mistyped; "
    "ask an administrator for a new one"
)
SEEN_GRANULARITY = timedelta(seconds=30)  # don't write last_seen_at on every request


# What api/cli.py still catches (any refusal of an account request); to go once it catches
# ServiceError. The service raises Invalid, Conflict or Forbidden, which the app answers as such.
AccountError = ServiceError


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_roles(roles: Sequence[str]) -> list[str]:
    try:
        return sorted({Role(r).value for r in roles})
    except ValueError:
        raise Invalid(f"unknown role in {roles}; roles are {', '.join(r.value for r in Role)}") from None


def create_user(
    session: Session,
    actor: Actor,
    username: str,
    password: str,
    roles: Sequence[str],
    *,
    badge_number: str | None = None,
    display_name: str | None = None,
    must_change_password: bool = False,
) -> User:
    username = username.strip()
    if not username or len(username) > 100:
        raise Invalid("a username is 1 to 100 characters")
    if session.exec(select(User).where(func.lower(User.username) == username.lower())).first():
        raise Conflict(f"the username {username!r} is taken")
    badge_number = _badge(badge_number)
    check_password_policy(password, username, (display_name, badge_number))
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        roles=parse_roles(roles),
        badge_number=badge_number or None,
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor,
        "user.create",
        object_type="user",
        object_id=user.id,
        details={
            "username": username,
            "roles": user.roles,
            "badge_number": user.badge_number,
            "linked": officer_entry(session, user.badge_number) is not None,
        },
    )
    return user


def _badge(badge_number: str | None) -> str | None:
    badge = (badge_number or "").strip()
    if len(badge) > 50:
        raise Invalid("a badge number is at most 50 characters")
    return badge or None


def user_by_name(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(func.lower(User.username) == username.strip().lower())).first()


@dataclass
class SignIn:
    """A session opened, or the refusal: its message, HTTP status and (when throttled) the wait."""

    user: User | None
    token: str | None = None
    auth_session: AuthSession | None = None
    refusal: str | None = None
    status: int = 200
    retry_after: int | None = None

    @property
    def headers(self) -> dict[str, str]:
        """What to answer beside a throttled refusal: when to try again."""
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


def sign_in(session: Session, username: str, password: str, source: str | None) -> SignIn:
    """Check the password and open a session, or refuse.

    A stranger learns nothing from the refusal: an unknown username, a wrong password and a locked
    account get the same answer, and every name is throttled alike. Only someone who gave the right
    password hears that the account is disabled. Locking never ends open sessions or tokens: it
    stops new password sign-ins only, so failed attempts cannot throw anyone out."""
    moment = utcnow()
    user = user_by_name(session, username)
    key = user.username if user else username.strip().lower()[:100]
    actor = Actor(username[:100] or "anonymous", user.id if user else None, source)
    wait, rule = throttle.sign_in_wait(session, key, source, moment)
    if wait:
        return _throttled(session, actor, user, wait, rule)
    if user is None or user.locked:
        dummy_verify(password)  # the same time as a real check
        return _refuse(session, actor, key, user, "account locked" if user else "unknown username")
    if not verify_password(password, user.password_hash):
        refusal = _refuse(session, actor, key, user, "wrong password")
        _lock_if_too_many(session, actor, user, moment)
        return refusal
    if not user.active:
        return _refuse(session, actor, key, user, "account disabled", message=DISABLED, status=403)
    return _open_session(session, actor, user, source)


def _open_session(session: Session, actor: Actor, user: User, source: str | None) -> SignIn:
    session.add(LoginAttempt(username=user.username, succeeded=True, source=source))
    if user.locked_at and not user.locked:
        user.locked_at = None  # the lock has lapsed
        session.add(user)
    token = new_token()
    auth_session = AuthSession(token_hash=token_hash(token), user_id=saved_id(user), csrf_token=new_token())
    session.add(auth_session)
    record(session, actor, "auth.login", object_type="user", object_id=user.id)
    return SignIn(user=user, token=token, auth_session=auth_session)


def _refuse(
    session, actor: Actor, key: str, user: User | None, reason: str, *, message: str = WRONG, status: int = 401
) -> SignIn:
    """Count the failure and audit it (with its source); the reason is for the audit log only."""
    session.add(LoginAttempt(username=key, succeeded=False, source=actor.source))
    record(
        session,
        actor,
        "auth.login",
        object_type="user",
        object_id=user.id if user else None,
        outcome="failure",
        details={"reason": reason},
    )
    session.flush()
    return SignIn(user=None, refusal=message, status=status)


def _throttled(session, actor: Actor, user: User | None, wait: int, rule: str) -> SignIn:
    # Not counted as an attempt (it was not tried), but audited like one.
    record(
        session,
        actor,
        "auth.login",
        object_type="user",
        object_id=user.id if user else None,
        outcome="failure",
        details={"reason": f"throttled by {rule}", "retry_after": wait},
    )
    return SignIn(
        user=None, refusal=f"too many failed sign-ins; try again in {_wait_text(wait)}", status=429, retry_after=wait
    )


def _wait_text(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    return f"{math.ceil(seconds / 60)} minutes"


def _lock_if_too_many(session: Session, actor: Actor, user: User, moment: datetime) -> None:
    """LOCKOUT_FAILURES failures within LOCKOUT_WINDOW lock the account for LOCK_DURATION
    (CJIS 5.5.3); failures before an earlier lock ended do not count again."""
    since = moment - LOCKOUT_WINDOW
    if user.locked_until and user.locked_until > since:
        since = user.locked_until
    if throttle.failures(session, LoginAttempt.username, user.username, since).count < LOCKOUT_FAILURES:
        return
    user.locked_at, user.locked_until = moment, moment + LOCK_DURATION
    session.add(user)
    record(
        session,
        actor,
        "user.lock",
        object_type="user",
        object_id=user.id,
        details={
            "reason": f"{LOCKOUT_FAILURES} failed sign-ins within {LOCKOUT_WINDOW // timedelta(minutes=1)} minutes",
            "until": user.locked_until.isoformat(timespec="seconds"),
        },
    )


def session_for_token(session: Session, token: str) -> tuple[AuthSession, User] | None:
    """A live session for the token, renewed; None if unknown, ended, idle or too old."""
    found = session.exec(select(AuthSession).where(AuthSession.token_hash == token_hash(token))).first()
    if found is None or found.ended_at is not None:
        return None
    moment = utcnow()
    if moment - found.last_seen_at > IDLE_TIMEOUT or moment - found.created_at > ABSOLUTE_TIMEOUT:
        return None
    user = session.get(User, found.user_id)
    if user is None or not user.active:  # a lock does not end sessions: it only stops new sign-ins
        return None
    if moment - found.last_seen_at > SEEN_GRANULARITY:
        found.last_seen_at = moment
        session.add(found)
    return found, user


def end_session(session: Session, auth_session: AuthSession, actor: Actor) -> None:
    auth_session.ended_at = utcnow()
    session.add(auth_session)
    record(session, actor, "auth.logout", object_type="user", object_id=auth_session.user_id)


def end_all_sessions(session: Session, user_id: int) -> None:
    session.execute(
        update(AuthSession)
        .where(col(AuthSession.user_id) == user_id, col(AuthSession.ended_at).is_(None))
        .values(ended_at=utcnow())
    )


def token_principal_source(session: Session, token: str) -> tuple[ApiToken, User | None] | None:
    """The live token and its user (None for a service token); None if unknown, revoked or expired."""
    found = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(token))).first()
    moment = utcnow()
    if found is None or found.revoked_at is not None or found.expired(moment):
        return None
    user = session.get(User, found.user_id) if found.user_id else None
    if found.user_id and (user is None or not user.active):  # a lock leaves tokens working, as sessions
        return None
    if found.last_used_at is None or moment - found.last_used_at > SEEN_GRANULARITY:
        found.last_used_at = moment
        session.add(found)
    return found, user


def create_token(
    session: Session,
    actor: Actor,
    name: str,
    *,
    user: User | None = None,
    scope: str | None = None,
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """A personal token (for a user) or a service token (with a scope), valid until revoked or for
    `expires_in_days`. Returns the secret once."""
    if (user is None) == (scope is None):
        raise Invalid("a token belongs to a user or has a scope, not both and not neither")
    if scope is not None:
        try:
            scope = TokenScope(scope).value
        except ValueError:
            raise Invalid(f"unknown scope {scope!r}; scopes are {', '.join(s.value for s in TokenScope)}") from None
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise Invalid(f"a token expires after 1 to {MAX_TOKEN_DAYS} days")
    secret = "bp_" + new_token()
    token = ApiToken(
        name=name.strip()[:100] or "token",
        token_hash=token_hash(secret),
        user_id=user.id if user else None,
        scope=scope,
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    session.flush()
    record(
        session,
        actor,
        "token.create",
        object_type="token",
        object_id=token.id,
        details={
            "name": token.name,
            "user": user.username if user else None,
            "scope": scope,
            "expires_at": token.expires_at.isoformat(timespec="seconds") if token.expires_at else None,
        },
    )
    return token, secret


def revoke_token(session: Session, actor: Actor, token: ApiToken) -> None:
    token.revoked_at = utcnow()
    session.add(token)
    record(session, actor, "token.revoke", object_type="token", object_id=token.id)


def unlock(session: Session, actor: Actor, user: User) -> None:
    """End a lock before it lapses."""
    _release(session, user)
    record(session, actor, "user.unlock", object_type="user", object_id=user.id)


def _release(session: Session, user: User) -> None:
    user.locked_at, user.locked_until = None, None
    session.add(user)
    # Counted as a success: the failures that caused the lock (and their throttle) are forgotten,
    # so the next mistake does not lock again at once.
    session.add(LoginAttempt(username=user.username, succeeded=True, source="unlock"))


def clear_lapsed_locks(session: Session) -> None:
    """Forget when lapsed locks began (locked_at), so that lists show only the locks in force.
    Cheap when there is nothing to clear: a read, and no write."""
    lapsed = (
        col(User.locked_at).is_not(None),
        or_(col(User.locked_until).is_(None), col(User.locked_until) <= utcnow()),
    )
    if session.exec(select(User.id).where(*lapsed).limit(1)).first() is not None:
        session.execute(update(User).where(*lapsed).values(locked_at=None))


def list_users(session: Session, q: str | None = None, *, limit: int | None = None, offset: int = 0) -> Page[User]:
    """Users by name, filtered by part of a username or display name, or a badge; the locks shown
    are the ones in force."""
    clear_lapsed_locks(session)
    query = select(User)
    if q and q.strip():
        needle = q.strip().lower()
        query = query.where(
            or_(
                func.lower(User.username).contains(needle, autoescape=True),
                func.lower(User.display_name).contains(needle, autoescape=True),
                col(User.badge_number) == q.strip(),
            )
        )
    return offset_page(session, query, (User.username,), limit=limit, offset=offset)


def list_tokens(
    session: Session, *, live_first: bool = False, limit: int | None = None, offset: int = 0
) -> Page[ApiToken]:
    """API tokens in the order made, or (`live_first`) live ones first, newest first."""
    order = (col(ApiToken.revoked_at).is_not(None), col(ApiToken.id).desc()) if live_first else (ApiToken.id,)
    return offset_page(session, select(ApiToken), order, limit=limit, offset=offset)


def usernames(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = session.exec(select(User.id, User.username).where(col(User.id).in_(user_ids)))
    return {user_id: name for user_id, name in rows if user_id is not None}  # read back: never None


def display_names(session: Session, user_ids: set[int]) -> dict[int, str]:
    """What to call each user on a page: their display name, else the name of the directory entry
    their badge links them to, else their username."""
    if not user_ids:
        return {}
    found = list(session.exec(select(User).where(col(User.id).in_(user_ids))))
    named = officer_names(session, {u.badge_number for u in found if u.badge_number and not u.display_name})
    return {
        saved_id(user): user.display_name or (user.badge_number and named.get(user.badge_number)) or user.username
        for user in found
    }


# --- people: the directory, and the accounts linked to it by badge ----------------------------------


def officer_entry(session: Session, badge_number: str | None) -> Officer | None:
    """The directory's row for a badge (None when it is not there)."""
    return session.get(Officer, badge_number) if badge_number else None


def _person(entry: Officer) -> PersonPublic:
    return PersonPublic(
        badge_number=entry.badge_number,
        name=entry.name,
        kind=PersonKind.CIVILIAN if entry.kind == PersonKind.CIVILIAN.value else PersonKind.SWORN,
        division=entry.division,
        unit=entry.unit,
        in_directory=True,
    )


def people(session: Session, badges: set[str]) -> dict[str, PersonPublic]:
    """badge → the person who carries it, for every badge asked, in two queries: the directory's
    entry (name, sworn or civilian, division or unit), else what an account with that badge says
    (its display name), else the bare badge. What every page and answer shows of a person."""
    badges = {b for b in badges if b}
    if not badges:
        return {}
    entries = session.exec(select(Officer).where(col(Officer.badge_number).in_(badges)))
    found = {e.badge_number: _person(e) for e in entries}
    rest = badges - set(found)
    named: dict[str, str] = {}
    if rest:
        accounts = session.exec(
            select(User.badge_number, User.display_name)
            .where(col(User.badge_number).in_(rest), col(User.display_name).is_not(None))
            .order_by(col(User.active).desc(), col(User.id))
        )
        for badge, name in accounts:
            if badge is not None and name is not None:  # as the query asked
                named.setdefault(badge, name)
    for badge in rest:
        found[badge] = PersonPublic(
            badge_number=badge, name=named.get(badge), kind=None, division=None, unit=None, in_directory=False
        )
    return found


def person(session: Session, badge_number: str | None) -> PersonPublic | None:
    """The person who carries a badge (see people); None without a badge."""
    return people(session, {badge_number}).get(badge_number) if badge_number else None


def officer(session: Session, badge_number: str | None) -> PersonPublic | None:
    """The person with this badge, when anyone knows their name (the directory, else an account);
    None otherwise. `.name`, `.affiliation` (division or unit), `.kind`."""
    found = person(session, badge_number)
    return found if found is not None and found.name else None


def officer_names(session: Session, badges: set[str]) -> dict[str, str]:
    """badge → name: the directory's, else an account's display name; badges nobody names are left out."""
    return {badge: p.name for badge, p in people(session, badges).items() if p.name}


def list_officers(session: Session, division: str | None = None, kind: str | None = None) -> list[Officer]:
    """The directory by name; `division` matches a division or a unit."""
    query = select(Officer).order_by(Officer.name, Officer.badge_number)
    if division:
        query = query.where(or_(col(Officer.division) == division, col(Officer.unit) == division))
    if kind:
        query = query.where(Officer.kind == kind)
    return list(session.exec(query))


def link_officer(session: Session, actor: Actor, user: User, badge_number: str | None) -> PersonPublic | None:
    """Make the account the directory's person with this badge (it must be in the directory), or
    nobody (None: the badge is taken off). The account's footage and recognition follow the badge."""
    badge = _badge(badge_number)
    entry = officer_entry(session, badge)
    if badge and entry is None:
        raise Invalid(
            f"no one in the officer directory has badge {badge}: import the directory "
            "(bestpart officers import, or the Officer directory on the admin page) or check the number"
        )
    before = user.badge_number
    user.badge_number = badge
    session.add(user)
    record(
        session,
        actor,
        "user.link",
        object_type="user",
        object_id=user.id,
        details={"before": before, "after": badge, "name": entry.name if entry else None},
    )
    return _person(entry) if entry else None


def accounts_of(session: Session, users: list[User]) -> dict[int, PersonPublic]:
    """user id → the directory entry each account is linked to (by its badge); unlinked ones left out."""
    found = people(session, {u.badge_number for u in users if u.badge_number})
    return {saved_id(u): found[u.badge_number] for u in users if u.badge_number and found[u.badge_number].in_directory}


def set_active(session: Session, actor: Actor, user: User, active: bool) -> None:
    user.active = active
    session.add(user)
    if not active:
        end_all_sessions(session, saved_id(user))
    record(session, actor, "user.enable" if active else "user.disable", object_type="user", object_id=user.id)


def set_roles(session: Session, actor: Actor, user: User, roles: Sequence[str]) -> None:
    before = user.roles
    user.roles = parse_roles(roles)
    session.add(user)
    record(
        session,
        actor,
        "user.roles",
        object_type="user",
        object_id=user.id,
        details={"before": before, "after": user.roles},
    )


def change_password(session: Session, actor: Actor, user: User, current: str, new: str) -> None:
    if not verify_password(current, user.password_hash):
        raise Forbidden("the current password is wrong")
    _set_own_password(session, user, new)
    record(session, actor, "user.password", object_type="user", object_id=user.id)


def _set_own_password(session: Session, user: User, new: str) -> None:
    """A password the user chose: it need not be changed again."""
    check_password_policy(new, user.username, (user.display_name, user.badge_number))
    user.password_hash = hash_password(new)
    user.must_change_password = False
    session.add(user)


def issue_password_reset(
    session: Session, actor: Actor, user: User, *, valid_for: timedelta = RESET_VALIDITY
) -> tuple[PasswordReset, str]:
    """A one-time code with which the user chooses a new password (at /reset?code=CODE). Returns the
    code once; only its hash is kept. An earlier code of the user's that is still open stops working."""
    moment = utcnow()
    session.execute(
        update(PasswordReset)
        .where(
            col(PasswordReset.user_id) == user.id,
            col(PasswordReset.used_at).is_(None),
            col(PasswordReset.expires_at) > moment,
        )
        .values(expires_at=moment)
    )
    code = new_token()
    reset = PasswordReset(
        user_id=saved_id(user),
        code_hash=token_hash(code),
        issued_by=actor.name[:200],
        created_at=moment,
        expires_at=moment + valid_for,
    )
    session.add(reset)
    session.flush()
    record(
        session,
        actor,
        "user.reset_issue",
        object_type="user",
        object_id=user.id,
        details={"expires_at": reset.expires_at.isoformat(timespec="seconds")},
    )
    return reset, code


def open_password_reset(session: Session, code: str) -> tuple[PasswordReset, User] | None:
    """The unused, unexpired reset for the code, and its user; None otherwise."""
    reset = session.exec(select(PasswordReset).where(PasswordReset.code_hash == token_hash(code))).first()
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        return None
    user = session.get(User, reset.user_id)
    return (reset, user) if user else None


def redeem_password_reset(session: Session, code: str, new_password: str, source: str | None) -> User:
    """Set the user's new password with a reset code, once. The account's lock ends and its open
    sessions end (whoever knew the old password is signed out); API tokens stay. Raises
    Invalid for a bad code, WeakPassword for a weak password (the code then still works)."""
    found = open_password_reset(session, code)
    if found is not None:
        check_password_policy(new_password, found[1].username, (found[1].display_name, found[1].badge_number))
    if found is None or not _claim(session, found[0]):
        record(
            session,
            Actor("anonymous", None, source),
            "user.reset",
            outcome="failure",
            details={"reason": "unknown, used or expired code"},
        )
        raise Invalid(BAD_RESET)
    user = found[1]
    _set_own_password(session, user, new_password)
    if user.locked_at or user.locked_until:
        _release(session, user)
    end_all_sessions(session, saved_id(user))
    record(session, Actor(user.username, user.id, source), "user.reset", object_type="user", object_id=user.id)
    return user


def _claim(session: Session, reset: PasswordReset) -> bool:
    """Mark the code used, unless another request just did: the UPDATE re-checks what was read."""
    claimed = session.exec(
        update(PasswordReset)
        .where(col(PasswordReset.id) == reset.id, col(PasswordReset.used_at).is_(None))
        .values(used_at=utcnow())
    )
    return claimed.rowcount == 1


def server_key(session: Session, name: str) -> bytes:
    """A random key kept in the database, made on first use; the same for every server process."""
    found = session.get(ServerKey, name)
    if found is None:
        try:
            with session.begin_nested():  # two first requests at once: one makes it, both read it
                session.add(ServerKey(name=name, secret=secrets.token_hex(32)))
        except IntegrityError:
            pass
        found = session.get(ServerKey, name)
        if found is None:  # the other request's insert is committed before ours fails
            raise RuntimeError(f"server key {name} neither made nor found")
    return bytes.fromhex(found.secret)


def bootstrap_admin(session: Session) -> str | None:
    """On an empty database: an `admin` account with a one-time password, returned once."""
    if session.exec(select(User.id).limit(1)).first() is not None:
        return None
    password = "-".join(secrets.token_hex(3) for _ in range(4))
    create_user(
        session,
        Actor("system"),
        "admin",
        password,
        [Role.ADMIN.value],
        display_name="Administrator",
        must_change_password=True,
    )
    return password


@dataclass
class DirectoryImport:
    """What an import of the directory did: rows taken, rows refused (line and why), the badges
    whose name, kind, division or unit it set or changed (their clips are re-indexed), and the
    accounts it linked (their badge was not in the directory before)."""

    imported: int = 0
    problems: list[str] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)
    linked: list[str] = field(default_factory=list)


DIRECTORY_COLUMNS = "badge_number,name,division,kind,unit"
KINDS = {kind.value for kind in PersonKind}


def import_directory(session: Session, actor: Actor, rows: list[dict]) -> DirectoryImport:
    """Upsert the directory from CSV rows: badge_number and name, then division, and the optional
    kind (sworn, the default, or civilian) and unit (a civilian's). A column the CSV lacks leaves
    that field of an existing entry as it was. An account whose badge an import adds is linked to
    it from then on. api.search.service.import_people re-indexes the clips of the changed badges."""
    result, new = DirectoryImport(), set()
    for line, row in enumerate(rows, start=2):
        badge = (row.get("badge_number") or "").strip()
        name = (row.get("name") or "").strip()[:200]
        kind = (row.get("kind") or "").strip().lower() or None
        if not badge or not name:
            result.problems.append(f"line {line}: badge_number and name are required")
            continue
        if len(badge) > 50:
            result.problems.append(f"line {line}: badge number {badge[:60]!r} is longer than 50 characters")
            continue
        if kind is not None and kind not in KINDS:
            result.problems.append(f"line {line}: kind is sworn or civilian, not {kind!r}")
            continue
        entry = session.get(Officer, badge)
        if entry is None:
            entry = Officer(badge_number=badge, name="")
            new.add(badge)
        before = (entry.name, entry.kind, entry.division, entry.unit)
        entry.name = name
        entry.division = (row.get("division") or "").strip()[:200] or None
        if "kind" in row:
            entry.kind = kind or PersonKind.SWORN.value
        if "unit" in row:
            entry.unit = (row.get("unit") or "").strip()[:200] or None
        if (entry.name, entry.kind, entry.division, entry.unit) != before:
            result.changed.add(badge)
        session.add(entry)
        result.imported += 1
    session.flush()
    if new:
        result.linked = list(
            session.exec(select(User.username).where(col(User.badge_number).in_(new)).order_by(User.username))
        )
    record(
        session,
        actor,
        "officer.import",
        object_type="officer",
        details={"rows": result.imported, "problems": len(result.problems), "linked": result.linked},
    )
    return result


def set_profile(session: Session, actor: Actor, user: User, changes: dict) -> None:
    """Display name and badge as given (a badge need not be in the directory: the admin page says
    when it is not; link_officer is the way that insists)."""
    for key, value in changes.items():
        setattr(user, key, _badge(value) if key == "badge_number" else (value or "").strip() or None)
    session.add(user)
    record(session, actor, "user.profile", object_type="user", object_id=user.id, details=changes)
