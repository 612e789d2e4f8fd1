from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from api.notifications.models import NotificationKind
from api.params import MAX_ID


class NotificationOut(BaseModel):
    id: int
    kind: NotificationKind
    text: str
    link: str
    created_at: datetime
    read_at: datetime | None


class MarkRead(BaseModel):
    """The notifications to mark read; all of the caller's when left out."""

    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(default=None, max_length=500)


class Unread(BaseModel):
    unread: int
