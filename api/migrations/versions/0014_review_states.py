"""Review states derived from the records: a nominate decision names its nomination
(decisions.nomination_id); review items whose state said "nominated" with no nomination go back to
the queue

Revision ID: 0014
Revises: 0013

Before this revision Nominate was a decision of its own and the nomination a second step the
reviewer could skip, which left clips "nominated" with no nomination. The state is now derived from
the decisions (api.review.service.derive_state) and a nominate decision is recorded only together
with its nomination; the rows the old flow left behind are put back in the queue here. Claims are
unchanged in the schema (claimed_by, claimed_by_name, claim_expires_at): they are now taken only on
an explicit action and renewed by the open page.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# The old flow's nominate decisions name the clip's latest nomination, where it has one.
BACKFILL_NOMINATIONS = """
UPDATE decisions SET nomination_id = (
    SELECT MAX(nomination_clips.nomination_id) FROM nomination_clips WHERE nomination_clips.clip_id = decisions.clip_id
) WHERE kind = 'nominated'
"""
REQUEUE_ORPHANS = """
UPDATE review_items SET state = 'queued', claimed_by = NULL, claimed_by_name = NULL, claim_expires_at = NULL
WHERE state = 'nominated' AND clip_id NOT IN (SELECT clip_id FROM nomination_clips)
"""


def upgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nomination_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_decisions_nomination_id", "nominations", ["nomination_id"], ["id"])
    op.execute(BACKFILL_NOMINATIONS)
    op.execute(REQUEUE_ORPHANS)


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_constraint("fk_decisions_nomination_id", type_="foreignkey")
        batch_op.drop_column("nomination_id")
