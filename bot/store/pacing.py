"""How a store client paces itself and when it retries: the client-side token bucket
(``TokenBucket``, or any ``Limiter`` such as the shared Redis budget), the hooks that read a
store's rate-limit headers (how long to wait after a 429, when to slow down before one), and
``BudgetRetry`` (which failures are retried, and the backoff between attempts).

Store-neutral policy, kept apart from the transport in ``http.py`` (which applies it within each
call's deadline): a client picks the hooks that match its store's headers.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from .errors import RateLimited

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


# ---------------------------------------------------------------------- pacing



def paced_out(rate: float, wait: float) -> RateLimited:
    """The error of a request the client's own pacing cannot fit in the call's deadline (every
    bucket, in-process or shared, says the same)."""
    return RateLimited(
        f"The bot paces its store requests (about {rate:g} per second) and is busy right now. "
        "Try again in a few seconds.",
        status=None, retry_after=wait,
    )

class Limiter(Protocol):
    """Client-side pacing shared by every call of a client (in-process or, later, Redis-backed).

    ``acquire`` takes one token, sleeping if needed, and returns the seconds waited; a wait that
    would end after ``deadline`` (``time.monotonic()`` seconds) raises ``RateLimited`` at once.
    """

    def acquire(self, deadline: float = math.inf) -> float: ...


class TokenBucket:
    """Client-side pacing with the shape of a leaky bucket (burst, then ``rate``/s).

    Thread-safe. Callers reserve a token and sleep outside the lock until it is theirs, so
    waiting threads are served in arrival order. A wait that would end after the caller's
    deadline is refused with ``RateLimited`` (and the reservation is given back).
    """

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if not (math.isfinite(rate) and rate > 0) or burst < 1:
            raise ValueError("rate must be a finite number > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def acquire(self, deadline: float = math.inf) -> float:
        """Take one token, sleeping if needed; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
            if now + wait > deadline:
                self._tokens += 1
                raise paced_out(self.rate, wait)
        if wait > 0:
            time.sleep(wait)
        return wait


# ---------------------------------------------------------------------- rate-limit headers


def retry_after_header(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``Retry-After`` (3dcart; a number of seconds), or None."""
    return _seconds(headers.get("Retry-After"), scale=1.0)


def reset_ms_header(name: str = "X-Rate-Limit-Time-Reset-Ms") -> Callable[[Mapping[str, str]], float | None]:
    """A ``retry_wait`` hook reading milliseconds from ``name`` (BigCommerce), then ``Retry-After``."""
    def wait(headers: Mapping[str, str]) -> float | None:
        seconds = _seconds(headers.get(name), scale=0.001)
        return seconds if seconds is not None else retry_after_header(headers)
    return wait


def requests_left_slowdown(left: str = "X-Rate-Limit-Requests-Left", reset_ms: str = "X-Rate-Limit-Time-Reset-Ms",
                           *, threshold: int = 2) -> Callable[[Mapping[str, str]], float]:
    """A ``slowdown`` hook: when the ``left`` header says ``threshold`` or fewer requests remain in
    the store's window, hold every next request of this client until the window resets."""
    def slowdown(headers: Mapping[str, str]) -> float:
        remaining = _seconds(headers.get(left), scale=1.0)
        if remaining is None or remaining > threshold:
            return 0.0
        return _seconds(headers.get(reset_ms), scale=0.001) or 0.0
    return slowdown


def _seconds(value: str | None, *, scale: float) -> float | None:
    if value is None or not str(value).strip():
        return None
    try:
        number = float(str(value).strip()) * scale
    except ValueError:
        return None
    return max(0.0, number) if math.isfinite(number) else None


# ---------------------------------------------------------------------- retries


@dataclass(frozen=True)
class BudgetRetry:
    """Which failures are retried, and how long to back off; the budget decides whether it fits.

    ``backoff(n)`` is the wait before retry ``n`` (1-based): 0 for the first, then
    ``backoff_factor * 2**(n-1)`` capped at ``backoff_max`` (urllib3's shape).
    """

    total: int = 4
    backoff_factor: float = 0.3
    backoff_max: float = 2.0
    read_methods: frozenset[str] = frozenset({"GET", "HEAD"})
    statuses: frozenset[int] = RETRY_STATUSES

    def backoff(self, retry: int) -> float:
        if retry <= 1:
            return 0.0
        return min(self.backoff_max, self.backoff_factor * (2 ** (retry - 1)))

    def on_status(self, method: str, status: int) -> bool:
        """Reads retry on the whole status list; writes only on 429 (refused unprocessed)."""
        if status == 429:
            return True
        return method in self.read_methods and status in self.statuses

    def on_transport(self, method: str, *, sent: bool) -> bool:
        """A request that never reached the store is always safe to send again; one that may
        have reached it only when it is a read."""
        return not sent or method in self.read_methods
