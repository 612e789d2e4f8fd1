"""Customer satisfaction: survey_imports (each file and what became of its rows),
survey_responses (linked to clips by incident number, so clips.incident_number is indexed)

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

from api.core.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_clips_incident_number", "clips", ["incident_number"])
    op.create_table(
        "survey_imports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("refusals", sa.JSON(), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("imported_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("survey_id", sa.String(length=100), nullable=False),
        sa.Column("incident_number", sa.String(length=200), nullable=False),
        sa.Column("responded_on", sa.Date(), nullable=False),
        sa.Column("division", sa.String(length=200), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("scale", sa.String(length=10), nullable=False),
        sa.Column("satisfaction", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("comment_shown", sa.Text(), nullable=True),
        sa.Column("badge_number", sa.String(length=50), nullable=True),
        sa.Column("import_id", sa.Integer(), sa.ForeignKey("survey_imports.id"), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_survey_responses_survey_id", "survey_responses", ["survey_id"], unique=True)
    op.create_index("ix_survey_responses_incident_number", "survey_responses", ["incident_number"])
    op.create_index("ix_survey_responses_responded_on", "survey_responses", ["responded_on"])
    op.create_index("ix_survey_responses_badge_number", "survey_responses", ["badge_number"])
    op.create_index("ix_survey_responses_import_id", "survey_responses", ["import_id"])


def downgrade() -> None:
    op.drop_table("survey_responses")
    op.drop_table("survey_imports")
    op.drop_index("ix_clips_incident_number", table_name="clips")
