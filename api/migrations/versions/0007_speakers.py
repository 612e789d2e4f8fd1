"""speaker_corrections and voiceprints: who spoke, as reviewers corrected it; officers' voices as
embeddings; search_docs.word_times, so a hit opens the clip at its word

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from api.core.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("search_docs", sa.Column("word_times", sa.JSON(), nullable=True))
    op.create_table(
        "speaker_corrections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("clip_id", sa.Integer(), sa.ForeignKey("clips.id", ondelete="CASCADE"), nullable=False),
        sa.Column("segment", sa.Integer(), nullable=False),
        sa.Column("segment_start", sa.Float(), nullable=False),
        sa.Column("speaker", sa.String(length=20), nullable=False),
        sa.Column("previous", sa.String(length=20), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_speaker_corrections_clip_id", "speaker_corrections", ["clip_id"])
    op.create_table(
        "voiceprints",
        sa.Column("badge_number", sa.String(length=50), primary_key=True),
        sa.Column("embedding", sa.JSON(), nullable=False),
        sa.Column("clips", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("voiceprints")
    op.drop_index("ix_speaker_corrections_clip_id", table_name="speaker_corrections")
    op.drop_table("speaker_corrections")
    op.drop_column("search_docs", "word_times")
