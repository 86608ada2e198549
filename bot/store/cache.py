"""Caches for ``CustomerService``: in this process (the default) or shared in Redis (``REDIS_URL``).

A ``Cache`` offers named *spaces* (bounded TTL maps), a *generation* counter and *single-flight*:

* ``space(name, ttl=…, maxsize=…)`` — ``get`` / ``put`` / ``pop`` / ``clear``. A ``put`` given the
  generation its read started in is dropped when the generation has moved on since (a write
  happened meanwhile, so the answer may be stale).
* ``bump()`` — a write happened: every read that started before it stops counting.
* ``flight(key, load)`` — concurrent identical misses run ``load`` once. ``load`` must look in
  the cache again before asking the store: that is how waiters get the leader's answer.

``LocalCache`` is today's in-process behaviour (``cachetools.TTLCache``). ``RedisCache`` keeps
the same data in Redis, as JSON (never pickle: a value read back can only become a model), so
every process sees one cache and every invalidation; its single-flight takes a short Redis lock
per key, and waiters in other processes poll until the holder has filled the cache. Any Redis
error is a cache miss (the lookup goes to the store) and is logged once in a while, never per
request. Redis entries expire by TTL; ``maxsize`` bounds only the in-process cache.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
import json
import threading
import time
import uuid
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

from cachetools import TTLCache

from ..state.shared import RedisError, SharedRedis
from .models import Customer, CustomerGroup, SearchAnswer

T = TypeVar("T")


class CacheSpace(Protocol):
    name: str

    def get(self, key: Hashable, default: Any = None) -> Any: ...
    def put(self, key: Hashable, value: Any, *, generation: int | None = None) -> None: ...
    def pop(self, key: Hashable) -> Any: ...
    def clear(self) -> None: ...
    def __len__(self) -> int: ...


class Cache(Protocol):
    def space(self, name: str, *, ttl: float, maxsize: int) -> CacheSpace: ...
    def generation(self) -> int: ...
    def bump(self) -> int: ...
    def flight(self, key: Hashable, load: Callable[[], T]) -> T: ...
    def in_flight(self) -> int: ...


# ---------------------------------------------------------------------- in this process


class SingleFlight:
    """Run at most one call per key at a time; concurrent callers share its outcome."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[Hashable, Future] = {}

    def do(self, key: Hashable, fn: Callable[[], T]) -> T:
        with self._lock:
            future = self._calls.get(key)
            leader = future is None
            if leader:
                future = self._calls[key] = Future()
        if not leader:
            return future.result()  # type: ignore[union-attr]
        try:
            value = fn()
        except BaseException as exc:
            future.set_exception(exc)  # type: ignore[union-attr]
            raise
        else:
            future.set_result(value)  # type: ignore[union-attr]
            return value
        finally:
            with self._lock:
                self._calls.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._calls)


class LocalSpace:
    """A bounded TTL cache, or one that keeps nothing when ``ttl <= 0`` (caching disabled).

    Not locked itself: ``CustomerService`` holds its lock around every use.
    """

    def __init__(self, owner: LocalCache, name: str, maxsize: int, ttl: float, timer: Callable[[], float]) -> None:
        self.name = name
        self._owner = owner
        self._data: TTLCache | None = TTLCache(maxsize=max(1, maxsize), ttl=ttl, timer=timer) if ttl > 0 else None

    def get(self, key: Hashable, default: Any = None) -> Any:
        return default if self._data is None else self._data.get(key, default)

    def put(self, key: Hashable, value: Any, *, generation: int | None = None) -> None:
        if self._data is not None and (generation is None or generation == self._owner.generation()):
            self._data[key] = value

    def pop(self, key: Hashable) -> Any:
        return None if self._data is None else self._data.pop(key, None)

    def clear(self) -> None:
        if self._data is not None:
            self._data.clear()

    def __len__(self) -> int:
        if self._data is None:
            return 0
        self._data.expire()
        return len(self._data)


