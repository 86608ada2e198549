"""Socket Mode: the same Bolt app over a WebSocket opened with the app-level token."""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode import SocketModeHandler

from ..config import Settings
from ..runtime import build_runtime

log = logging.getLogger(__name__)


def run_socket_mode(settings: Settings) -> int:
    from .app import build_app

    runtime = build_runtime(settings)
    app = build_app(runtime)
    assert settings.slack_app_token is not None  # checked by settings.require in __main__
    try:
        log.info("connecting to Slack in Socket Mode")
        SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()
    finally:
        close = getattr(app, "close", None)
        if callable(close):
            close()
        runtime.close()
    return 0
