"""Alembic runs against the engine the service uses (BESTPART_DATABASE_URL or SQLite in DATA_DIR)."""

from alembic import context
from sqlmodel import SQLModel

import api.models  # noqa: F401  every table on SQLModel.metadata
from api.db import LOCK_FIRST, get_engine

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = get_engine()
    # Lock first: two processes upgrading one database must not both read the old version.
    with engine.connect().execution_options(**{LOCK_FIRST: True}) as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
