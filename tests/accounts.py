"""Users for in-process tests, made through the real services."""

import uuid

from api.audit.service import Actor
from api.db import session_scope
from api.users import service

PASSWORD = "correct-horse-battery-41"


def make_user(
    username: str | None = None, roles=("officer",), badge: str | None = None, password: str = PASSWORD
) -> tuple[int, str]:
    """Create a user and a personal API token; returns (user id, token)."""
    username = username or f"user-{uuid.uuid4().hex[:8]}"
    with session_scope() as session:
        user = service.create_user(session, Actor("test"), username, password, list(roles), badge_number=badge)
        _, token = service.create_token(session, Actor("test"), f"{username}-token", user=user)
        return user.id, token


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def fresh_copy(src, folder, tag: str):
    """The fixture with a few bytes appended: new bytes, so a new clip in the shared test database."""
    copy = folder / f"{tag}-{src.name}"
    copy.write_bytes(src.read_bytes() + tag.encode())
    return copy
