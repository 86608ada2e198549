"""The HTTP front door under abuse: bodies over 1 MB refused unread (413), and ``/healthz``
telling the truth when the desk pool is stuck (issue 11, items 1 and 2)."""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlsplit

import requests

from bot.slack.pools import WatchedPool
from bot.slack.web import MAX_BODY_BYTES

try:
    from slack_helpers import BotServer
except ImportError:  # pragma: no cover - imported as the tests package
    from tests.slack_helpers import BotServer


def _raw_post_headers_only(url: str, length: int, timeout: float = 5.0) -> bytes:
    """Send only the headers of a POST declaring ``length`` bytes, then read the answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall((f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                      f"Content-Length: {length}\r\n\r\n").encode() + b"payload=")
        sock.settimeout(timeout)
        return sock.recv(4096)


def test_a_huge_unsigned_body_is_refused_before_it_is_read(bot) -> None:
    """Reproducer: three 400 MB unsigned POSTs were each read whole before the 401 (3.2 GB)."""
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(_raw_post_headers_only(bot.url, 400 * 1024 * 1024)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(answers) == 3
    assert all(a.startswith(b"HTTP/1.") and b" 413 " in a.split(b"\r\n", 1)[0] for a in answers), answers


def test_the_body_limit_is_1_mb(bot) -> None:
    over = requests.post(bot.url + "/slack/events", data=b"x" * (MAX_BODY_BYTES + 1), timeout=10)
    assert over.status_code == 413
    at = requests.post(bot.url + "/slack/events", data=b"x" * MAX_BODY_BYTES, timeout=10)
    assert at.status_code == 401  # read, and refused for its (missing) signature as before


def test_healthz_is_503_while_the_desk_pool_is_stuck_past_the_deadline(fake, tmp_path) -> None:
    with BotServer(fake, tmp_path, store_timeout_seconds=0.3) as server:
        assert requests.get(server.url + "/healthz", timeout=5).status_code == 200
        pool = server.wsgi.app.work_pool
        release = threading.Event()
        for _ in range(pool.size):
            pool.submit(release.wait, 30)
        try:
            deadline = time.monotonic() + 10
            while requests.get(server.url + "/healthz", timeout=5).status_code != 503:
                assert time.monotonic() < deadline, "healthz never reported the stuck pool"
                time.sleep(0.05)
            assert "busy" in requests.get(server.url + "/healthz", timeout=5).json()["problem"]
        finally:
            release.set()
        deadline = time.monotonic() + 10
        while requests.get(server.url + "/healthz", timeout=5).status_code != 200:  # and it recovers
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_watched_pool_counts_only_a_pool_with_no_progress() -> None:
    now = [100.0]
    pool = WatchedPool(2, clock=lambda: now[0])
    gates = [threading.Event() for _ in range(3)]
    try:
        futures = [pool.submit(g.wait, 10) for g in gates]
        now[0] += 5
        assert pool.stalled_for() == 5
        gates[0].set()
        futures[0].result(timeout=5)
        assert pool.stalled_for() == 0  # a job finished: progress, the clock restarts
        gates[1].set()
        gates[2].set()
        for f in futures:
            f.result(timeout=5)
        now[0] += 5
        assert pool.stalled_for() == 0
    finally:
        for g in gates:
            g.set()
        pool.shutdown()
