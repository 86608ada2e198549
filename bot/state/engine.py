"""One SQLAlchemy engine for the bot's tables: SQLite in ``DATA_DIR`` or PostgreSQL (``DATABASE_URL``).

Every user of the state goes through :class:`Database`: ``db.begin()`` for a transaction (one
or several statements, committed at the end of the ``with`` block), ``db.dialect`` when a
statement must differ (``insert_ignore``). Opening a ``Database`` applies the Alembic
migrations, so the tables are always those of the running code.

SQLite: WAL mode, a busy timeout, and every transaction starts with ``BEGIN IMMEDIATE`` so two
processes on one file queue for the write lock instead of failing half-way ("database is
locked" on upgrading a read lock). PostgreSQL: psycopg 3, READ COMMITTED, pooled connections
checked before use (``pool_pre_ping``) so a restarted server costs one retry, not an error.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DB_FILE = "customer-bot.sqlite3"
"""The SQLite file under ``DATA_DIR`` (the same name the first version of the bot used)."""

BUSY_SECONDS = 30.0
"""How long a SQLite writer waits for another process's write lock before giving up."""


class BadDatabaseUrl(ValueError):
    """``DATABASE_URL`` is not a PostgreSQL or SQLite URL. The message never contains the URL."""


def database_url(url: str | None, data_dir: Path | str | None) -> str:
    """The SQLAlchemy URL for a ``DATABASE_URL`` as hosts hand it out, or the SQLite file.

    ``postgres://`` (Heroku) and ``postgresql://`` both mean PostgreSQL through psycopg 3
    (``postgresql+psycopg://``); ``sqlite:///path`` is taken as it is.
    """
    if not url:
        if data_dir is None:
            raise BadDatabaseUrl("no DATA_DIR and no DATABASE_URL")
        return f"sqlite:///{Path(data_dir) / DB_FILE}"
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise BadDatabaseUrl("DATABASE_URL must look like postgresql://user:password@host:5432/dbname")
    scheme = scheme.lower()
    if scheme in ("postgres", "postgresql", "postgresql+psycopg"):
        url = f"postgresql+psycopg://{rest}"
    elif scheme != "sqlite":
        raise BadDatabaseUrl("DATABASE_URL must start with postgres:// or postgresql:// (or sqlite:///)")
    try:
        make_url(url).port  # noqa: B018 — parses the port too
    except (ArgumentError, ValueError):
        raise BadDatabaseUrl("DATABASE_URL is not a valid database URL") from None
    return url


class Database:
    """The bot's SQL state. ``Database(data_dir)`` is the SQLite default; ``url=`` any engine.

    ``migrate=False`` opens without touching the schema (``python -m bot db`` and tests of the
    migrations themselves).
    """

    def __init__(self, data_dir: Path | str | None = None, *, url: str | None = None,
                 busy_seconds: float = BUSY_SECONDS, migrate: bool = True) -> None:
        self.url = database_url(url, data_dir)
        parsed = make_url(self.url)
        self.path: Path | None = None
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                self.path = Path(parsed.database)
                self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path is not None:
                _use_wal(self.path, busy_seconds)
            self.engine = _sqlite_engine(self.url, busy_seconds)
        else:
            self.engine = create_engine(self.url, pool_pre_ping=True, pool_size=5, max_overflow=20,
                                        pool_timeout=busy_seconds, connect_args={"connect_timeout": 10})
        self._closed = False
        self._lock = threading.Lock()
        if migrate:
            from .migrate import upgrade
            upgrade(self)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection in a transaction: committed when the block ends, rolled back on error."""
        with self.engine.begin() as conn:
            yield conn

    def insert_ignore(self, table: Table) -> Any:
        """``INSERT … ON CONFLICT DO NOTHING`` for this engine (a unique key already there = no row)."""
        return (sqlite.insert(table) if self.dialect == "sqlite" else postgresql.insert(table)).on_conflict_do_nothing()

    def upsert(self, table: Table, key: str, values: dict[str, Any]) -> Any:
        """``INSERT … ON CONFLICT (key) DO UPDATE`` with ``values``."""
        insert = sqlite.insert(table) if self.dialect == "sqlite" else postgresql.insert(table)
        stmt = insert.values(**values)
        return stmt.on_conflict_do_update(index_elements=[key],
                                          set_={k: stmt.excluded[k] for k in values if k != key})

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self.engine.dispose()

    def __repr__(self) -> str:  # never the password
        return f"Database({make_url(self.url).render_as_string(hide_password=True)!r})"


def _use_wal(path: Path, busy_seconds: float) -> None:
    """Put the file in WAL mode (it stays so). Switching the mode needs the file to itself and
    SQLite does not wait for that (no busy handler), so processes opening a new file at once retry."""
    deadline = time.monotonic() + busy_seconds
    while True:
        conn = sqlite3.connect(path, timeout=busy_seconds, isolation_level=None)
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        finally:
            conn.close()


def _sqlite_engine(url: str, busy_seconds: float) -> Engine:
    engine = create_engine(
        url, pool_size=5, max_overflow=40, pool_timeout=busy_seconds,
        connect_args={"timeout": busy_seconds, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see "begin" below).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
