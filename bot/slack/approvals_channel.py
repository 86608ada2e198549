"""The approvals channel: new applicants posted there, decisions shown there in place.

Wires the core poller (``bot/approvals.py``) to the Web API. Used by ``python -m bot poll`` and,
when ``RUN_POLLER`` is on, by ``serve`` / ``socket`` in a background thread.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Executor
from contextvars import ContextVar

from slack_sdk import WebClient

from ..approvals import Poller, PostedMessage, start_background_poller
from ..poll_lease import LeasedPoller
from ..state.applications import Application
from ..reply import Reply
from ..runtime import Runtime
from ..store.models import Customer
from .poster import SlackPoster

log = logging.getLogger(__name__)

clicked_message: ContextVar[tuple[str, str] | None] = ContextVar("clicked_message", default=None)
"""The channel message (channel, ts) whose button is being handled in this thread, if any: the
click's own answer updates that message, so the decision listener leaves it alone."""


def approvals_poller(runtime: Runtime, client: WebClient, pool: Executor | None = None) -> Poller | None:
    """A poller posting to ``APPROVALS_CHANNEL``, or None when that channel is not set.

    Also keeps posted messages current: when an applicant is decided anywhere in this process
    (a click in the channel, ``/customer approve``), their channel message is updated in place —
    on ``pool`` when given, so an "Approve all" answer never waits on ``chat.update`` limits.
    """
    channel = runtime.settings.approvals_channel
    if not channel:
        return None
    poster = SlackPoster(client)
    ledger = runtime.desk.ledger

    def post(reply: Reply) -> PostedMessage | None:
        ts = poster.post(channel, reply)
        return PostedMessage(channel, ts) if ts else None

    def decided(customer: Customer, reply: Reply) -> None:
        application = ledger.latest_for(customer.id)  # the one just decided
        if application is None or not application.ts:
            return
        if (application.channel, application.ts) == clicked_message.get():
            return
        if pool is None:
            poster.update(application.channel, application.ts, reply)
            return
        try:
            pool.submit(poster.update, application.channel, application.ts, reply)
        except RuntimeError:
            log.warning("applicant message %s not updated: worker pool is shut down", application.ts)

    def withdrawn(application: Application, reply: Reply) -> None:
        poster.update(application.channel, application.ts, reply)

    runtime.desk.on_decision(decided)
    return LeasedPoller(runtime.desk, post, update=withdrawn, lease=runtime.poller_lease)


def start_if_enabled(runtime: Runtime, poller: Poller | None) -> threading.Event | None:
    """Start ``poller`` in a background thread when ``RUN_POLLER`` is on; the Event stops it."""
    if poller is None:
        if runtime.settings.run_poller:
            log.warning("RUN_POLLER is on but APPROVALS_CHANNEL is not set: not polling")
        return None
    if not runtime.settings.run_poller:
        return None
    _, stop = start_background_poller(poller, runtime.settings.poll_seconds)
    return stop
