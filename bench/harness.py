"""Shared benchmark plumbing: sandbox store, fake Slack, the bot served over local HTTP, timing.

Everything here is production-shaped: the bot runs in gunicorn (``gthread``, 1 worker, 32
threads, as in the ``Procfile``) as a subprocess configured only by environment variables, its
store is a :class:`~bot.sandbox.threedcart.SandboxStore` served by *this* process (so the benchmark
can turn its latency knob and read its request log), and Slack is the test suite's
:class:`FakeSlack` (also in this process), which receives the cards on its response URLs.
Requests to the bot are signed like Slack signs them.

If gunicorn cannot start, :func:`served_bot` falls back to ``bot.slack.web.serve`` in a thread of
this process and says so in ``Served.mode`` (the table header shows it).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
for _path in (str(ROOT / "tests"), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from fake_slack import FakeSlack, ResponsePost  # noqa: E402  (tests/ helpers, imported read-only)
from slack_helpers import (  # noqa: E402
    BOT_TOKEN, SIGNING_SECRET, action_for, block_actions, find_element, sign, slash_command,
)

from bot.sandbox.threedcart import SandboxRequest, SandboxStore  # noqa: E402

ADMIN = "UBENCH"
"""The Slack user the benchmark acts as (configured as BOT_ADMINS, so Approve all is allowed)."""

SERVED_MODES: list[str] = []
"""How the bot was served in this run (one entry per distinct mode): the report's header shows it."""

HEALTH_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

