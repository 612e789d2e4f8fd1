"""clips, tags, stages, assets, rejected uploads

Revision ID: 0001
Revises:
Create Date: 2026-11-23 18:29:34.685935
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import api.clips.models

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("processing", "ready", "rejected", "failed", name="clipstatus", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("evidence_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("badge_number", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("recorded_at", api.clips.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("incident_number", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("division", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("media_info", sa.JSON(), nullable=True),
        sa.Column("created_at", api.clips.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ready_at", api.clips.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clips_badge_number"), ["badge_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_clips_evidence_id"), ["evidence_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_clips_sha256"), ["sha256"], unique=True)
        batch_op.create_index(batch_op.f("ix_clips_status"), ["status"], unique=False)

    op.create_table(
        "rejected_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("badge_number", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("submitted_from", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("created_at", api.clips.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clip_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("parent_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("tool", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("tool_version", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("created_at", api.clips.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["clip_id"], ["clips.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("clip_id", "kind"),
    )
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assets_clip_id"), ["clip_id"], unique=False)

    op.create_table(
        "clip_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clip_id", sa.Integer(), nullable=False),
        sa.Column("badge_number", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("evidence_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("markers", sa.JSON(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("submitted_from", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("created_at", api.clips.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["clip_id"], ["clips.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("clip_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clip_tags_clip_id"), ["clip_id"], unique=False)

    op.create_table(
        "stages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clip_id", sa.Integer(), nullable=False),
        sa.Column(
            "name",
            sa.Enum("probe", "thumbnails", "proxy", "transcript", name="stagename", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum("queued", "running", "done", "failed", name="stagestate", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("heartbeat_at", api.clips.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", api.clips.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", api.clips.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["clip_id"], ["clips.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("clip_id", "name"),
    )
    with op.batch_alter_table("stages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stages_clip_id"), ["clip_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stages_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stages_state"))
        batch_op.drop_index(batch_op.f("ix_stages_clip_id"))

    op.drop_table("stages")
    with op.batch_alter_table("clip_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clip_tags_clip_id"))

    op.drop_table("clip_tags")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assets_clip_id"))

    op.drop_table("assets")
    op.drop_table("rejected_uploads")
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clips_status"))
        batch_op.drop_index(batch_op.f("ix_clips_sha256"))
        batch_op.drop_index(batch_op.f("ix_clips_evidence_id"))
        batch_op.drop_index(batch_op.f("ix_clips_badge_number"))

    op.drop_table("clips")
