"""Sign-in that strangers cannot turn against users: users.locked_until (a lock lapses after 10
minutes), login_attempts by source (the per-address throttle), password_resets (one-time codes an
admin issues, kept hashed), api_tokens.expires_at, server_keys (the sign-in form's CSRF key)

Revision ID: 0008
Revises: 0007

A lock placed before this revision had no end; it is taken as lapsed (locked_until stays NULL).
"""

import sqlalchemy as sa
from alembic import op

from api.core.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("locked_until", UTCDateTime(timezone=True), nullable=True))
    op.add_column("api_tokens", sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True))
    op.create_index("ix_login_attempts_source", "login_attempts", ["source"])
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_password_resets_user_id", "password_resets", ["user_id"])
    op.create_index("ix_password_resets_code_hash", "password_resets", ["code_hash"], unique=True)
    op.create_table(
        "server_keys",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("server_keys")
    op.drop_index("ix_password_resets_code_hash", table_name="password_resets")
    op.drop_index("ix_password_resets_user_id", table_name="password_resets")
    op.drop_table("password_resets")
    op.drop_index("ix_login_attempts_source", table_name="login_attempts")
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("locked_until")