__all__ = [
    "ADMIN", "BOT_TOKEN", "SIGNING_SECRET", "BenchSlack", "Env", "Options", "Result", "Row", "Served",
    "action_for", "block_actions", "bench_env", "find_element", "percentile", "post_signed", "ms",
    "run_together", "slash_command", "store_requests",
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


# ---------------------------------------------------------------------- serving the bot


@dataclass
class Served:
    url: str
    mode: str
    pid: int | None = None
    log_path: Path | None = None

    @property
    def events_url(self) -> str:
        return self.url + "/slack/events"


BOT_ENV_PREFIXES = (
    "THREEDCART_", "SLACK_", "BOT_", "STORE_", "CACHE_", "DATA_DIR", "PORT", "APPROVALS_", "AUDIT_",
    "DENY_", "POLL_", "RUN_POLLER", "UNDO_", "LISTENER_", "LOG_LEVEL",
)


def bot_environment(sandbox: SandboxStore, slack: FakeSlack, data_dir: Path, **extra: str) -> dict[str, str]:
    """The process environment for the bot: this machine's, minus any bot setting, plus ours."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(BOT_ENV_PREFIXES)}
    env.update({
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "THREEDCART_API_URL": sandbox.url,
        "THREEDCART_SECURE_URL": sandbox.secure_url,
        "THREEDCART_PRIVATE_KEY": sandbox.private_key,
        "THREEDCART_TOKEN": sandbox.token,
        "STORE_REQUESTS_PER_SECOND": "1000",
        "DATA_DIR": str(data_dir),
        "BOT_ADMINS": ADMIN,
        "APPROVALS_CHANNEL": "",
        "AUDIT_CHANNEL": "",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def bot_settings_overrides(sandbox: SandboxStore, slack: FakeSlack, data_dir: Path) -> dict[str, Any]:
    """The same configuration as :func:`bot_environment`, as ``load_settings`` overrides."""
    return {
        "slack_signing_secret": SIGNING_SECRET, "slack_bot_token": BOT_TOKEN, "slack_api_url": slack.api_url,
        "threedcart_api_url": sandbox.url, "threedcart_secure_url": sandbox.secure_url,
        "threedcart_private_key": sandbox.private_key, "threedcart_token": sandbox.token,
        "store_requests_per_second": 1000.0, "data_dir": data_dir, "BOT_ADMINS": ADMIN, "BOT_AGENTS": "",
        "approvals_channel": None, "audit_channel": None,
    }


_GUNICORN_FLAGS: list[str] | None = None


def _gunicorn_extra_flags() -> list[str]:
    """Flags this gunicorn understands that keep parallel runs apart (newer gunicorns open a
    control socket at a fixed path by default)."""
    global _GUNICORN_FLAGS
    if _GUNICORN_FLAGS is None:
        try:
            text = subprocess.run([sys.executable, "-m", "gunicorn", "--help"], capture_output=True,
                                  text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            text = ""
        _GUNICORN_FLAGS = ["--no-control-socket"] if "--no-control-socket" in text else []
    return _GUNICORN_FLAGS


def _wait_healthy(url: str, timeout: float, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout
    parts = urlsplit(url)
    last: Exception | None = None
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("the bot process exited before it answered /healthz")
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            finally:
                conn.close()
        except OSError as exc:
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"/healthz did not answer within {timeout:.0f}s ({last})")


@contextlib.contextmanager
def _gunicorn(app_spec: str, env: dict[str, str], log_path: Path) -> Iterator[Served]:
    """``gunicorn --worker-class gthread --workers 1 --threads 32`` (the Procfile's line) on a
    socket this process opened on 127.0.0.1 port 0 and hands over (``fd://``): no port races."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    fd = listener.fileno()
    command = [
        sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", "1", "--threads", "32",
        "--timeout", "60", "--graceful-timeout", "5", "--bind", f"fd://{fd}", "--log-level", "warning",
        *_gunicorn_extra_flags(), app_spec,
    ]
    with open(log_path, "ab") as log_file:
        try:
            proc = subprocess.Popen(command, cwd=ROOT, env=env, pass_fds=(fd,), stdin=subprocess.DEVNULL,
                                    stdout=log_file, stderr=subprocess.STDOUT)
        finally:
            listener.close()  # the child holds its own copy
    served = Served(f"http://127.0.0.1:{port}", "gunicorn gthread, 1 worker × 32 threads (subprocess)",
                    proc.pid, log_path)
    try:
        _wait_healthy(served.url, HEALTH_TIMEOUT, lambda: proc.poll() is None)
        yield served
    finally:
        _stop_process(proc)


def _stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(STOP_TIMEOUT)


@contextlib.contextmanager
def _in_thread(app: str, sandbox: SandboxStore, slack: FakeSlack, data_dir: Path, reason: str) -> Iterator[Served]:
    """Fallback: ``bot.slack.web.serve`` (stdlib threaded WSGI server) in a thread of this process."""
    from bot.config import load_settings
    from bot.runtime import build_runtime

    settings = load_settings(**bot_settings_overrides(sandbox, slack, data_dir))
    runtime = build_runtime(settings)
    stop = threading.Event()
    ready: list[Any] = []
    got_ready = threading.Event()

    def on_ready(server: Any) -> None:
        ready.append(server)
        got_ready.set()

    if app == "real":
        from bot.slack.web import serve

        def target() -> None:  # serve() closes the WSGI app (and its pools) when it stops
            serve(runtime, "127.0.0.1", 0, ready=on_ready, stop=stop)
    else:
        from bench.baseline import BaselineWsgi
        from bot.slack.web import make_server

        wsgi = BaselineWsgi(runtime)
        server = make_server(wsgi, "127.0.0.1", 0)

        def target() -> None:
            on_ready(server)
            threading.Thread(target=lambda: (stop.wait(), server.shutdown()), daemon=True).start()
            server.serve_forever(poll_interval=0.05)
            server.server_close()
    thread = threading.Thread(target=target, name=f"bench-bot-{app}", daemon=True)
    thread.start()
    try:
        if not got_ready.wait(HEALTH_TIMEOUT):
            raise TimeoutError("the in-process bot did not start")
        served = Served(f"http://127.0.0.1:{ready[0].server_port}",
                        f"FALLBACK bot.slack.web.serve in a thread of the bench process ({reason})", os.getpid())
        _wait_healthy(served.url, HEALTH_TIMEOUT, thread.is_alive)
        yield served
    finally:
        stop.set()
        thread.join(STOP_TIMEOUT)
        runtime.close()


@contextlib.contextmanager
def served_bot(app: str, sandbox: SandboxStore, slack: FakeSlack, data_dir: Path, opts: Options) -> Iterator[Served]:
    """The bot (``app="real"``) or the baseline (``"baseline"``) over local HTTP."""
    spec = "bot.slack.web:create_wsgi_app()" if app == "real" else "bench.baseline:create_wsgi_app()"
    reason = "--server thread"
    if opts.server == "gunicorn":
        log_path = data_dir / f"gunicorn-{app}.log"
        stack = contextlib.ExitStack()
        try:
            served = stack.enter_context(_gunicorn(spec, bot_environment(sandbox, slack, data_dir), log_path))
        except Exception as exc:  # noqa: BLE001 — fall back, and say so
            tail = _tail(log_path)
            reason = f"gunicorn did not start: {type(exc).__name__}: {exc}" + (f"; log: {tail}" if tail else "")
            print(f"  ! {reason}\n  ! falling back to bot.slack.web.serve in a thread", file=sys.stderr)
        else:
            with stack:
                _note_mode(served.mode)
                yield served
            return
    with _in_thread(app, sandbox, slack, data_dir, reason) as served:
        _note_mode(served.mode)
        yield served


def _note_mode(mode: str) -> None:
    if mode not in SERVED_MODES:
        SERVED_MODES.append(mode)


def _tail(path: Path, lines: int = 8) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


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
def bench_env(opts: Options, *, app: str = "real", latency: float = 0.0, validate: bool = True,
              seed: Callable[[SandboxStore], None] | None = None) -> Iterator[Env]:
    """Sandbox store + fake Slack + the served bot; everything stopped on the way out."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-"))
    sandbox = SandboxStore(port=0, latency=latency)
    slack = BenchSlack(validate=validate)
    try:
        sandbox.start()
        if seed is not None:
            seed(sandbox)
        slack.start()
        with served_bot(app, sandbox, slack, data_dir, opts) as bot:
            yield Env(sandbox, slack, bot, data_dir)
    finally:
        with contextlib.suppress(Exception):
            slack.stop()
        with contextlib.suppress(Exception):
            sandbox.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
