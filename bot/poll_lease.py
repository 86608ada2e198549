"""One active poller at a time, however many run: the poller works only while it holds the lease.

Several processes may poll — ``python -m bot poll`` on two hosts, ``RUN_POLLER`` in every
gunicorn worker. Posting each applicant once is the ledger's job (``state/applications.py``); the
lease (``state/locks.py``: Redis with an expiry, renewed at every poll) keeps the others idle
so they do not spend the store's request budget on the same scan. Without Redis the lease is
always held (one process, today's behaviour).
"""

from __future__ import annotations

from typing import Any

from .approvals import Poller, PollResult
from .state.locks import Lease


class LeasedPoller(Poller):
    def __init__(self, *args: Any, lease: Lease, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lease = lease
        self.standing_by = False
        """True after a poll skipped because another process holds the lease."""

    def poll_once(self) -> PollResult:
        self.standing_by = not self.lease.hold()
        if self.standing_by:
            return PollResult()
        return super().poll_once()
