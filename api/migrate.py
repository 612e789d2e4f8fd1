"""Bring the database schema up to date with Alembic (run by `bestpart migrate` and `serve`).

The migrations ship inside the package (api/migrations), so an installed bestpart migrates as a
checkout does; alembic.ini at the top of a checkout points the `alembic` command at the same place.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade() -> None:
    command.upgrade(alembic_config(), "head")
