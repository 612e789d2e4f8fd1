"""Redaction of lesson items (tracks, bleeps, approval) and the governed release (notice, objections, retention, revoked exports)

Revision ID: 0009
Revises: 0008

redactions (one per lesson item: status, version, approver, what the detection ran on),
redaction_tracks (detected faces and drawn regions, keep or blur), redaction_words (spoken PII and
words a reviewer chose, each toggleable), lesson_export_items (what each export holds) and
lesson_exports.revoked_at / revoked_reason (a revoked export's download answers 410).
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from api.core.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=30)


def upgrade() -> None:
    with op.batch_alter_table("lesson_exports") as batch_op:
        batch_op.add_column(sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("revoked_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_table(
        "lesson_export_items",
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("clip_id", sa.Integer(), nullable=False),
        sa.Column("redaction_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["export_id"], ["lesson_exports.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["clip_id"], ["clips.id"]),
        sa.PrimaryKeyConstraint("export_id", "item_id"),
    )
    op.create_index("ix_lesson_export_items_clip_id", "lesson_export_items", ["clip_id"])
    op.create_table(
        "redactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("status", _enum("draft", "approved", name="redactionstatus"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("detection", _enum("queued", "running", "done", "failed", name="detectionstate"), nullable=False),
        sa.Column("detection_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("detected_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("in_point", sa.Float(), nullable=True),
        sa.Column("out_point", sa.Float(), nullable=True),
        sa.Column("proxy_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("detector", sa.JSON(), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=True),
        sa.Column("frame_rate", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("editors", sa.JSON(), nullable=False),
        sa.Column("edits", sa.JSON(), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_by_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("approved_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("approved_version", sa.Integer(), nullable=True),
        sa.Column("preview_state", _enum("queued", "running", "done", "failed", name="detectionstate"), nullable=True),
        sa.Column("preview_path", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("preview_start", sa.Float(), nullable=True),
        sa.Column("preview_end", sa.Float(), nullable=True),
        sa.Column("preview_version", sa.Integer(), nullable=True),
        sa.Column("preview_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["lesson_items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["approved_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id"),
    )
    op.create_table(
        "redaction_tracks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("redaction_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("detected", "manual", name="trackkind"), nullable=False),
        sa.Column("track_no", sa.Integer(), nullable=True),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("action", _enum("blur", "keep", name="trackaction"), nullable=False),
        sa.Column("keep_reason", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("keep_note", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("keyframes", sa.JSON(), nullable=False),
        sa.Column("first_time", sa.Float(), nullable=True),
        sa.Column("last_time", sa.Float(), nullable=True),
        sa.Column("first_detected_frame", sa.Integer(), nullable=True),
        sa.Column("last_detected_frame", sa.Integer(), nullable=True),
        sa.Column("detections", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["redaction_id"], ["redactions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_redaction_tracks_redaction_id", "redaction_tracks", ["redaction_id"])
    op.create_table(
        "redaction_words",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("redaction_id", sa.Integer(), nullable=False),
        sa.Column("origin", _enum("detected", "reviewer", name="wordorigin"), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("segment", sa.Integer(), nullable=False),
        sa.Column("first_word", sa.Integer(), nullable=False),
        sa.Column("last_word", sa.Integer(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("speaker", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("bleep", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["redaction_id"], ["redactions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_redaction_words_redaction_id", "redaction_words", ["redaction_id"])


def downgrade() -> None:
    op.drop_index("ix_redaction_words_redaction_id", table_name="redaction_words")
    op.drop_table("redaction_words")
    op.drop_index("ix_redaction_tracks_redaction_id", table_name="redaction_tracks")
    op.drop_table("redaction_tracks")
    op.drop_table("redactions")
    op.drop_index("ix_lesson_export_items_clip_id", table_name="lesson_export_items")
    op.drop_table("lesson_export_items")
    with op.batch_alter_table("lesson_exports") as batch_op:
        batch_op.drop_column("revoked_reason")
        batch_op.drop_column("revoked_at")
