from datetime import datetime

from pydantic import BaseModel, Field

from api.notifications.models import NotificationKind


class NotificationOut(BaseModel):
    id: int
    kind: NotificationKind
    text: str
    link: str
    created_at: datetime
    read_at: datetime | None


class MarkRead(BaseModel):
    """The notifications to mark read; all of the caller's when left out."""

    ids: list[int] | None = Field(default=None, max_length=500)


class Unread(BaseModel):
    unread: int
