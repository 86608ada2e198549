"""The one Redis connection the bot's processes share (``REDIS_URL``), and how it fails.

Everything several processes must agree on — the store cache and single-flight
(``store/cache.py``), write locks and the poller lease (``locks.py``), click keys (``seen.py``)
and the store request budget (``budget.py``) — goes through one ``SharedRedis``: a redis-py
client, the key prefix (``REDIS_KEY_PREFIX``) and a small circuit breaker.

Why a breaker: when Redis is unreachable every call would wait for its socket timeout, and a
lookup makes several cache calls. After a failure the bot skips Redis for ``COOLDOWN`` seconds
(cache reads are misses, writes fail closed at once) and logs the problem at most once a minute.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

COOLDOWN = 3.0
"""Seconds Redis is skipped after a failed call."""
LOG_EVERY = 60.0
"""At most one warning per this many seconds while Redis keeps failing."""
DEFAULT_PREFIX = "customer-bot:"

RedisError = redis.RedisError
"""What a failed Redis call raises (connection refused, timeout, auth, a script error)."""


class SharedRedis:
    """A redis-py client with the bot's key prefix and a circuit breaker."""

    def __init__(self, client: redis.Redis, prefix: str = DEFAULT_PREFIX, *,
                 clock: Any = time.monotonic) -> None:
        self.client = client
        self.prefix = prefix
        self._clock = clock
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._logged_at = -LOG_EVERY
        self._failures = 0

    def key(self, *parts: object) -> str:
        """``prefix`` + the parts joined by ``:``."""
        return self.prefix + ":".join(str(p) for p in parts)

    def available(self) -> bool:
        """False for a few seconds after a failed call (callers then skip Redis at once)."""
        return self._clock() >= self._down_until

    def failed(self, what: str, exc: BaseException) -> None:
        """Record a failed call: open the breaker, and log once in a while (never the URL)."""
        now = self._clock()
        with self._lock:
            self._down_until = now + COOLDOWN
            self._failures += 1
            due = now - self._logged_at >= LOG_EVERY
            if due:
                self._logged_at = now
                count, self._failures = self._failures, 0
        if due:
            log.warning("Redis unavailable (%s: %s, %d failure(s) since the last report): lookups go "
                        "straight to the store, writes are refused until it is back",
                        what, type(exc).__name__, count)

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except RedisError as exc:
            self.failed("ping", exc)
            return False

    def delete_prefixed(self) -> int:
        """Delete every key under this prefix (tests clean up with it)."""
        names = list(self.client.scan_iter(match=_glob_escape(self.prefix) + "*", count=500))
        for start in range(0, len(names), 500):
            self.client.delete(*names[start:start + 500])
        return len(names)

    def close(self) -> None:
        try:
            self.client.close()
        except RedisError:  # pragma: no cover - closing a broken connection
            pass


def connect_redis(url: str, *, prefix: str = DEFAULT_PREFIX, ssl_cert_reqs: str | None = None,
                  ssl_ca_certs: str | None = None, timeout: float = 2.0) -> SharedRedis:
    """A ``SharedRedis`` for ``url`` (``redis://``, ``rediss://`` for TLS, ``unix://``).

    ``ssl_cert_reqs`` (``required`` / ``optional`` / ``none``) and ``ssl_ca_certs`` apply to
    ``rediss://`` only. Heroku Redis presents a self-signed certificate: it needs ``none``
    (the connection is still encrypted, the server is just not authenticated).
    """
    options: dict[str, Any] = {
        "socket_timeout": timeout, "socket_connect_timeout": timeout,
        "health_check_interval": 30, "decode_responses": False,
        # one immediate retry on a dropped connection (a pooled socket gone stale after a Redis
        # restart), none on timeouts: an unreachable Redis must cost one timeout, not several
        "retry": Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
    }
    if url.startswith("rediss://"):
        if ssl_cert_reqs:
            options["ssl_cert_reqs"] = None if ssl_cert_reqs == "none" else ssl_cert_reqs
        if ssl_ca_certs:
            options["ssl_ca_certs"] = ssl_ca_certs
    return SharedRedis(redis.Redis.from_url(url, **options), prefix)


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)
