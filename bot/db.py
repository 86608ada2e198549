"""The bot's local state: one SQLite file under ``DATA_DIR``.

SQLite because the state is small (audit rows, click keys, posted applicants), must survive
restarts and be shared by several processes on one host (gunicorn workers, the poller):
WAL mode and a busy timeout make concurrent writers wait instead of failing.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DB_FILE = "customer-bot.sqlite3"


class Database:
    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / DB_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        with self.connection() as conn:
            conn.execute("PRAGMA journal_mode=WAL")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA synchronous=NORMAL")
        with self._all_lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection (autocommit; use ``transaction`` for several statements)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        yield conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()


class SeenKeys:
    """Remembers request keys so a retried or doubled delivery is handled once, across processes.

    Slack retries within minutes and a response_url lives 30 minutes, so keys older than
    ``KEEP_DAYS`` are forgotten: at start-up and every ``PRUNE_EVERY`` new keys.
    """

    KEEP_DAYS = 2
    PRUNE_EVERY = 1000

    def __init__(self, db: Database) -> None:
        self._db = db
        self._added = 0
        self._count_lock = threading.Lock()
        with db.connection() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS seen_keys (key TEXT PRIMARY KEY, at TEXT NOT NULL DEFAULT (datetime('now')))"
            )
        self.forget_older_than(self.KEEP_DAYS)

    def first(self, key: str) -> bool:
        """True the first time ``key`` is offered, False every later time."""
        with self._db.connection() as conn:
            cur = conn.execute("INSERT OR IGNORE INTO seen_keys (key) VALUES (?)", (key[:512],))
        if cur.rowcount != 1:
            return False
        with self._count_lock:
            self._added += 1
            prune = self._added % self.PRUNE_EVERY == 0
        if prune:
            self.forget_older_than(self.KEEP_DAYS)
        return True

    def forget_older_than(self, days: int = 2) -> int:
        with self._db.connection() as conn:
            cur = conn.execute("DELETE FROM seen_keys WHERE at < datetime('now', ?)", (f"-{int(days)} days",))
            return cur.rowcount
