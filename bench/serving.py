"""Serving the bot for a benchmark: gunicorn as a subprocess, or a thread as the fallback.

The bot runs in gunicorn (``gthread``, 1 worker, 32 threads, as in the ``Procfile``) as a
subprocess configured only by environment variables (:func:`bot_environment`), on a socket this
process opened and hands over, so there are no port races; it is stopped with SIGTERM (then
SIGKILL) on the way out. If gunicorn cannot start, :func:`served_bot` falls back to
``bot.slack.web.serve`` in a thread of this process and says so in ``Served.mode``, which
:data:`SERVED_MODES` collects for the report's header. Kept apart from :mod:`bench.harness`
(fake Slack, signed requests, timing helpers) because this is the only process plumbing.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
for _path in (str(ROOT / "tests"), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from fake_slack import FakeSlack  # noqa: E402  (tests/ helpers, imported read-only)
from slack_helpers import BOT_TOKEN, SIGNING_SECRET  # noqa: E402

from bot.sandbox.threedcart import SandboxStore  # noqa: E402

if TYPE_CHECKING:
    from .harness import Options

ADMIN = "UBENCH"
"""The Slack user the benchmark acts as (configured as BOT_ADMINS, so Approve all is allowed)."""

SERVED_MODES: list[str] = []
"""How the bot was served in this run (one entry per distinct mode): the report's header shows it."""

HEALTH_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


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
def serve_gunicorn(app_spec: str, env: dict[str, str], log_path: Path) -> Iterator[Served]:
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
            served = stack.enter_context(serve_gunicorn(spec, bot_environment(sandbox, slack, data_dir), log_path))
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

