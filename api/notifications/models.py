from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from api.core.types import UTCDateTime, text_enum, utcnow


class NotificationKind(StrEnum):
    NEEDS_INFO = "needs-info"  # a reviewer asks the officer → the officer
    OFFICER_REPLY = "officer-reply"  # the officer answers → the reviewer who asked
    NOMINATION = "nomination"  # a new nomination → the committee
    AWARDED = "awarded"  # → the nominating reviewer and the officer
    DECLINED = "declined"  # → the nominating reviewer
    SELECTED_FOR_TRAINING = "selected-for-training"  # → the clip's officer
    EXPORT_READY = "export-ready"  # → the trainer who started it
    EXPORT_FAILED = "export-failed"
    RELEASE_NOTICE = "release-notice"  # a lesson will show the officer's footage → the officer
    RELEASE_OBJECTION = "release-objection"  # the officer objects → the admins, who decide
    RELEASE_DECIDED = "release-decided"  # → the officer and the course's trainer
    RETENTION_EXPIRING = "retention-expiring"  # a lesson's source nears its retention date → the trainer


class Notification(SQLModel, table=True):
    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    kind: NotificationKind = Field(sa_type=text_enum(NotificationKind))
    text: str = Field(max_length=500)
    link: str = Field(max_length=500)  # a path inside bestpart
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    mailed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
