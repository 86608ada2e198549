"""Click and delivery keys already handled (table ``seen_keys``), shared by every process on the database.

``SeenKeys.first(key) -> bool`` is the whole contract: a Redis implementation with the same
method can stand in for it (wired in ``bot/runtime.py``).
"""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import delete

from .engine import Database
from .schema import seen_keys, utc_now


class SeenKeys:
    """Remembers request keys so a retried or doubled delivery is handled once, across processes.

    Slack retries within minutes and a response_url lives 30 minutes, so keys older than
    ``KEEP_DAYS`` are forgotten: at start-up and every ``PRUNE_EVERY`` new keys.
    """

    KEEP_DAYS = 2
    PRUNE_EVERY = 1000
    MAX_KEY = 512

    def __init__(self, db: Database) -> None:
        self._db = db
        self._added = 0
        self._count_lock = threading.Lock()
        self.forget_older_than(self.KEEP_DAYS)

    def first(self, key: str) -> bool:
        """True the first time ``key`` is offered, False every later time."""
        # RETURNING, not rowcount: an INSERT's rowcount is not reliable on every driver.
        stmt = self._db.insert_ignore(seen_keys).values(key=key[: self.MAX_KEY], at=utc_now()).returning(seen_keys.c.key)
        with self._db.begin() as conn:
            added = conn.execute(stmt).scalar() is not None
        if not added:
            return False
        with self._count_lock:
            self._added += 1
            prune = self._added % self.PRUNE_EVERY == 0
        if prune:
            self.forget_older_than(self.KEEP_DAYS)
        return True

    def forget_older_than(self, days: float = 2) -> int:
        cutoff = utc_now() - timedelta(days=days)
        with self._db.begin() as conn:
            return conn.execute(delete(seen_keys).where(seen_keys.c.at < cutoff)).rowcount
