"""clip_categories: one row per (clip, category), kept in step with clip_tags by triggers

Revision ID: 0006
Revises: 0005

A category filter (the review queue, search) was a LIKE over every tag's JSON: a scan of all tags,
13 ms at 10,000 clips and twice a page. This table answers it from an index. Triggers keep it,
so every writer of clip_tags (the services, the benchmarks' bulk inserts) fills it alike.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = [
    """CREATE TRIGGER clip_tags_categories_ai AFTER INSERT ON clip_tags BEGIN
        INSERT OR IGNORE INTO clip_categories (clip_id, category)
        SELECT new.clip_id, value FROM json_each(new.categories);
    END""",
    """CREATE TRIGGER clip_tags_categories_au AFTER UPDATE OF categories ON clip_tags BEGIN
        INSERT OR IGNORE INTO clip_categories (clip_id, category)
        SELECT new.clip_id, value FROM json_each(new.categories);
    END""",
]
POSTGRES_FUNCTION = """
CREATE FUNCTION clip_tags_categories() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO clip_categories (clip_id, category)
  SELECT NEW.clip_id, value FROM json_array_elements_text(NEW.categories::json) AS value
  ON CONFLICT DO NOTHING;
  RETURN NEW;
END $$"""
BACKFILL = {
    "sqlite": """INSERT OR IGNORE INTO clip_categories (clip_id, category)
                 SELECT clip_tags.clip_id, value FROM clip_tags, json_each(clip_tags.categories)""",
    "postgresql": """INSERT INTO clip_categories (clip_id, category)
                     SELECT clip_id, value FROM clip_tags, json_array_elements_text(categories::json) AS value
                     ON CONFLICT DO NOTHING""",
}


def upgrade() -> None:
    op.create_table(
        "clip_categories",
        sa.Column("clip_id", sa.Integer(), sa.ForeignKey("clips.id", ondelete="CASCADE"), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("clip_id", "category"),
    )
    op.create_index("ix_clip_categories_category", "clip_categories", ["category", "clip_id"])
    dialect = op.get_bind().dialect.name
    op.execute(BACKFILL[dialect])
    if dialect == "sqlite":
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
    else:
        op.execute(POSTGRES_FUNCTION)
        op.execute("""CREATE TRIGGER clip_tags_categories AFTER INSERT OR UPDATE OF categories ON clip_tags
                      FOR EACH ROW EXECUTE FUNCTION clip_tags_categories()""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS clip_tags_categories_ai")
        op.execute("DROP TRIGGER IF EXISTS clip_tags_categories_au")
    else:
        op.execute("DROP TRIGGER IF EXISTS clip_tags_categories ON clip_tags")
        op.execute("DROP FUNCTION IF EXISTS clip_tags_categories()")
    op.drop_index("ix_clip_categories_category", "clip_categories")
    op.drop_table("clip_categories")
