"""recognition on clips, the recognize stage, the search index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

Written by hand: the full-text part differs per database and Alembic cannot autogenerate it.
SQLite gets an FTS5 table over search_docs (external content, kept in step by triggers);
PostgreSQL a generated tsvector column with a GIN index.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# No stemming, on either database: both stemmers turn "AED" into "a", and FTS5 indexes every "a".
# A query word matches as a prefix instead ("compress" finds "compressions"); see api/search.
FTS5_TABLE = """
CREATE VIRTUAL TABLE search_fts USING fts5(
    body, content='search_docs', content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='3'
)"""
# External content: FTS5 keeps only the index; these keep it in step with search_docs.
FTS5_TRIGGERS = [
    """CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
        INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body);
    END""",
    """CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
        INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body);
    END""",
    """CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN
        INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body);
        INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body);
    END""",
]
# Words are runs of letters and digits, as on SQLite and in the service's query parser: left to
# itself PostgreSQL reads EV-2026-0042 as 'ev', '-2026', '-0042' and no query for 2026 finds it.
POSTGRES_TSV = [
    "ALTER TABLE search_docs ADD COLUMN tsv tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple', regexp_replace(body, '[^[:alnum:]]+', ' ', 'g'))) STORED",
    "CREATE INDEX ix_search_docs_tsv ON search_docs USING GIN (tsv)",
]
# Clips being processed get the new stage. One whose transcript is already done gets it as done:
# nothing would enqueue it, and the rescore job recognizes every ready clip without a rules digest.
ADD_RECOGNIZE_STAGES = """
INSERT INTO stages (clip_id, name, state, progress, attempts)
SELECT t.clip_id, 'recognize',
       CASE WHEN t.state = 'done' THEN 'done' ELSE 'queued' END,
       CASE WHEN t.state = 'done' THEN 1.0 ELSE 0.0 END, 0
FROM stages t JOIN clips c ON c.id = t.clip_id
WHERE t.name = 'transcript' AND c.status = 'processing'
"""


def upgrade() -> None:
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recognition", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("recognition_score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("rules_digest", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_clips_recognition_score", ["recognition_score"], unique=False)
        batch_op.create_index("ix_clips_recorded_at", ["recorded_at"], unique=False)
        batch_op.create_index("ix_clips_division", ["division"], unique=False)

    op.create_table(
        "search_docs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clip_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", sa.Float(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["clip_id"], ["clips.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_search_docs_clip_id", "search_docs", ["clip_id"], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(FTS5_TABLE)
        for trigger in FTS5_TRIGGERS:
            op.execute(trigger)
    elif dialect == "postgresql":
        for statement in POSTGRES_TSV:
            op.execute(statement)
    op.execute(ADD_RECOGNIZE_STAGES)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("search_docs_ai", "search_docs_ad", "search_docs_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_index("ix_search_docs_clip_id", table_name="search_docs")
    op.drop_table("search_docs")
    op.execute("DELETE FROM stages WHERE name = 'recognize'")
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.drop_index("ix_clips_division")
        batch_op.drop_index("ix_clips_recorded_at")
        batch_op.drop_index("ix_clips_recognition_score")
        batch_op.drop_column("rules_digest")
        batch_op.drop_column("recognition_score")
        batch_op.drop_column("recognition")
