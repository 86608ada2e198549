"""The Bolt app: one ``App`` for HTTP (``web.py``) and Socket Mode alike.

Threads, and why:

* Bolt's listener pool (``settings.listener_threads``, default 32): a listener runs there and
  calls ``ack()`` there. Our listeners only ack and enqueue, so these threads are busy for
  milliseconds and the ack never waits for the store.
* The desk pool (16 ``desk-*`` threads, owned here): the work after the ack — store calls,
  ``respond``, ``chat.update``, audit posts. Bounded so a slow store cannot spawn unbounded
  threads; extra jobs queue (already acked, so Slack's 3 s deadline is not at stake).

The ``WebClient`` carries retry handlers for connection errors and 429s; Bolt (≥ 1.15) copies
``base_url``, ``timeout`` and ``retry_handlers`` from ``App(client=…)`` into the per-request
client it hands to listeners, so listeners get the same behaviour (bolt-python #768).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.logger import get_bolt_logger
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from ..config import ConfigError, Settings
from . import listeners
from ..approvals import Poller
from .approvals_channel import approvals_poller, start_if_enabled
from .pools import WatchedPool

log = logging.getLogger(__name__)

DESK_WORKERS = 16

BOT_SCOPES: dict[str, str] = {
    # the bot token scopes the app needs (manifest.yaml lists exactly these), and why
    "commands": "/customer and the message shortcut",
    "chat:write": "cards, approvals channel messages, in-place updates (chat.postMessage, chat.update, chat.postEphemeral)",
    "chat:write.public": "post to a public approvals / audit channel without being invited",
}


def web_client(settings: Settings) -> WebClient:
    """The Web API client: bot token, ``SLACK_API_URL`` and retries for 429s and dropped connections."""
    token = settings.secret(settings.slack_bot_token)
    if not token:
        raise ConfigError("Missing setting: SLACK_BOT_TOKEN")
    base_url = settings.slack_api_url
    if not base_url.endswith("/"):
        base_url += "/"
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=10,
        retry_handlers=[ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=2)],
    )


class BotApp(App):
    """A Bolt ``App`` that also owns the desk worker pool; ``close()`` shuts both pools down."""

    def __init__(self, *, work_pool: ThreadPoolExecutor, listener_pool: ThreadPoolExecutor, **kwargs: Any) -> None:
        super().__init__(listener_executor=listener_pool, **kwargs)
        self.work_pool = work_pool
        self.listener_pool = listener_pool
        # Audit lines and approvals-channel updates: one thread, so a rate-limited chat.update
        # (Tier 3, ~50/min, retried with Retry-After sleeps) never holds a user's command.
        self.notify_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notify")
        self.listeners: listeners.Listeners | None = None
        self.poller: Poller | None = None
        self.poller_stop: threading.Event | None = None

    def close(self, wait: bool = True) -> None:
        """Stop taking work; with ``wait``, let started work (already acked) finish first."""
        if self.poller_stop is not None:
            self.poller_stop.set()
        if self.listeners is not None:
            self.listeners.close()
        self.listener_pool.shutdown(wait=wait)
        self.work_pool.shutdown(wait=wait)
        # Pending audit lines / channel updates are dropped rather than waited out: behind a
        # rate limit they could hold a shutdown for minutes.
        self.notify_pool.shutdown(wait=wait, cancel_futures=True)


class _ClientCarriesTheToken(logging.Filter):
    """Drops Bolt's start-up warning "As you gave `client` as well, `token` will be unused": Bolt
    reads SLACK_BOT_TOKEN from the environment by itself and warns although our client carries
    that very token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_BOLT_LOGGER = get_bolt_logger(App)
if not any(isinstance(f, _ClientCarriesTheToken) for f in _BOLT_LOGGER.filters):
    _BOLT_LOGGER.addFilter(_ClientCarriesTheToken())


def build_app(runtime: Any, *, client: WebClient | None = None) -> BotApp:
    """The bot's Bolt app over ``runtime`` (settings, desk, store, seen-keys)."""
    settings = runtime.settings
    client = client or web_client(settings)
    signing_secret = settings.secret(settings.slack_signing_secret)
    if not signing_secret:
        # Socket Mode needs none; over HTTP every request then fails verification (401).
        log.warning("SLACK_SIGNING_SECRET is not set: fine for Socket Mode, but every HTTP request will get 401")
    app = BotApp(
        name="customer-bot",
        client=client,
        signing_secret=signing_secret or "",
        request_verification_enabled=True,
        token_verification_enabled=False,  # start without calling auth.test
        work_pool=WatchedPool(DESK_WORKERS, thread_name_prefix="desk"),
        listener_pool=ThreadPoolExecutor(max_workers=settings.listener_threads, thread_name_prefix="bolt"),
    )
    app.listeners = listeners.register(app, runtime, app.work_pool, app.notify_pool)
    # Applicant messages in APPROVALS_CHANNEL follow decisions made anywhere; RUN_POLLER also
    # polls for new applicants in a background thread of this process.
    app.poller = approvals_poller(runtime, client, app.notify_pool)
    app.poller_stop = start_if_enabled(runtime, app.poller)
    return app
