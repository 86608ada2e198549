"""The BASELINE for the ack benchmark: a naive Bolt app that calls the store *before* acking.

Same settings, same runtime (desk, cached store client), same WSGI adapter and the same
gunicorn line as the real bot; the only difference is the listener::

    reply = runtime.desk.handle(parse(text), actor)   # waits for the store
    ack()                                             # ... and only then acks
    respond(**render(reply))

on Bolt's default listener pool (``ThreadPoolExecutor(max_workers=5)`` in slack-bolt 1.30).
It exists to show what the real bot's "ack first, then work on a bounded pool" buys.

gunicorn entry point: ``bench.baseline:create_wsgi_app()`` (settings from the environment).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot import intents
from bot.guard import Actor
from bot.slack.app import web_client
from bot.slack.blocks import render

EVENTS_PATH = "/slack/events"


def build_baseline_app(runtime: Any) -> App:
    settings = runtime.settings
    app = App(
        name="baseline-bot",
        client=web_client(settings),
        signing_secret=settings.secret(settings.slack_signing_secret) or "",
        token_verification_enabled=False,
    )

    @app.command("/customer")
    def on_command(ack: Callable, body: dict, respond: Callable) -> None:
        actor = Actor(user_id=str(body.get("user_id") or ""), name=str(body.get("user_name") or ""))
        reply = runtime.desk.handle(intents.parse(body.get("text") or ""), actor)  # store first ...
        ack()                                                                       # ... ack second
        respond(replace_original=False, response_type="ephemeral", **render(reply))

    return app


class BaselineWsgi:
    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.handler = SlackRequestHandler(build_baseline_app(runtime), path=EVENTS_PATH)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if path == EVENTS_PATH and method == "POST":
            return self.handler(environ, start_response)
        if path == "/healthz":
            body = json.dumps({"ok": True, "app": "baseline"}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
        return [b"Not Found"]


def create_wsgi_app() -> BaselineWsgi:
    """gunicorn entry point: settings from the environment, like ``bot.slack.web.create_wsgi_app``."""
    from bot.config import load_settings
    from bot.runtime import build_runtime, configure_logging

    settings = load_settings()
    configure_logging(settings)
    settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    return BaselineWsgi(build_runtime(settings))
