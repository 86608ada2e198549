"""Click de-duplication in Redis: the same key offered by any process counts once.

``SeenKeys.first(key)`` in ``bot/db.py`` keeps keys in the SQL database; with ``REDIS_URL`` the
runtime uses ``RedisSeenKeys`` instead — one ``SET NX`` with an expiry per click, so keys
forget themselves. When Redis fails, the SQL ``SeenKeys`` answers (never "seen" by mistake:
a click is not lost because Redis is down; writes are refused by the lock anyway).
"""

from __future__ import annotations

from typing import Protocol

from .shared import RedisError, SharedRedis

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
