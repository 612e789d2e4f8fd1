"""Helpers for the sign-in tests: a browser per source address, the sign-in form's fields read
with an HTML parser, and time travel by moving rows into the past (never sleeping)."""

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from sqlalchemy import or_
from sqlmodel import select

from api.audit.models import AuditEvent
from api.db import session_scope
from api.users.models import LoginAttempt, User
from tests.accounts import PASSWORD

_addresses = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def new_address() -> str:
    """A source address no other test uses, so that the per-address throttle starts from nothing."""
    n = next(_addresses)
    return f"198.51.{n // 250}.{n % 250 + 1}"


def browser_at(app, address: str | None = None) -> TestClient:
    return TestClient(app, client=(address or new_address(), 50000))


def api_sign_in(client, username: str, password: str = PASSWORD):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


class Forms(HTMLParser):
    """Every <form>: its action and its inputs' values by name; and what CSP would refuse."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[dict] = []
        self.inline_scripts = 0
        self.style_elements = 0
        self.style_attributes: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "style" in attrs:
            self.style_attributes.append(tag)
        if tag == "script" and not attrs.get("src"):
            self.inline_scripts += 1
        if tag == "style":
            self.style_elements += 1
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "method": attrs.get("method"), "fields": {}})
        if tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""

    def form(self, action: str) -> dict:
        return next(f["fields"] for f in self.forms if f["action"] == action and f["method"] == "post")


def form_sign_in(client, username: str, password: str = PASSWORD, next_path: str = "/"):
    """Open /login, then send its form as a browser does (with the form's CSRF token)."""
    fields = Forms(client.get("/login").text).form("/login")
    return client.post(
        "/login", data={**fields, "username": username, "password": password, "next": next_path}, follow_redirects=False
    )


def move_back(seconds: float, *, username: str | None = None, source: str | None = None) -> None:
    """Let time pass for the throttle: the attempts of a username or from an address happened earlier."""
    with session_scope() as session:
        mine = or_(LoginAttempt.username == username, LoginAttempt.source == source)
        for attempt in session.exec(select(LoginAttempt).where(mine)):
            attempt.at -= timedelta(seconds=seconds)
            session.add(attempt)


def end_lock(username: str) -> None:
    """The account's lock lapses (its 10 minutes pass)."""
    with session_scope() as session:
        user = session.exec(select(User).where(User.username == username)).one()
        user.locked_until = datetime.now(UTC) - timedelta(seconds=1)
        session.add(user)


def paced_sign_in(client, username: str, address: str, password: str = PASSWORD):
    """A sign-in sent the way a patient person would: waiting out each Retry-After."""
    for _ in range(10):
        response = api_sign_in(client, username, password)
        if response.status_code != 429:
            return response
        move_back(int(response.headers["retry-after"]), username=username, source=address)
    raise AssertionError("still throttled after ten waits")


def fail_paced(client, username: str, address: str, password: str = "not the password 1"):
    return paced_sign_in(client, username, address, password)


def get_user(username: str) -> User:
    with session_scope() as session:
        return session.exec(select(User).where(User.username == username)).one()


def audit_events(action: str, **where) -> list[AuditEvent]:
    with session_scope() as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        for column, value in where.items():
            query = query.where(getattr(AuditEvent, column) == value)
        return list(session.exec(query))
