"""The hard deadline under every store call: a watchdog thread that shuts a call's socket down
when its deadline passes, and the pooled ``requests`` session whose connections register their
sockets with the call in flight (``make_session``).

Read and connect timeouts bound each ``recv``, not the call: a store that drips one byte every
few seconds stays inside them forever. Cutting the socket is what makes ``StoreHttp``'s budget
hard (see ``http.py``).
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry


class Watch:
    """The call in flight on one thread: its deadline, and the connection the watchdog cuts."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self._lock = threading.Lock()
        self._sockets: list[Any] = []

    def attach(self, sock: Any) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            fired = self.fired
        if fired:
            _shutdown(sock)

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def expired(self) -> bool:
        return self.fired or time.monotonic() >= self.deadline


def _shutdown(sock: Any) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _Watchdog:
    """One daemon thread that fires each watch at its deadline (a heap, not a timer per call)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Watch]] = []
        self._counter = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, watch: Watch) -> None:
        with self._cond:
            heapq.heappush(self._heap, (watch.deadline, next(self._counter), watch))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="store-deadline-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                deadline, _, watch = self._heap[0]
                delay = deadline - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
            if not getattr(watch, "done", False):
                watch.fire()


WATCHDOG = _Watchdog()
current_call = threading.local()


def _attach_current(conn: Any) -> None:
    watch = getattr(current_call, "watch", None)
    if watch is not None:
        watch.attach(getattr(conn, "sock", None))


class _WatchedHTTPConnection(HTTPConnection):
    """Registers its socket with the call in flight, so the watchdog can cut it at the deadline."""

    def connect(self) -> None:
        super().connect()
        _attach_current(self)

    def request(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        _attach_current(self)  # a pooled connection that is already open
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _attach_current(self)

    def request(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        _attach_current(self)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


def make_session(pool_size: int = 32) -> requests.Session:
    """A pooled session whose connections the deadline watchdog can cut; no urllib3 retries."""
    adapter = _WatchedAdapter(pool_connections=4, pool_maxsize=max(1, pool_size),
                              max_retries=Retry(total=False, raise_on_status=False, raise_on_redirect=False))
    session = requests.Session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
