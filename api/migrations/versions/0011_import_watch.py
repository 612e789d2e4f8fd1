"""The evidence-system export imports: manifest_imports (each manifest run, by the watched folder
or `bestpart import`: its path and SHA-256, unique together for a watched one, its counts and
status) and manifest_import_rows (what became of each row: accepted, duplicate, refused and why)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from api.core.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "manifest_imports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("manifest", sa.String(length=1000), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("watch_path", sa.String(length=1000), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("moved_to", sa.String(length=1000), nullable=True),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("claimed_by", sa.String(length=200), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("watch_path", "sha256", name="uq_manifest_imports_watch_path"),
    )
    op.create_index("ix_manifest_imports_status", "manifest_imports", ["status"])
    op.create_table(
        "manifest_import_rows",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("import_id", sa.Integer(), sa.ForeignKey("manifest_imports.id"), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(length=1000), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("clip_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.UniqueConstraint("import_id", "row_number", name="uq_manifest_import_rows_row"),
    )
    op.create_index("ix_manifest_import_rows_import_id", "manifest_import_rows", ["import_id"])


def downgrade() -> None:
    op.drop_table("manifest_import_rows")
    op.drop_table("manifest_imports")
