"""Click and delivery keys already handled, so a retried or doubled delivery is handled once.

``SeenKeys`` keeps them in the SQL table ``seen_keys`` (shared by every process on the
database). With ``REDIS_URL`` the runtime uses ``RedisSeenKeys`` instead — one ``SET NX`` with
an expiry per click, so keys forget themselves. When Redis fails, the SQL ``SeenKeys`` answers
(never "seen" by mistake: a click is not lost because Redis is down; writes are refused by the
lock anyway). ``first(key) -> bool`` is the whole contract.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Protocol

from sqlalchemy import delete

from .engine import Database
from .schema import seen_keys, utc_now
from .shared import RedisError, SharedRedis


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


KEEP_SECONDS = 2 * 24 * 3600
"""Slack retries within minutes and a response_url lives 30 minutes; two days is ample."""


class FirstSeen(Protocol):
    def first(self, key: str) -> bool: ...


class RedisSeenKeys:
    def __init__(self, shared: SharedRedis, fallback: FirstSeen | None = None, *, keep: int = KEEP_SECONDS) -> None:
        self.redis = shared
        self.fallback = fallback
        self.keep = keep

    def first(self, key: str) -> bool:
        """True the first time ``key`` is offered (by any process), False every later time."""
        if self.redis.available():
            try:
                return bool(self.redis.client.set(self.redis.key("seen", key[:512]), b"1", nx=True, ex=self.keep))
            except RedisError as exc:
                self.redis.failed("click de-duplication", exc)
        if self.fallback is not None:
            return self.fallback.first(key)
        return True
