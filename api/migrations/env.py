"""Alembic runs against the engine the service uses (BESTPART_DATABASE_URL or SQLite in DATA_DIR)."""

from alembic import context
from sqlmodel import SQLModel

import api.models  # noqa: F401  every table on SQLModel.metadata
from api.db import LOCK_FIRST, get_engine

target_metadata = SQLModel.metadata


# The full-text index is made by migration 0003 in each database's own SQL, which SQLAlchemy cannot
# declare: SQLite's virtual table search_fts (and its shadow tables), PostgreSQL's generated column
# search_docs.tsv and its GIN index. Not in the metadata, and never to be dropped by autogenerate.
def include_object(obj, name, type_, reflected, compare_to) -> bool:
    undeclared = (
        reflected
        and compare_to is None
        and (
            (type_ == "table" and name.startswith("search_fts"))
            or (type_ == "column" and obj.table.name == "search_docs" and name == "tsv")
            or (type_ == "index" and name == "ix_search_docs_tsv")
        )
    )
    return not undeclared


def run_migrations_online() -> None:
    engine = get_engine()
    # Lock first: two processes upgrading one database must not both read the old version.
    with engine.connect().execution_options(**{LOCK_FIRST: True}) as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
