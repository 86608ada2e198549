"""Per-customer write locks and the poller lease: in this process, or in Redis for all of them.

``Desk`` holds a customer's write lock from the fresh re-read to the end of the write, so a
double click, a retried delivery or two admins clicking at once see the first write's result
and turn into a no-op. In one process ``LocalLocks`` (64 striped ``threading.Lock`` objects, today's
behaviour) is enough; with several processes or hosts ``RedisLocks`` takes one Redis lock per
customer, with an expiry (a holder that dies frees it) and a bounded wait.

Redis locks fail **closed**: when Redis is unreachable, or the lock stays taken past the wait,
``LockUnavailable`` is raised before anything is sent to the store, and the desk says that
nothing was changed. A write never runs without its lock.

The poller lease (``RedisLease``) lets one poller at a time work: the holder renews it at every
poll; when the holder dies it expires and another poller takes over.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Protocol

from redis.exceptions import LockError

from .shared import RedisError, SharedRedis

log = logging.getLogger(__name__)


class LockUnavailable(Exception):
    """The write lock could not be taken; nothing was sent to the store. ``str()`` is for users."""


class Locks(Protocol):
    def hold(self, customer_ids: Iterable[int]) -> AbstractContextManager[None]: ...


class LocalLocks:
    """Striped locks inside this process (in a fixed order, so two batches cannot deadlock)."""

    def __init__(self, stripes: int = 64) -> None:
        self._locks = [threading.Lock() for _ in range(stripes)]

    @contextmanager
    def hold(self, customer_ids: Iterable[int]) -> Iterator[None]:
        with ExitStack() as stack:
            for stripe in sorted({hash(cid) % len(self._locks) for cid in customer_ids}):
                stack.enter_context(self._locks[stripe])
            yield


UNREACHABLE = ("I can't take the write lock right now (the shared lock store, Redis, is unreachable), "
               "so nothing was changed. Try again in a moment.")
BUSY = ("Someone else is changing this customer right now and I couldn't take the write lock in time, "
        "so nothing was changed. Look them up again in a moment.")


class RedisLocks:
    """One Redis lock per customer, shared by every process; ``LockUnavailable`` rather than no lock.

    ``expire``: a dead holder's lock frees itself after this many seconds (longer than a fresh
    read plus a write, retries included). ``wait``: how long a click waits for another one.
    Threads of this process first queue on local stripes, so only one of them polls Redis.
    """

    def __init__(self, shared: SharedRedis, *, expire: float = 60.0, wait: float = 25.0) -> None:
        self.redis = shared
        self.expire = expire
        self.wait = wait
        self._local = LocalLocks()

    @contextmanager
    def hold(self, customer_ids: Iterable[int]) -> Iterator[None]:
        ids = sorted(set(customer_ids))
        with self._local.hold(ids), ExitStack() as stack:
            if not self.redis.available():
                raise LockUnavailable(UNREACHABLE)
            deadline = time.monotonic() + self.wait
            for cid in ids:
                lock = self.redis.client.lock(self.redis.key("lock", "customer", cid), timeout=self.expire,
                                              sleep=0.02, thread_local=False)
                try:
                    got = lock.acquire(blocking=True, blocking_timeout=max(0.0, deadline - time.monotonic()))
                except RedisError as exc:
                    self.redis.failed("write lock", exc)
                    raise LockUnavailable(UNREACHABLE) from None
                if not got:
                    raise LockUnavailable(BUSY)
                stack.callback(self._release, lock)
            yield

    def _release(self, lock: object) -> None:
        try:
            lock.release()  # type: ignore[attr-defined]
        except LockError:  # expired and maybe taken by another process: not ours to drop
            log.warning("a write lock had expired before its write finished")
        except RedisError as exc:
            self.redis.failed("write lock release", exc)  # it expires by itself


# ---------------------------------------------------------------------- the poller lease


class Lease(Protocol):
    def hold(self) -> bool: ...
    def release(self) -> None: ...


class LocalLease:
    """Without Redis there is nothing to share: this process always holds it."""

    def hold(self) -> bool:
        return True

    def release(self) -> None:
        return None


_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""
_DROP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisLease:
    """A named lease with an expiry: ``hold()`` takes or renews it; True while this holder has it.

    Call ``hold()`` more often than ``seconds``: a holder that stops renewing (it died, or hangs)
    loses the lease after ``seconds`` and another takes over. Redis unreachable = not held
    (an idle poller is safe; two active ones cost store requests).
    """

    def __init__(self, shared: SharedRedis, name: str, seconds: float) -> None:
        self.redis = shared
        self.key = shared.key("lease", name)
        self.seconds = seconds
        self.token = uuid.uuid4().hex
        self._renew = shared.client.register_script(_RENEW)
        self._drop = shared.client.register_script(_DROP)
        self._held: bool | None = None

    def hold(self) -> bool:
        try:
            held = bool(self._renew(keys=[self.key], args=[self.token, int(self.seconds * 1000)]))
        except RedisError as exc:
            self.redis.failed("poller lease", exc)
            held = False
        if held != self._held:
            log.info("%s the %s lease", "holding" if held else "standing by: another process holds",
                     self.key.rsplit(":", 1)[-1])
            self._held = held
        return held

    def release(self) -> None:
        try:
            self._drop(keys=[self.key], args=[self.token])
        except RedisError as exc:
            self.redis.failed("poller lease", exc)
        self._held = None
