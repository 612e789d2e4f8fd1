"""Governed release: officer notice and objections, retention dates, lesson views

Revision ID: 0016
Revises: 0015

clips.retain_until (the evidence system's retention date: the model field belongs to the clips
slice), lesson_exports.burn_captions, lessons.state / published_* (a published lesson and the snapshot trainees watch),
lesson_items.withdrawn_* / expiry_warned_at (a source whose retention ended), release_renders (each
item's segment rendered through its approved redaction: shown to the featured officer, played to
trainees), release_notices (the featured officers' notice, consent, objection and the lead's
decision) and lesson_views (who watched which lesson when, and the ranges they played).
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from api.core.types import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=30)


def upgrade() -> None:
    with op.batch_alter_table("clips") as batch_op:
        batch_op.add_column(sa.Column("retain_until", sa.Date(), nullable=True))
        batch_op.create_index("ix_clips_retain_until", ["retain_until"], unique=False)
    with op.batch_alter_table("lessons") as batch_op:
        batch_op.add_column(
            sa.Column("state", _enum("draft", "published", name="lessonstate"), server_default="draft", nullable=False)
        )
        batch_op.add_column(sa.Column("published_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("published_by_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column("published_items", sa.JSON(), nullable=True))
    with op.batch_alter_table("lesson_exports") as batch_op:
        batch_op.add_column(sa.Column("burn_captions", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("lesson_items") as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("expiry_warned_at", UTCDateTime(timezone=True), nullable=True))

    op.create_table(
        "release_renders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("clip_id", sa.Integer(), nullable=False),
        sa.Column("redaction_version", sa.Integer(), nullable=False),
        sa.Column("state", _enum("queued", "running", "done", "failed", name="detectionstate"), nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("captions_path", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("provenance", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["clip_id"], ["clips.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["lesson_items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["lesson_id"], ["lessons.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "redaction_version", name="uq_release_render_version"),
    )
    op.create_index("ix_release_renders_clip_id", "release_renders", ["clip_id"])
    op.create_index("ix_release_renders_lesson_id", "release_renders", ["lesson_id"])

    op.create_table(
        "release_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("badge_number", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("officer_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("shown", sa.JSON(), nullable=False),
        sa.Column(
            "state",
            _enum("pending", "consented", "objected", "released", "withheld", name="noticestate"),
            nullable=False,
        ),
        sa.Column("notified_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("respond_by", UTCDateTime(timezone=True), nullable=False),
        sa.Column("responded_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("responded_by_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("objection", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("decision_note", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["lesson_id"], ["lessons.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("lesson_id", "badge_number", name="uq_release_notice_officer"),
    )
    op.create_index("ix_release_notices_badge_number", "release_notices", ["badge_number"])
    op.create_index("ix_release_notices_lesson_id", "release_notices", ["lesson_id"])

    op.create_table(
        "lesson_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("user_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ranges", sa.JSON(), nullable=False),
        sa.Column("watched_seconds", sa.Float(), nullable=False),
        sa.Column("lesson_seconds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["lesson_id"], ["lessons.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lesson_views_lesson_id", "lesson_views", ["lesson_id"])
    op.create_index("ix_lesson_views_user_id", "lesson_views", ["user_id"])


def downgrade() -> None:
    op.drop_table("lesson_views")
    op.drop_table("release_notices")
    op.drop_table("release_renders")
    with op.batch_alter_table("lesson_items") as batch_op:
        batch_op.drop_column("expiry_warned_at")
        batch_op.drop_column("withdrawn_reason")
        batch_op.drop_column("withdrawn_at")
    with op.batch_alter_table("lesson_exports") as batch_op:
        batch_op.drop_column("burn_captions")
    with op.batch_alter_table("lessons") as batch_op:
        batch_op.drop_column("published_items")
        batch_op.drop_column("published_by_name")
        batch_op.drop_column("published_at")
        batch_op.drop_column("state")
    with op.batch_alter_table("clips") as batch_op:
        batch_op.drop_index("ix_clips_retain_until")
        batch_op.drop_column("retain_until")
