"""Bring the database schema up to date with Alembic (run by `bestpart migrate` and `serve`)."""

from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parent.parent


def alembic_config() -> Config:
    return Config(str(ROOT / "alembic.ini"))


def upgrade() -> None:
    command.upgrade(alembic_config(), "head")
