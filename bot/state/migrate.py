"""Alembic, run from code: every ``Database`` is brought to the newest revision when opened.

The migration scripts ship inside the package (``bot/state/migrations``), so a pip-installed
bot finds them; there is no ``alembic.ini``. Two processes starting at once do not migrate
twice: on PostgreSQL the upgrade holds an advisory lock, on SQLite the write lock
(``BEGIN IMMEDIATE``) for the whole upgrade, which runs in one transaction on both.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

if TYPE_CHECKING:
    from .engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"
LOCK_KEY = 0x0C05_70E7
"""The PostgreSQL advisory lock that serialises upgrades (any constant unique to this app)."""


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def current(db: Database) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` (nothing when already there)."""
    config = alembic_config()
    with db.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
