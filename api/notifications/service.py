"""Who hears of what, and their inbox. Callers notify inside their own unit of work, so a
notification exists exactly when the thing it tells of was committed."""

from collections.abc import Iterable

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from api.core.errors import NotFound
from api.core.types import saved_ids, utcnow
from api.db import enqueue_after_commit
from api.notifications.models import Notification, NotificationKind
from api.pagination import Page, offset_page
from api.users.models import User

MAIL_JOB = "notify.mail"


def notify(
    session: Session,
    user_ids: Iterable[int | None],
    kind: NotificationKind,
    text: str,
    link: str,
    *,
    actor_user_id: int | None = None,
) -> list[Notification]:
    """One notification per distinct user, the one who acted left out (you need not be told of
    your own act). Mailed after commit when an SMTP server is set."""
    recipients = sorted({uid for uid in user_ids if uid is not None and uid != actor_user_id})
    rows = [Notification(user_id=uid, kind=kind, text=text[:500], link=link) for uid in recipients]
    session.add_all(rows)
    session.flush()
    if rows:
        enqueue_after_commit(session, MAIL_JOB, [row.id for row in rows])
    return rows


def accounts_with_badge(session: Session, badge: str | None) -> list[int]:
    """The active accounts of the officer with this badge (usually one)."""
    if not badge:
        return []
    return saved_ids(session.exec(select(col(User.id)).where(User.badge_number == badge, col(User.active).is_(True))))


def accounts_named(session: Session, username: str | None) -> list[int]:
    if not username:
        return []
    return saved_ids(session.exec(select(col(User.id)).where(User.username == username, col(User.active).is_(True))))


def members_of(session: Session, role: str) -> list[int]:
    """The active accounts holding `role` (roles are a JSON list: filtered here, a few hundred users)."""
    users = session.exec(select(User.id, User.roles).where(col(User.active).is_(True)))
    return saved_ids(uid for uid, roles in users if role in roles)


def inbox(session: Session, user_id: int, *, unread_only: bool, limit: int | None, offset: int = 0) -> Page:
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(col(Notification.read_at).is_(None))
    return offset_page(session, query, (col(Notification.id).desc(),), limit=limit, offset=offset)


def unread_count(session: Session, user_id: int) -> int:
    unread = select(func.count()).where(Notification.user_id == user_id, col(Notification.read_at).is_(None))
    return session.exec(unread).one()


def mark_read(session: Session, user_id: int, ids: list[int] | None) -> int:
    """Mark the caller's notifications read (all of them when `ids` is None); another user's
    notification is answered as not found, as if it did not exist. Returns what is left unread."""
    if ids:
        own = set(
            session.exec(select(Notification.id).where(col(Notification.id).in_(ids), Notification.user_id == user_id))
        )
        if missing := sorted(set(ids) - own):
            raise NotFound(f"no notification {', '.join(map(str, missing))} in your inbox")
    mark = update(Notification).where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
    if ids:
        mark = mark.where(col(Notification.id).in_(ids))
    session.execute(mark.values(read_at=utcnow()))
    return unread_count(session, user_id)