class LocalCache:
    """Today's behaviour: everything in this process."""

    def __init__(self, *, timer: Callable[[], float] = time.monotonic) -> None:
        self._timer = timer
        self._generation = 0
        self._lock = threading.Lock()
        self._flights = SingleFlight()

    def space(self, name: str, *, ttl: float, maxsize: int) -> LocalSpace:
        return LocalSpace(self, name, maxsize, ttl, self._timer)

    def generation(self) -> int:
        return self._generation

    def bump(self) -> int:
        with self._lock:
            self._generation += 1
            return self._generation

    def flight(self, key: Hashable, load: Callable[[], T]) -> T:
        return self._flights.do(key, load)

    def in_flight(self) -> int:
        return len(self._flights)


# ---------------------------------------------------------------------- shared in Redis

# A space's keys carry its epoch (``…:cache:<space>:<epoch>:<key>``): ``clear`` bumps the epoch,
# and the old keys simply expire. Scripts keep epoch lookup and read/write in one round trip.
_GET = """
local epoch = redis.call('GET', KEYS[1]) or '0'
return redis.call('GET', ARGV[1] .. epoch .. ':' .. ARGV[2])
"""
_PUT = """
if ARGV[5] ~= '' and (redis.call('GET', KEYS[2]) or '0') ~= ARGV[5] then return 0 end
local epoch = redis.call('GET', KEYS[1]) or '0'
redis.call('SET', ARGV[1] .. epoch .. ':' .. ARGV[2], ARGV[3], 'PX', ARGV[4])
return 1
"""
_POP = """
local epoch = redis.call('GET', KEYS[1]) or '0'
local name = ARGV[1] .. epoch .. ':' .. ARGV[2]
local value = redis.call('GET', name)
redis.call('DEL', name)
return value
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisSpace:
    def __init__(self, owner: RedisCache, name: str, ttl: float) -> None:
        self.name = name
        self._owner = owner
        self._redis = owner.redis
        self._ttl_ms = int(ttl * 1000)
        self._epoch_key = self._redis.key("cache", name, "epoch")
        self._base = self._redis.key("cache", name, "")

    def get(self, key: Hashable, default: Any = None) -> Any:
        if self._ttl_ms <= 0 or not self._redis.available():
            return default
        try:
            raw = self._owner.scripts["get"](keys=[self._epoch_key], args=[self._base, _key_text(key)])
        except RedisError as exc:
            self._redis.failed("cache read", exc)
            return default
        if raw is None:
            return default
        try:
            return decode(raw)
        except (ValueError, TypeError, KeyError):  # written by another version of the bot
            return default

    def put(self, key: Hashable, value: Any, *, generation: int | None = None) -> None:
        if self._ttl_ms <= 0 or not self._redis.available():
            return
        try:
            self._owner.scripts["put"](
                keys=[self._epoch_key, self._owner.generation_key],
                args=[self._base, _key_text(key), encode(value), self._ttl_ms,
                      "" if generation is None else str(generation)],
            )
        except RedisError as exc:
            self._redis.failed("cache write", exc)

    def pop(self, key: Hashable) -> Any:
        if self._ttl_ms <= 0:
            return None
        try:
            raw = self._owner.scripts["pop"](keys=[self._epoch_key], args=[self._base, _key_text(key)])
        except RedisError as exc:
            self._redis.failed("cache invalidation", exc)
            return None
        try:
            return decode(raw) if raw is not None else None
        except (ValueError, TypeError, KeyError):
            return None

    def clear(self) -> None:
        try:
            self._redis.client.incr(self._epoch_key)
        except RedisError as exc:
            self._redis.failed("cache invalidation", exc)

    def __len__(self) -> int:
        """Live entries in the current epoch (a diagnostic: it scans)."""
        if self._ttl_ms <= 0:
            return 0
        try:
            epoch = (self._redis.client.get(self._epoch_key) or b"0").decode()
            pattern = _glob_escape(self._base + epoch + ":") + "*"
            return sum(1 for _ in self._redis.client.scan_iter(match=pattern, count=500))
        except RedisError as exc:
            self._redis.failed("cache size", exc)
            return 0


class RedisCache:
    """The cache, generation and single-flight shared by every process through Redis."""

    def __init__(self, shared: SharedRedis, *, flight_seconds: float = 15.0, poll_seconds: float = 0.01) -> None:
        self.redis = shared
        self.generation_key = shared.key("cache", "generation")
        self.flight_seconds = flight_seconds
        self.poll_seconds = poll_seconds
        client = shared.client
        self.scripts = {name: client.register_script(src)
                        for name, src in (("get", _GET), ("put", _PUT), ("pop", _POP), ("release", _RELEASE))}
        self._local = SingleFlight()
        self._fallback_generation = 0

    def space(self, name: str, *, ttl: float, maxsize: int) -> RedisSpace:
        return RedisSpace(self, name, ttl)

    def generation(self) -> int:
        if not self.redis.available():
            return -1
        try:
            return int(self.redis.client.get(self.generation_key) or 0)
        except RedisError as exc:
            self.redis.failed("cache generation", exc)
            return -1

    def bump(self) -> int:
        try:
            return int(self.redis.client.incr(self.generation_key))
        except RedisError as exc:
            self.redis.failed("cache invalidation", exc)
            return -1

    def flight(self, key: Hashable, load: Callable[[], T]) -> T:
        """Threads of this process coalesce first; then one process per key loads at a time."""
        return self._local.do(key, lambda: self._shared_flight(key, load))

    def in_flight(self) -> int:
        return len(self._local)

    def _shared_flight(self, key: Hashable, load: Callable[[], T]) -> T:
        """Take the key's Redis lock and load, or wait for its holder and look again.

        Waiters in other processes get the holder's answer through the cache, not its
        exception: when the holder's load failed (or its answer was not cacheable), each
        waiting process loads once itself — at most one store call per process, since the
        threads of a process have already coalesced in ``self._local``.
        """
        if not self.redis.available():
            return load()
        name = self.redis.key("flight", _key_text(key))
        token = uuid.uuid4().hex
        give_up = time.monotonic() + self.flight_seconds
        client = self.redis.client
        while True:
            try:
                leader = client.set(name, token, nx=True, px=int(self.flight_seconds * 1000))
            except RedisError as exc:
                self.redis.failed("single-flight", exc)
                return load()
            if leader:
                try:
                    return load()  # looks in the cache first: a leader before us may have filled it
                finally:
                    try:
                        self.scripts["release"](keys=[name], args=[token])
                    except RedisError as exc:
                        self.redis.failed("single-flight", exc)
            # Another process is loading this key: wait until it is done, then look again.
            try:
                while client.exists(name) and time.monotonic() < give_up:
                    time.sleep(self.poll_seconds)
            except RedisError as exc:
                self.redis.failed("single-flight", exc)
                return load()
            if time.monotonic() >= give_up:
                return load()


# ---------------------------------------------------------------------- JSON, not pickle


def encode(value: Any) -> str:
    return json.dumps(_tagged(value), separators=(",", ":"))


def decode(raw: bytes | str) -> Any:
    return json.loads(raw, object_hook=_untag)


_TAGS: dict[type, str] = {Customer: "$customer", CustomerGroup: "$group", SearchAnswer: "$search"}
"""The model dataclasses a cached value may hold, each under a tag of its own."""
_BY_TAG = {tag: cls for cls, tag in _TAGS.items()}


def _tagged(value: Any) -> Any:
    tag = _TAGS.get(type(value))
    if tag is not None:
        return {tag: {f.name: _tagged(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, frozenset):
        return {"$frozenset": [_tagged(v) for v in value]}
    if isinstance(value, tuple):
        return {"$tuple": [_tagged(v) for v in value]}
    if isinstance(value, list):
        return [_tagged(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot cache a {type(value).__name__}")


def _untag(obj: dict) -> Any:
    # inner objects are untagged first (json's object_hook works inside out)
    for tag, cls in _BY_TAG.items():
        if tag in obj:
            return cls(**obj[tag])
    if "$dt" in obj:
        return datetime.fromisoformat(obj["$dt"])
    if "$frozenset" in obj:
        return frozenset(obj["$frozenset"])
    if "$tuple" in obj:
        return tuple(obj["$tuple"])
    return obj


def _key_text(key: Hashable) -> str:
    return json.dumps(key, separators=(",", ":"), default=str)


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)
