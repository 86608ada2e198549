"""New wholesale applications come to the team: found cheaply, each posted once.

Who is an applicant is decided in ``bot/applicants.py`` and remembered in the application
ledger (``bot/state/applications.py``). One poll = one ledger refresh (the first ever reads the
groups that need approval once; afterwards one store request for the customers changed since
the last refresh, whatever the group sizes) + one post per new application.

"Once" holds across restarts, several poller processes and several hosts: a post is *claimed*
on the application's row before anything is sent to Slack, and a claim whose post never happened
(the poller died in between) is taken over after the claim timeout. A post that failed is tried
again on the next poll. An application withdrawn in the store (enabled or moved there) gets its
posted message updated, so nobody clicks on a stale Approve.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .desk import Desk
from .reply import Reply
from .state.applications import Application, Ledger
from .state.posted import PostedMessage
from .store.errors import StoreError

log = logging.getLogger(__name__)

__all__ = ["Application", "PollResult", "Poller", "PostedMessage", "start_background_poller"]

Post = Callable[[Reply], "PostedMessage | None"]
"""Sends a Reply to the approvals channel; answers where it went, or None when it failed."""
Update = Callable[[Application, Reply], None]
"""Replaces a posted message (``application.channel`` / ``ts``) with a Reply."""


@dataclass
class PollResult:
    posted: list[Application] = field(default_factory=list)
    closed: list[Application] = field(default_factory=list)
    """Applications withdrawn in the store (enabled, moved) that this poll noticed, and those
    closed as approved / denied by a write of the bot whose store answer was lost."""
    failed: list[Application] = field(default_factory=list)

    @property
    def closed_ids(self) -> list[int]:
        return [a.customer_id for a in self.closed]


class Poller:
    def __init__(self, desk: Desk, post: Post, *, update: Update | None = None, ledger: Ledger | None = None) -> None:
        self.desk = desk
        self.ledger = ledger if ledger is not None else desk.ledger
        self.post = post
        self.update = update

    def poll_once(self) -> PollResult:
        observed = self.desk.feed.refresh()
        result = PollResult(closed=[*observed.withdrawn, *observed.decided])
        for application in result.closed:
            if application.ts and self.update is not None:
                try:
                    self.update(application, self.desk.approvals.closed_reply(application))
                except Exception:  # noqa: BLE001 — a stale message is not fatal
                    log.exception("updating the message of withdrawn application %s failed", application.id)
        for application, token in self.ledger.claim_unposted():
            self._post(application, token, result)
        return result

    def _post(self, application: Application, token: str, result: PollResult) -> None:
        try:
            message = self.post(self.desk.applicant_reply(application))
        except Exception:  # noqa: BLE001 — a failed post is retried on the next poll
            log.exception("posting application %s failed", application.id)
            message = None
        if message is None:
            self.ledger.release(application.id, token)
            result.failed.append(application)
            return
        if not self.ledger.posted(application.id, message):  # only after a claim timeout shorter than a post
            log.warning("application %s was posted by another poller too (its claim was taken over)", application.id)
        result.posted.append(application)

    def run(self, interval: float, stop: threading.Event) -> None:
        """Poll every ``interval`` seconds until ``stop`` is set; store trouble is logged, not fatal."""
        try:
            off = self.desk.rule.off_reason()
        except StoreError:
            off = None
        if off is not None:
            log.warning("approvals are off on this store, so the poller posts nothing: %s", off)
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
