"""indexes in the queue's own orders, so a page of it reads 50 rows instead of sorting them all

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_review_items_priority_order", "review_items", ["priority", "queued_at", "id"])
    op.create_index("ix_review_items_state_priority_order", "review_items", ["state", "priority", "queued_at", "id"])
    op.create_index("ix_review_items_state_queued_order", "review_items", ["state", "queued_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_review_items_state_queued_order", "review_items")
    op.drop_index("ix_review_items_state_priority_order", "review_items")
    op.drop_index("ix_review_items_priority_order", "review_items")
