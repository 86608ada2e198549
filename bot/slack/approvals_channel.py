"""The approvals channel: new applicants posted there, decisions shown there in place.

Wires the core poller (``bot/approvals.py``) to the Web API. Used by ``python -m bot poll`` and,
when ``RUN_POLLER`` is on, by ``serve`` / ``socket`` in a background thread.
"""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient

from ..approvals import ApplicationBook, Poller, PostedMessage, start_background_poller
from ..reply import Reply
from ..runtime import Runtime
from ..store.models import Customer
from .poster import SlackPoster

log = logging.getLogger(__name__)


def approvals_poller(runtime: Runtime, client: WebClient) -> Poller | None:
    """A poller posting to ``APPROVALS_CHANNEL``, or None when that channel is not set.

    Also keeps posted messages current: when an applicant is decided anywhere (a click in the
    channel, ``/customer approve``, the console), their channel message is updated in place.
    """
    channel = runtime.settings.approvals_channel
    if not channel:
        return None
    poster = SlackPoster(client)
    book = ApplicationBook(runtime.db)

    def post(reply: Reply) -> PostedMessage | None:
        ts = poster.post(channel, reply)
        return PostedMessage(channel, ts) if ts else None

    def decided(customer: Customer, reply: Reply) -> None:
        application = book.close(customer.id)
        if application is not None and application.ts:
            poster.update(application.channel, application.ts, reply)

    runtime.desk.on_decision(decided)
    return Poller(runtime.desk, book, post)


def start_if_enabled(runtime: Runtime, client: WebClient) -> threading.Event | None:
    """Start the background poller when ``RUN_POLLER`` is on; the Event stops it."""
    poller = approvals_poller(runtime, client)
    if poller is None:
        if runtime.settings.run_poller:
            log.warning("RUN_POLLER is on but APPROVALS_CHANNEL is not set: not polling")
        return None
    if not runtime.settings.run_poller:
        return None
    _, stop = start_background_poller(poller, runtime.settings.poll_seconds)
    return stop
