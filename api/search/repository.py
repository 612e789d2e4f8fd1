"""The full-text query, one class per database; the service picks by the session's dialect.

Both answer one question, so the service never sees SQL: which clips match every term, best first
(a clip is as relevant as its best document). Snippets are made by the service from the few
documents shown: asking FTS5 for snippet() of given rows costs a MATCH per row, 25 ms for a page.

A word that occurs everywhere ("okay") matches a large part of the index, and ranking every match
costs about a microsecond each (bm25 or ts_rank). So the ranking looks at the RANKED_CAP most
recently indexed matching documents (after the filters): all of them for any specific query, and
a recent sample for a word everyone says.
"""

from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from api.clips.models import Clip
from api.search.models import SearchDoc

RANKED_CAP = 5000
DOCS = SearchDoc.metadata.tables["search_docs"]  # the Table SearchDoc maps (its __table__)


class Term(NamedTuple):
    """One word or phrase of a query; every term must match. Words are letters and digits only,
    so no term can carry query syntax into FTS5 or to_tsquery."""

    tokens: tuple[str, ...]
    prefix: bool = False  # the last token may be the start of a longer word


Terms = list[Term]


class SqliteIndex:
    """FTS5 over search_docs (external content; see migration 0003)."""

    fts = sa.table("search_fts", sa.column("rowid"), sa.column("rank"))  # rank: bm25, lower is better

    def _match(self, terms: Terms):
        expression = " ".join('"' + " ".join(t.tokens) + '"' + ("*" if t.prefix else "") for t in terms)
        return sa.text("search_fts MATCH :match").bindparams(match=expression)

    def matching_clips(self, terms: Terms, kinds: tuple[str, ...]):
        """SELECT clip_id of the documents of these kinds that match every term (for an IN)."""
        return (
            select(DOCS.c.clip_id)
            .select_from(self.fts.join(DOCS, DOCS.c.id == self.fts.c.rowid))
            .where(self._match(terms), DOCS.c.kind.in_(kinds))
        )

    def best_clips(
        self, session: Session, terms: Terms, conditions: list[ColumnElement], limit: int, offset: int
    ) -> list[tuple[int, float]]:
        # Newest first is FTS5's own order (no sort); bm25 is computed only for the rows kept.
        newest = (
            select(DOCS.c.clip_id, self.fts.c.rank.label("rank"))
            .select_from(self.fts.join(DOCS, DOCS.c.id == self.fts.c.rowid))
            .where(self._match(terms))
        )
        if conditions:
            newest = newest.join(Clip, col(Clip.id) == DOCS.c.clip_id).where(*conditions)
        kept = newest.order_by(self.fts.c.rowid.desc()).limit(RANKED_CAP).subquery()
        best = func.min(kept.c.rank).label("best")
        query = (
            select(kept.c.clip_id, best)
            .group_by(kept.c.clip_id)
            .order_by(best, kept.c.clip_id)
            .limit(limit)
            .offset(offset)
        )
        return [(clip_id, -score) for clip_id, score in session.execute(query)]


class PostgresIndex:
    """A generated tsvector column with a GIN index (see migration 0003)."""

    tsv: sa.ColumnClause[Any] = sa.literal_column("search_docs.tsv")  # a tsvector: no Python type
    config: sa.ColumnClause[str] = sa.literal_column("'simple'")  # unstemmed, like the column (see migration 0003)

    def _query(self, terms: Terms):
        expression = " & ".join("(" + " <-> ".join(t.tokens) + (":*" if t.prefix else "") + ")" for t in terms)
        return func.to_tsquery(self.config, sa.bindparam("match", expression))

    def matching_clips(self, terms: Terms, kinds: tuple[str, ...]):
        return select(DOCS.c.clip_id).where(self.tsv.op("@@")(self._query(terms)), DOCS.c.kind.in_(kinds))

    def best_clips(
        self, session: Session, terms: Terms, conditions: list[ColumnElement], limit: int, offset: int
    ) -> list[tuple[int, float]]:
        query = self._query(terms)
        newest = select(DOCS.c.clip_id, DOCS.c.id, self.tsv.label("tsv")).where(self.tsv.op("@@")(query))
        if conditions:
            newest = newest.join(Clip, col(Clip.id) == DOCS.c.clip_id).where(*conditions)
        kept = newest.order_by(DOCS.c.id.desc()).limit(RANKED_CAP).subquery()
        best = func.max(func.ts_rank(kept.c.tsv, query)).label("best")
        statement = (
            select(kept.c.clip_id, best)
            .group_by(kept.c.clip_id)
            .order_by(best.desc(), kept.c.clip_id)
            .limit(limit)
            .offset(offset)
        )
        return [(clip_id, float(score)) for clip_id, score in session.execute(statement)]


def index_for(session: Session) -> SqliteIndex | PostgresIndex:
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return SqliteIndex()
    if dialect == "postgresql":
        return PostgresIndex()
    raise NotImplementedError(f"search needs SQLite or PostgreSQL, not {dialect}")
