"""The search index: one row per searchable passage of a clip.

A clip has one `metadata` document (evidence and incident ids, badge, officer name, division,
categories, notes), one `marker` document per tagged moment, and one `transcript` document per
passage of speech, each with `at`, the second in the clip to jump to.

The full-text part is per database and lives only in the migration (0003): on SQLite an FTS5
table `search_fts` kept in step with this table by triggers; on PostgreSQL a generated `tsv`
column with a GIN index. Neither is declared here, because SQLModel cannot express them.
"""

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel


class SearchDoc(SQLModel, table=True):
    __tablename__ = "search_docs"

    id: int | None = Field(default=None, primary_key=True)
    clip_id: int = Field(foreign_key="clips.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)  # metadata, marker, transcript
    at: float | None = None  # seconds into the clip; None for the metadata document
    body: str = Field(sa_type=sa.Text)
    # A transcript passage's body is its words joined by single spaces; word_times[n] is when the
    # n-th word starts, so a hit opens the clip at the matched word, not the passage's start.
    word_times: list[float] | None = Field(default=None, sa_column=Column(JSON))
