"""A worker pool that can tell how long it has been stuck (for ``/healthz``).

``stalled_for()`` is how long every worker has been busy without a single job finishing: with
each store call bounded by its deadline, a pool stalled for longer than that deadline is not
slow but stuck, and the health check says so (503) instead of "ok".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


class WatchedPool(ThreadPoolExecutor):
    def __init__(self, max_workers: int, thread_name_prefix: str = "", *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self.size = max_workers
        self._clock = clock
        self._lock = threading.Lock()
        self._busy = 0  # queued + running
        self._full_since: float | None = None

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        with self._lock:
            self._busy += 1
            if self._busy >= self.size and self._full_since is None:
                self._full_since = self._clock()
        try:
            return super().submit(self._run, fn, args, kwargs)
        except BaseException:
            self._done()
            raise

    def _run(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
        try:
            return fn(*args, **kwargs)
        finally:
            self._done()

    def _done(self) -> None:
        with self._lock:
            self._busy -= 1
            # a finished job is progress: the clock restarts while the pool stays full
            self._full_since = self._clock() if self._busy >= self.size else None

    def stalled_for(self) -> float:
        """Seconds all workers have been busy with no job finishing (0 when not full)."""
        with self._lock:
            since = self._full_since
        return 0.0 if since is None else max(0.0, self._clock() - since)
