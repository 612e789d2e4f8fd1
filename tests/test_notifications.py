"""The inbox: notifications reach exactly their recipients, are read and marked read through the
API, and are e-mailed through a real (local) SMTP server when one is set."""

import socket

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from api.config import get_settings
from api.db import session_scope
from api.notifications.mail import mail_notifications
from api.notifications.models import Notification, NotificationKind
from api.notifications.service import notify
from api.users.models import User
from tests.accounts import bearer, make_user


def _notify(user_ids, text="A question about clip 7", *, actor=None) -> list[int]:
    with session_scope() as session:
        rows = notify(session, user_ids, NotificationKind.NEEDS_INFO, text, "/clips/7", actor_user_id=actor)
        return [row.id for row in rows]


def _unread(client, token) -> int:
    response = client.get("/api/v1/notifications/unread", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()["unread"]


def test_inbox_lists_own_notifications_newest_first_and_marks_them_read(anonymous):
    me, token = make_user()
    other, other_token = make_user()
    _notify([me], "first")
    _notify([me], "second")
    [theirs] = _notify([other], "not yours")

    listing = anonymous.get("/api/v1/notifications", headers=bearer(token))
    assert [n["text"] for n in listing.json()] == ["second", "first"]
    assert listing.headers["X-Total-Count"] == "2"
    assert _unread(anonymous, token) == 2

    first_id = listing.json()[1]["id"]
    marked = anonymous.post("/api/v1/notifications/read", json={"ids": [first_id]}, headers=bearer(token))
    assert marked.json() == {"unread": 1}
    unread = anonymous.get("/api/v1/notifications?unread=true", headers=bearer(token)).json()
    assert [n["text"] for n in unread] == ["second"]

    refused = anonymous.post("/api/v1/notifications/read", json={"ids": [theirs]}, headers=bearer(token))
    assert refused.status_code == 404 and str(theirs) in refused.json()["detail"]
    assert _unread(anonymous, other_token) == 1  # untouched

    assert anonymous.post("/api/v1/notifications/read", json={}, headers=bearer(token)).json() == {"unread": 0}
    assert _unread(anonymous, other_token) == 1


def test_whoever_acted_is_not_told_of_their_own_act(anonymous):
    actor, actor_token = make_user()
    recipient, token = make_user()
    assert len(_notify([recipient, actor, recipient, None], actor=actor)) == 1
    assert _unread(anonymous, actor_token) == 0
    assert _unread(anonymous, token) == 1


def test_the_inbox_needs_a_signed_in_person(anonymous):
    assert anonymous.get("/api/v1/notifications").status_code == 401


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_sink(monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setattr(get_settings(), "smtp_url", f"smtp://127.0.0.1:{port}")
    monkeypatch.setattr(get_settings(), "public_url", "https://bestpart.example")
    yield sink
    controller.stop()


def test_notifications_are_mailed_once_to_accounts_with_an_address(smtp_sink):
    with_address, _ = make_user()
    without_address, _ = make_user()
    with session_scope() as session:
        user = session.get(User, with_address)
        user.email = "chen@example.org"
        session.add(user)
    ids = _notify([with_address, without_address], "Clip 7 was selected for training")

    assert mail_notifications(ids) == 1
    assert mail_notifications(ids) == 0  # never twice
    [envelope] = smtp_sink.messages
    assert envelope.rcpt_tos == ["chen@example.org"]
    body = envelope.content.decode()
    assert "Clip 7 was selected for training" in body and "https://bestpart.example/clips/7" in body
    with session_scope() as session:
        mailed = session.exec(select(Notification.user_id).where(Notification.mailed_at.is_not(None)))
        assert with_address in set(mailed) and without_address not in set(mailed)


def _texts(client) -> list[str]:
    return [n["text"] for n in client.get("/api/v1/notifications").json()]


def test_the_review_program_tells_each_person_what_concerns_them(app, fixtures, tmp_path):
    """needs-info → the officer; the reply → the reviewer; a nomination → the committee; the
    award → the nominating reviewer and the officer; a selection → the officer."""
    from tests.ui.test_other_pages import client_for, mark_ready, unique, upload_clip

    badge = unique("b")
    officer, reviewer = client_for(app, ["officer"], badge=badge), client_for(app, ["reviewer"])
    committee = [client_for(app, ["committee"]), client_for(app, ["committee"])]
    clip = upload_clip(officer, fixtures, tmp_path, badge)
    mark_ready(clip["id"])
    decide = f"/api/v1/review/{clip['id']}/decisions"

    reviewer.post(f"/api/v1/review/{clip['id']}/claim")
    asked = reviewer.post(decide, json={"kind": "needs_info", "reason": "Who called it in?"})
    assert asked.status_code == 201, asked.text
    assert _texts(officer) == [f"The review team asks about clip {clip['id']}: Who called it in?"]
    assert _texts(reviewer) == []  # not told of their own act

    assert officer.post(f"/api/v1/clips/{clip['id']}/replies", json={"text": "Dispatch did."}).status_code == 201
    assert _texts(reviewer) == [f"The officer answered your question about clip {clip['id']}: Dispatch did."]

    nomination = reviewer.post(
        "/api/v1/nominations",
        json={"officers": [badge], "clips": [{"clip_id": clip["id"], "moments": []}], "narrative": "Calm throughout."},
    ).json()
    for member in committee:
        assert _texts(member)[0] == f"New nomination for an Act of Excellence: {badge}"
    for member in committee:
        member.post(f"/api/v1/nominations/{nomination['id']}/votes", json={"approve": True})
    awarded = f"Act of Excellence awarded to {badge} (nomination {nomination['id']})"
    assert _texts(reviewer)[0] == awarded and _texts(officer)[0] == awarded

    reviewer.post(f"/api/v1/review/{clip['id']}/claim")
    assert reviewer.post(decide, json={"kind": "selected_for_training"}).status_code == 201
    assert _texts(officer)[0] == f"Clip {clip['id']} was selected for training"
    link = officer.get("/api/v1/notifications").json()[0]["link"]
    assert link == f"/clips/{clip['id']}" and officer.get(link).status_code == 200
