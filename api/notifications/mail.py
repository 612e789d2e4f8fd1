"""E-mail for notifications, when BESTPART_SMTP_URL names a server: smtp://[user:password@]host[:port]
(STARTTLS when the server offers it), or smtps:// for TLS from the start. Sent by the worker,
after the notification's unit of work committed; each one at most once (mailed_at)."""

import logging
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from sqlmodel import col, select

from api.config import get_settings
from api.core.types import utcnow
from api.db import session_scope
from api.notifications.models import Notification
from api.users.models import User

log = logging.getLogger("bestpart.mail")
TIMEOUT_SECONDS = 20


def mail_notifications(notification_ids: list[int]) -> int:
    """Mail each of these not yet mailed to its user's address; returns how many were sent."""
    settings = get_settings()
    if not settings.smtp_url:
        return 0
    with session_scope() as session:
        pending = session.exec(
            select(Notification, User.email)
            .join(User, col(User.id) == Notification.user_id)
            .where(col(Notification.id).in_(notification_ids), col(Notification.mailed_at).is_(None))
            .where(col(User.email).is_not(None))
        ).all()
        if not pending:
            return 0
        with _connect(settings.smtp_url) as server:
            for notification, address in pending:
                if address is None:  # the query asked for accounts with an address
                    continue
                server.send_message(_message(notification, address, settings.smtp_from, settings.public_url))
                notification.mailed_at = utcnow()
                session.add(notification)
    log.info("mailed %d notification(s)", len(pending))
    return len(pending)


def _message(notification: Notification, address: str, sender: str, public_url: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = address
    message["Subject"] = f"bestpart: {notification.text[:120]}"
    message.set_content(f"{notification.text}\n\n{public_url.rstrip('/')}{notification.link}\n")
    return message


def _connect(url: str) -> smtplib.SMTP:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"BESTPART_SMTP_URL must be smtp://… or smtps://…, not {parts.scheme}://")
    if not parts.hostname:
        raise ValueError(f"BESTPART_SMTP_URL names no host: {parts.scheme}://host:port")
    secure = parts.scheme == "smtps"
    port = parts.port or (465 if secure else 25)
    server: smtplib.SMTP
    if secure:
        server = smtplib.SMTP_SSL(parts.hostname, port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(parts.hostname, port, timeout=TIMEOUT_SECONDS)
        server.ehlo()
        if server.has_extn("starttls"):
            server.starttls(context=ssl.create_default_context())
            server.ehlo()
    if parts.username:
        server.login(unquote(parts.username), unquote(parts.password or ""))
    return server
