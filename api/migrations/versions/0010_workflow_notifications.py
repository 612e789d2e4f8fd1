"""Committee votes: committee_votes (one vote or recusal per member and nomination); the quorum and
majority a decision was reached under; the category of a nomination and of its awards

Revision ID: 0010
Revises: 0009

A nomination's category is backfilled as the category its clips' tags name most (ties: the first
by name), the rule api.awards.service applies to new nominations; its awards take it. Nominations
decided before votes existed keep quorum NULL: one member's decision.
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import api.core.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BACKFILL_NOMINATIONS = """
UPDATE nominations SET category = (
    SELECT clip_categories.category FROM clip_categories
    JOIN nomination_clips ON nomination_clips.clip_id = clip_categories.clip_id
    WHERE nomination_clips.nomination_id = nominations.id
    GROUP BY clip_categories.category
    ORDER BY COUNT(*) DESC, clip_categories.category
    LIMIT 1
)"""
BACKFILL_AWARDS = """
UPDATE awards SET category = (SELECT nominations.category FROM nominations WHERE nominations.id = awards.nomination_id)
"""


def upgrade() -> None:
    op.create_table(
        "committee_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("voter_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column(
            "choice",
            sa.Enum("approve", "decline", "recuse", name="votechoice", native_enum=False, length=30),
            nullable=False,
        ),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("award_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("awarded_on", sa.Date(), nullable=True),
        sa.Column("cast_at", api.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["nomination_id"], ["nominations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("nomination_id", "user_id", name="uq_committee_votes_member"),
    )
    with op.batch_alter_table("committee_votes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_committee_votes_nomination_id"), ["nomination_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_committee_votes_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("nominations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column("quorum", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("majority", sa.Float(), nullable=True))
    with op.batch_alter_table("awards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.create_index(batch_op.f("ix_awards_category"), ["category"], unique=False)

    op.execute(BACKFILL_NOMINATIONS)
    op.execute(BACKFILL_AWARDS)


def downgrade() -> None:
    with op.batch_alter_table("awards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_awards_category"))
        batch_op.drop_column("category")
    with op.batch_alter_table("nominations", schema=None) as batch_op:
        batch_op.drop_column("majority")
        batch_op.drop_column("quorum")
        batch_op.drop_column("category")
    with op.batch_alter_table("committee_votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_committee_votes_user_id"))
        batch_op.drop_index(batch_op.f("ix_committee_votes_nomination_id"))
    op.drop_table("committee_votes")
