"""People: the officer directory holds civilian employees too (officers.kind, sworn or civilian;
officers.unit, a civilian's unit in place of a division). Accounts are linked to the directory by
the badge they carry (users.badge_number = officers.badge_number): no column of their own, so the
link cannot drift from the badge.

Revision ID: 0015
Revises: 0014

Every entry before this revision is a sworn officer.
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("officers") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default="sworn")
        )
        batch_op.add_column(sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_officers_unit"), ["unit"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("officers") as batch_op:
        batch_op.drop_index(batch_op.f("ix_officers_unit"))
        batch_op.drop_column("unit")
        batch_op.drop_column("kind")
