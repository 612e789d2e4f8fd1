"""Peer nominations: any employee nominates a colleague (nominations.source, "review" for the review
team's nominations from the queue, "colleague" for one from the nomination form; nominations.
occurred_on, the day it happened, as the colleague says).

Revision ID: 0017
Revises: 0016

Every nomination before this revision came from the review team.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nominations") as batch_op:
        batch_op.add_column(
            sa.Column(
                "source",
                sa.Enum("review", "colleague", name="nominationsource", native_enum=False, length=30),
                nullable=False,
                server_default="review",
            )
        )
        batch_op.add_column(sa.Column("occurred_on", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_nominations_source"), ["source"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("nominations") as batch_op:
        batch_op.drop_index(batch_op.f("ix_nominations_source"))
        batch_op.drop_column("occurred_on")
        batch_op.drop_column("source")
