"""The dashboard's figures as snapshots: stats_snapshots, one row a kind of figures (dashboard,
queue_ages, equity, csat), refreshed by the worker (workers/stats.py) and read by the pages

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

from api.core.types import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stats_snapshots",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("computed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stats_snapshots")
