"""Shared benchmark plumbing: sandbox store, fake Slack, signed requests, timing and results.

Everything here is production-shaped: the bot is served over local HTTP by
:mod:`bench.serving` (gunicorn as a subprocess configured only by environment variables, or its
in-thread fallback), its store is a :class:`~bot.sandbox.threedcart.SandboxStore` served by *this*
process (so the benchmark can turn its latency knob and read its request log), and Slack is the
test suite's :class:`FakeSlack` (also in this process), which receives the cards on its
response URLs. Requests to the bot are signed like Slack signs them. :func:`bench_env` puts the
three together; :func:`percentile`, :func:`ms` and :class:`Result` / :class:`Row` are what the
benchmarks report with.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .serving import ADMIN, ROOT, SERVED_MODES, Served, served_bot  # sets up sys.path for tests/ helpers

from fake_slack import FakeSlack, ResponsePost  # noqa: E402  (tests/ helpers, imported read-only)
from slack_helpers import (  # noqa: E402
    BOT_TOKEN, SIGNING_SECRET, action_for, block_actions, find_element, sign, slash_command,
)

from bot.sandbox.threedcart import SandboxRequest, SandboxStore  # noqa: E402

__all__ = [
    "ADMIN", "BOT_TOKEN", "ROOT", "SERVED_MODES", "SIGNING_SECRET", "BenchSlack", "Env", "Options", "Result",
    "Row", "Served", "action_for", "block_actions", "bench_env", "find_element", "percentile", "post_signed",
    "ms", "run_together", "slash_command", "store_and_slack", "store_requests",
]


# ---------------------------------------------------------------------- results


@dataclass
class Options:
    quick: bool = False
    server: str = "gunicorn"
    """``gunicorn`` (production-shaped, default) or ``thread`` (``bot.slack.web.serve`` in-process)."""
    verbose: bool = False

    def log(self, message: str) -> None:
        print(f"  · {message}", file=sys.stderr, flush=True)


@dataclass
class Row:
    figure: str
    target: str
    measured: str
    met: bool | None
    """True/False against the target; None when there is no target (reference rows)."""


@dataclass
class Result:
    name: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100): p99 of 20 samples is the largest one."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def ms(seconds: float) -> str:
    value = seconds * 1000
    if value >= 1000:
        return f"{seconds:.2f} s"
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


# ---------------------------------------------------------------------- fake Slack


class BenchSlack(FakeSlack):
    """The tests' fake Slack, plus the arrival time of every response-URL post and a wake-up.

    ``received_at`` is taken when the post reaches the fake (before the fake validates the
    blocks, which is Slack's cost, not the bot's). ``validate=False`` skips that validation for
    the throughput run, where the fake shares two cores with the bot.
    """

    def __init__(self, *, validate: bool = True) -> None:
        super().__init__(token=BOT_TOKEN)
        self.validate = validate
        self._arrivals: dict[str, list[tuple[float, ResponsePost]]] = {}
        self._events: dict[str, threading.Event] = {}
        self._arrival_lock = threading.Lock()

    def response_url(self, **kwargs: Any) -> str:
        url = super().response_url(**kwargs)
        with self._arrival_lock:
            self._events[_rid(url)] = threading.Event()
        return url

    def _response_post(self, rid: str, raw: bytes) -> tuple[int, dict, Any]:
        received = time.monotonic()
        if self.validate:
            status, headers, body = super()._response_post(rid, raw)
            with self._lock:
                post = next((p for p in reversed(self._responses) if p.id == rid), None)
        else:
            try:
                payload = json.loads(raw or b"{}")
            except ValueError:
                payload = {}
            post = ResponsePost(rid, payload, 200, at=received)
            with self._lock:
                self._responses.append(post)
            status, headers, body = 200, {}, "ok"
        if post is None:
            post = ResponsePost(rid, {}, status, at=received)
        with self._arrival_lock:
            self._arrivals.setdefault(rid, []).append((received, post))
            event = self._events.get(rid)
        if event is not None:
            event.set()
        return status, headers, body

    def wait_card(self, url: str, timeout: float = 30.0) -> tuple[float, ResponsePost]:
        """(monotonic arrival time, post) of the first post to ``url``; TimeoutError if none."""
        rid = _rid(url)
        with self._arrival_lock:
            event = self._events.setdefault(rid, threading.Event())
        if not event.wait(timeout):
            raise TimeoutError(f"no card on {rid} within {timeout:.0f}s")
        with self._arrival_lock:
            return self._arrivals[rid][0]

    def arrival(self, url: str) -> tuple[float, ResponsePost] | None:
        with self._arrival_lock:
            found = self._arrivals.get(_rid(url))
            return found[0] if found else None


def _rid(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


# ---------------------------------------------------------------------- HTTP client (plays Slack)


@dataclass
class Sent:
    status: int
    seconds: float
    """HTTP round trip: connect, send, until the whole response (the ack) is read."""
    sent_at: float
    """time.monotonic() just before the request went out (comparable with card arrivals)."""
    body: bytes


def post_signed(url: str, body: bytes, *, secret: str = SIGNING_SECRET, timeout: float = 30.0) -> Sent:
    """One signed ``POST /slack/events`` on a fresh connection, timed (signing not included)."""
    headers = sign(body, secret)
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        sent_at = time.monotonic()
        start = time.perf_counter()
        conn.request("POST", parts.path or "/", body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        elapsed = time.perf_counter() - start
    finally:
        conn.close()
    return Sent(resp.status, elapsed, sent_at, data)


def run_together(jobs: Sequence[Callable[[], Any]], *, timeout: float) -> list[Any]:
    """Run ``jobs`` in one thread each, released at the same instant; results (or exceptions) in order."""
    results: list[Any] = [None] * len(jobs)
    barrier = threading.Barrier(len(jobs))

    def runner(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = job()
        except BaseException as exc:  # noqa: BLE001 — reported by the caller
            results[index] = exc

    threads = [threading.Thread(target=runner, args=(n, job), daemon=True, name=f"bench-client-{n}")
               for n, job in enumerate(jobs)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    for n, t in enumerate(threads):
        if t.is_alive():
            results[n] = TimeoutError(f"client {n} still running after {timeout:.0f}s")
    return results


# ---------------------------------------------------------------------- store request log


def store_requests(sandbox: SandboxStore, *, method: str | None = None,
                   only: Callable[[SandboxRequest], bool] | None = None) -> list[SandboxRequest]:
    """Requests the sandbox has logged since its last ``reset_counts`` (control calls excluded)."""
    return [r for r in sandbox.requests
            if (method is None or r.method == method.upper()) and (only is None or only(r))]


def is_customer_search(r: SandboxRequest) -> bool:
    """``GET /Customers?...`` (the email lookup), not ``/CustomerGroups/n/Customers``."""
    return r.method == "GET" and r.path.rstrip("/").lower().endswith("/v1/customers")


def describe_requests(requests: Sequence[SandboxRequest]) -> str:
    counts: dict[str, int] = {}
    for r in requests:
        path = r.path.split("/3dCartWebAPI/v1/", 1)[-1]
        counts[f"{r.method} /{path}"] = counts.get(f"{r.method} /{path}", 0) + 1
    return ", ".join(f"{k} ×{v}" if v > 1 else k for k, v in counts.items()) or "none"


# ---------------------------------------------------------------------- one environment


@dataclass
class Env:
    sandbox: SandboxStore
    slack: BenchSlack
    bot: Served
    data_dir: Path

    def command(self, text: str, *, user: str = ADMIN, timeout: float = 30.0) -> tuple[Sent, str]:
        """Send ``/customer <text>``; (the ack, the response URL its card will arrive on)."""
        url = self.slack.response_url(user=user)
        body = slash_command(text, user_id=user, response_url=url)
        return post_signed(self.bot.events_url, body, timeout=timeout), url

    def command_and_card(self, text: str, *, user: str = ADMIN, timeout: float = 30.0) -> tuple[Sent, float, ResponsePost]:
        """Send ``/customer <text>`` and wait for its card: (ack, seconds from send to card, card)."""
        sent, url = self.command(text, user=user, timeout=timeout)
        if sent.status != 200:
            raise RuntimeError(f"/customer {text!r} answered HTTP {sent.status}: {sent.body[:200]!r}")
        arrived, post = self.slack.wait_card(url, timeout)
        return sent, arrived - sent.sent_at, post


@contextlib.contextmanager
def store_and_slack(*, latency: float = 0.0, validate: bool = True,
                    prefix: str = "bench-") -> Iterator[tuple[SandboxStore, BenchSlack, Path]]:
    """A started sandbox store and fake Slack, and a temporary data folder (``prefix``…);
    both stopped and the folder removed on the way out."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    sandbox = SandboxStore(port=0, latency=latency)
    slack = BenchSlack(validate=validate)
    try:
        sandbox.start()
        slack.start()
        yield sandbox, slack, data_dir
    finally:
        with contextlib.suppress(Exception):
            slack.stop()
        with contextlib.suppress(Exception):
            sandbox.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@contextlib.contextmanager
def bench_env(opts: Options, *, app: str = "real", latency: float = 0.0, validate: bool = True,
              seed: Callable[[SandboxStore], None] | None = None) -> Iterator[Env]:
    """Sandbox store + fake Slack + the served bot; everything stopped on the way out."""
    with store_and_slack(latency=latency, validate=validate) as (sandbox, slack, data_dir):
        if seed is not None:
            seed(sandbox)
        with served_bot(app, sandbox, slack, data_dir, opts) as bot:
            yield Env(sandbox, slack, bot, data_dir)
