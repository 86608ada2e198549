"""WSGI entry point: ``POST /slack/events`` → Bolt, ``GET /healthz`` → 200, anything else 404.

Production (one process, many threads — the desk's cache and single-flight live in-process)::

    gunicorn --worker-class gthread --workers 1 --threads 32 --bind 0.0.0.0:$PORT 'bot.slack.web:create_wsgi_app()'

Development and tests: ``serve(runtime, host, port)`` (what ``python -m bot serve`` runs) uses the
standard library's threaded WSGI server.

Request signatures are checked by Bolt (``X-Slack-Signature`` over the raw body, timestamp
within 5 minutes): a bad, stale or missing signature gets 401 before any listener runs.
"""

from __future__ import annotations

import json
import logging
import signal
import socketserver
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server as _make_server

from slack_bolt.adapter.wsgi import SlackRequestHandler

from .app import BotApp, build_app

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


class SlackWsgi:
    """The WSGI callable. ``close()`` stops the worker pools (and the runtime if it built it)."""

    def __init__(self, runtime: Any, app: BotApp, *, owns_runtime: bool = False) -> None:
        self.runtime = runtime
        self.app = app
        self.handler = SlackRequestHandler(app, path=EVENTS_PATH)
        self._owns_runtime = owns_runtime
        self._closed = False

    def health(self) -> dict:
        settings = self.runtime.settings
        store = getattr(self.runtime, "store", None)
        label = getattr(store, "label", "3dcart")
        return {"ok": True, "store": "sandbox" if settings.sandbox_mode else label.lower(),
                "backend": getattr(store, "backend_name", "threedcart")}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "") or "/"
        if path == EVENTS_PATH and method == "POST":
            if not _plausible_timestamp(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")):
                # slack_sdk's verifier calls int() on it unguarded: answer 401, not a 500 traceback
                return _respond(start_response, "401 Unauthorized", "", "text/plain; charset=utf-8")
            return self.handler(environ, start_response)
        if path == HEALTH_PATH and method == "GET":
            return _respond(start_response, "200 OK", json.dumps(self.health()), "application/json")
        return _respond(start_response, "404 Not Found", "Not Found", "text/plain; charset=utf-8")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.app.close()
        if self._owns_runtime:
            self.runtime.close()


def _plausible_timestamp(value: str) -> bool:
    """A Slack request timestamp is whole seconds in ASCII digits; anything else is forged."""
    return value.isascii() and value.isdigit() and len(value) <= 12


def _respond(start_response: Callable, status: str, body: str, content_type: str) -> list[bytes]:
    data = body.encode()
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data)))])
    return [data]


def create_wsgi_app(runtime: Any | None = None) -> SlackWsgi:
    """The WSGI app over ``runtime``; with none, settings are loaded and a runtime is built."""
    owns = runtime is None
    if runtime is None:  # the gunicorn entry point: read settings here, once
        from ..config import load_settings
        from ..runtime import build_runtime, configure_logging

        settings = load_settings()
        configure_logging(settings)
        settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
        runtime = build_runtime(settings)
    try:
        return SlackWsgi(runtime, build_app(runtime), owns_runtime=owns)
    except BaseException:
        if owns:
            runtime.close()
        raise


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s - " + format, self.address_string(), *args)


def make_server(wsgi: Callable, host: str = "127.0.0.1", port: int = 0) -> ThreadingWSGIServer:
    """A threaded stdlib WSGI server for ``wsgi`` (``port=0``: any free port, see ``server_port``)."""
    return _make_server(host, port, wsgi, server_class=ThreadingWSGIServer, handler_class=_QuietHandler)  # type: ignore[return-value]


def serve(runtime: Any, host: str = "0.0.0.0", port: int = 3000, *,
          ready: Callable[[ThreadingWSGIServer], None] | None = None,
          stop: threading.Event | None = None) -> None:
    """Serve the bot until interrupted (or ``stop`` is set). ``ready(server)`` runs once listening."""
    wsgi = create_wsgi_app(runtime)
    server = make_server(wsgi, host, port)
    log.info("listening on http://%s:%d%s", host, server.server_port, EVENTS_PATH)
    if stop is not None:
        threading.Thread(target=lambda: (stop.wait(), server.shutdown()), daemon=True).start()
    if threading.current_thread() is threading.main_thread():
        # SIGTERM (docker stop, Heroku): stop accepting, let acked work finish, then exit.
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    if ready is not None:
        ready(server)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        wsgi.close()
