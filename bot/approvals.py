"""New wholesale applicants come to the team: find them cheaply, post each one once.

A *pending applicant* is a customer with ``Enabled: false`` in a group whose ``AutoApprove`` is
false. The poller asks the store only for customers changed recently (``lastupdatestart``),
not for every customer, and remembers in the state database (``bot/state/posted.py``) which
applications it has posted, so "once" holds across restarts, several poller processes and
several hosts: a post is *claimed* by inserting a row under a unique index before anything is
sent to Slack, and a claim whose post never happened is retried after a timeout.

Why the look-back window is a day and not "since the last poll": 3dcart filters on its own
store-local clock, whose time zone the bot cannot know. A window that wide covers any zone,
and the posted-applications table makes the overlap harmless.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .desk import Desk
from .reply import Reply
from .state.posted import Application, ApplicationBook, PostedMessage
from .store.errors import StoreError
from .store.models import Customer

log = logging.getLogger(__name__)

__all__ = ["Application", "ApplicationBook", "PollResult", "Poller", "PostedMessage", "start_background_poller"]

LOOK_BACK = timedelta(hours=26)

Post = Callable[[Reply], "PostedMessage | None"]
"""Sends a Reply to the approvals channel; answers where it went, or None when it failed."""


@dataclass
class PollResult:
    posted: list[Customer]
    closed: list[int]
    failed: list[Customer]


class Poller:
    """One poll = one cheap store query + one post per new applicant."""

    def __init__(self, desk: Desk, book: ApplicationBook, post: Post, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.desk = desk
        self.book = book
        self.post = post
        self._clock = clock

    def poll_once(self) -> PollResult:
        service = self.desk.service
        # A full scan of the pending groups on the first poll, and after any failed post (a
        # failed applicant may not show up among recent changes again); recent changes otherwise.
        # A claim left by a poller that died before posting is only found by a full scan.
        full_scan = self.book.get_state("last_full_scan") is None or self.book.has_stale_claims()
        started = self._clock()
        if full_scan:
            changed = service.pending_applicants(fresh=True)
        else:
            changed = service.changed_since(started - LOOK_BACK)
        result = PollResult([], [], [])
        for customer in changed:
            if self.desk.is_pending(customer):
                self._post_new(customer, result)
            elif self.book.close(customer.id) is not None:
                result.closed.append(customer.id)
        if result.failed:
            self.book.clear_state("last_full_scan")
        elif full_scan:
            self.book.set_state("last_full_scan", started.isoformat())
        return result

    def _post_new(self, customer: Customer, result: PollResult) -> None:
        application_id = self.book.claim(customer)
        if application_id is None:
            return
        reply = self.desk.applicant_reply(customer)
        try:
            message = self.post(reply)
        except Exception:  # noqa: BLE001 — a failed post is retried on the next poll
            log.exception("posting applicant %s failed", customer.id)
            message = None
        if message is None:
            self.book.release(application_id)
            result.failed.append(customer)
            return
        if not self.book.posted(application_id, message):  # only after a claim timeout shorter than a post
            log.warning("applicant %s was posted by another poller too (its claim was taken over)", customer.id)
        result.posted.append(customer)

    def run(self, interval: float, stop: threading.Event) -> None:
        """Poll every ``interval`` seconds until ``stop`` is set; store trouble is logged, not fatal."""
        while not stop.is_set():
            try:
                result = self.poll_once()
                if result.posted or result.failed:
                    log.info("poll: posted %d new applicant(s), %d failed", len(result.posted), len(result.failed))
            except StoreError as exc:
                log.warning("poll: store problem (%s): %s", type(exc).__name__, exc)
            except Exception:  # noqa: BLE001 — keep polling
                log.exception("poll failed")
            stop.wait(interval)


def start_background_poller(poller: Poller, interval: float) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(interval, stop), name="approvals-poller", daemon=True)
    thread.start()
    return thread, stop
