"""A write is recorded before it is sent: the trail side of every store write the desk makes.

``WriteAhead.sending(rows)`` commits one audit row per customer in state ``sending`` *before*
the store request, then settles them after it: ``done``, ``failed`` (the store refused), or
``in doubt`` (a timeout or a 5xx: it may have applied; ``bot.settle`` finds out later).

- The rows cannot be written → ``TrailDown``: nothing is sent, the user is told nothing changed.
- The rows cannot be settled after the request → logged; the user is still told the outcome
  (the settle loop fixes the row from the store).
- ``was_sent()`` tells the desk, for the current call (thread), whether a write went out, so no
  answer says "Nothing was changed" after one did.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .state.trail import AuditLog, Outcome, TrailUnavailable
from .store.errors import NotFound, StoreError, Unavailable

log = logging.getLogger(__name__)


class TrailDown(Exception):
    """The audit trail could not record a write, so the write was not sent."""


class Gone(NotFound):
    """The customer vanished between the fresh re-read and the write (already audited)."""


@dataclass
class Sent:
    """The rows of one write on its way; ``settle`` each as its result comes in."""

    audit: AuditLog
    ids: list[int] = field(default_factory=list)

    def settle(self, index: int, outcome: Outcome, detail: str | None = None) -> None:
        settle_quietly(self.audit, self.ids[index], outcome, detail)

    def settle_all(self, outcome: Outcome, detail: str | None = None) -> None:
        for entry_id in self.ids:
            settle_quietly(self.audit, entry_id, outcome, detail)


def settle_quietly(audit: AuditLog, entry_id: int, outcome: Outcome, detail: str | None = None) -> None:
    """Settle a row; if the trail is down, log it — the settle loop will catch up."""
    try:
        audit.settle(entry_id, outcome, detail=detail)
    except TrailUnavailable:
        log.error("audit row %s could not be settled as %r; the settle loop will re-check it", entry_id, outcome)


class WriteAhead:
    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit
        self._call = threading.local()

    def reset(self) -> None:
        """A new desk call starts on this thread: no write sent yet."""
        self._call.sent = False

    def was_sent(self) -> bool:
        return bool(getattr(self._call, "sent", False))

    @contextmanager
    def sending(self, rows: list[dict[str, Any]], *, settle_done: bool = True,
                gone: bool = False) -> Iterator[Sent]:
        """Record ``rows`` (``AuditLog.record`` keywords) as ``sending``, run the block (the store
        request), settle. ``settle_done=False``: the block settles each row itself (bulk
        writes). ``gone=True``: a ``NotFound`` from the block is the goal already reached (a
        delete): the rows become ``no-op`` and ``Gone`` is raised."""
        sent = Sent(self.audit)
        try:
            for row in rows:
                sent.ids.append(self.audit.begin(**row))
        except TrailUnavailable as exc:
            sent.settle_all("failed", "not sent: the audit trail could not be written")
            raise TrailDown(str(exc)) from exc
        self._call.sent = True
        try:
            yield sent
        except NotFound as exc:
            if not gone:
                sent.settle_all("failed", failure(exc))
                raise
            sent.settle_all("no-op", "no longer exists")
            raise Gone(str(exc)) from exc
        except StoreError as exc:
            sent.settle_all("in doubt" if isinstance(exc, Unavailable) else "failed", failure(exc))
            raise
        if settle_done:
            sent.settle_all("done")


def failure(exc: StoreError) -> str:
    """How a failed write is described in the audit trail: the error class and its safe message."""
    return f"{type(exc).__name__}: {exc}"
