"""A Redis for the tests: ``TEST_REDIS_URL`` when set, else a throwaway ``redis-server`` from PATH.

The throwaway server listens on a free local port, keeps its files in a temporary folder, saves
nothing, and is stopped at the end of the session. Without either, tests that need Redis are
skipped with a reason starting "needs Redis:" (``.ci/run`` sets ``TEST_REDIS_URL`` and fails on
such skips).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

import redis

SKIP_PREFIX = "needs Redis:"


class RedisUnavailable(Exception):
    """Why no Redis could be had (the skip reason, after ``SKIP_PREFIX``)."""


class RedisServer:
    """The Redis the session uses; ``url`` is what ``REDIS_URL`` should be in tests."""

    def __init__(self) -> None:
        self.url = ""
        self._process: subprocess.Popen | None = None
        self._dir: str | None = None

    def start(self) -> RedisServer:
        given = os.environ.get("TEST_REDIS_URL", "").strip()
        if given:
            self.url = given
            self._wait_ready(timeout=5, why=f"TEST_REDIS_URL is set but that server does not answer")
            return self
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisUnavailable("TEST_REDIS_URL is not set and redis-server is not on PATH")
        self._dir = tempfile.mkdtemp(prefix="test-redis-")
        port = _free_port()
        self._process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", self._dir, "--save", "",
             "--appendonly", "no", "--protected-mode", "yes", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{port}/0"
        self._wait_ready(timeout=10, why="the throwaway redis-server did not start")
        return self

    def _wait_ready(self, *, timeout: float, why: str) -> None:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=1)
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.RedisError:
                    if time.monotonic() > deadline or (self._process is not None and self._process.poll() is not None):
                        self.stop()
                        raise RedisUnavailable(why) from None
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover
                process.kill()
                process.wait()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def unique_prefix() -> str:
    """A key prefix no other test (or process) uses."""
    return f"test-{uuid.uuid4().hex[:12]}:"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CuttableProxy:
    """A TCP forwarder to Redis that a test can cut (``down()``) and restore (``up()``) — Redis
    "going away" without touching the real server, which other tests share."""

    def __init__(self, upstream_url: str) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(upstream_url)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self._rest = upstream_url.split(f":{parts.port}", 1)[1] if parts.port else "/0"
        self._scheme_auth = upstream_url.split("@", 1)[0] + "@" if "@" in upstream_url else "redis://"
        self.port = _free_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = __import__("threading").Lock()

    @property
    def url(self) -> str:
        return f"{self._scheme_auth}127.0.0.1:{self.port}{self._rest}"

    def up(self) -> CuttableProxy:
        import threading

        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def down(self) -> None:
        """Refuse new connections and drop the open ones."""
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept() (Linux)
            except OSError:
                pass
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        import threading

        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self._upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
