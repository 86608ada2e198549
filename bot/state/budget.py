"""One store request budget for every process: a token bucket in Redis, shaped like 3dcart's.

3dcart's leaky bucket holds 50 requests and drains at 2 per second *per store*, however many
processes ask. Each process pacing itself (``TokenBucket`` in ``store/pacing.py``) lets
``web`` + ``clock`` together overrun it; ``RedisTokenBucket`` keeps one bucket in Redis, updated
atomically by a Lua script on Redis's own clock (so hosts' clocks need not agree).

Same interface as ``TokenBucket``: ``acquire(deadline)`` takes one token, sleeping until it is
due, and raises ``RateLimited`` (giving the token back) when the wait would end past the
caller's deadline. When Redis fails, the process falls back to its own local bucket.
"""

from __future__ import annotations

import math
import time
from typing import Protocol

from ..store.pacing import paced_out
from .shared import RedisError, SharedRedis

_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, burst, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or burst
local stamp = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate) - 1
local wait = 0
if tokens < 0 then wait = -tokens / rate end
if wait > max_wait then return {0, tostring(wait)} end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 60000)
return {1, tostring(wait)}
"""


class Limiter(Protocol):
    rate: float
    burst: int

    def acquire(self, deadline: float = math.inf) -> float: ...


class RedisTokenBucket:
    def __init__(self, shared: SharedRedis, rate: float, burst: int, *, fallback: Limiter | None = None,
                 name: str = "store") -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.redis = shared
        self.rate = rate
        self.burst = burst
        self.fallback = fallback
        self.key = shared.key("budget", name)
        self._take = shared.client.register_script(_TAKE)

    def acquire(self, deadline: float = math.inf) -> float:
        """Take one token from the shared bucket, sleeping if needed; returns the seconds waited."""
        if self.redis.available():
            max_wait = max(0.0, deadline - time.monotonic()) if deadline != math.inf else 1e9
            try:
                ok, wait_text = self._take(keys=[self.key], args=[self.rate, self.burst, max_wait])
            except RedisError as exc:
                self.redis.failed("store request budget", exc)
            else:
                wait = float(wait_text)
                if not int(ok):
                    raise paced_out(self.rate, wait)
                if wait > 0:
                    time.sleep(wait)
                return wait
        if self.fallback is not None:
            return self.fallback.acquire(deadline)
        return 0.0
