"""``python -m bot poll``: post new wholesale applicants to ``APPROVALS_CHANNEL``."""

from __future__ import annotations

import argparse
import logging
import threading

from ..config import ConfigError, Settings
from ..runtime import build_runtime
from .app import web_client
from .approvals_channel import approvals_poller

log = logging.getLogger(__name__)


def run_poller(settings: Settings, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot poll")
    parser.add_argument("--once", action="store_true", help="poll once and exit")
    args = parser.parse_args(argv)
    settings.require("SLACK_BOT_TOKEN", "APPROVALS_CHANNEL")
    runtime = build_runtime(settings)
    try:
        poller = approvals_poller(runtime, web_client(settings))
        if poller is None:  # pragma: no cover - require() above makes this unreachable
            raise ConfigError("Missing setting: APPROVALS_CHANNEL")
        if args.once:
            result = poller.poll_once()
            if getattr(poller, "standing_by", False):
                print("another poller holds the poller lease (REDIS_URL): nothing polled")
                return 0
            print(f"posted {len(result.posted)} new applicant(s); {len(result.failed)} failed")
            return 1 if result.failed else 0
        log.info("polling for new applicants every %s s", settings.poll_seconds)
        poller.run(settings.poll_seconds, threading.Event())
    finally:
        runtime.close()
    return 0
