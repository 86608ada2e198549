"""Settle writes left unfinished: audit rows still ``sending`` or ``in doubt``.

Such a row is a write whose process died after recording it (SIGKILL, a host restart) or
whose store answer was lost (a timeout, a 5xx). The settler re-reads the customer from the
store: if the store shows the change the row becomes ``done`` (so ``history`` shows it and
Undo works), otherwise ``failed``. A delete is done when the customer is gone (404).

Only rows older than ``grace`` are looked at: a live process finishes its store call within
the store's time budget, so a younger row may still be on its way. The settler never
overwrites a row its writer settled meanwhile (``only_unsettled``). Runs at start and every
``SETTLE_SECONDS`` in every long-running process; several settlers at once are harmless.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from .state.schema import utc_now
from .state.trail import AuditEntry, AuditLog, Outcome, TrailUnavailable
from .store.errors import NotFound, StoreError
from .store.service import CustomerService

log = logging.getLogger(__name__)

FIELDS = ("group_id", "enabled", "mail_list")


class Settler:
    def __init__(self, service: CustomerService, audit: AuditLog, *, grace: timedelta,
                 clock: Callable[[], datetime] = utc_now, on_done: Callable[[int], None] | None = None) -> None:
        self.service = service
        self.audit = audit
        self.grace = grace
        self._clock = clock
        self.on_done = on_done
        """Called with the id of each row settled ``done`` (an approve / deny then closes its application)."""

    def settle_once(self) -> dict[int, Outcome]:
        """Settle what can be settled now; ``{row id: outcome}`` (store trouble: left for later)."""
        settled: dict[int, Outcome] = {}
        for entry in self.audit.unsettled(older_than=self._clock() - self.grace):
            outcome = self._judge(entry)
            if outcome is None:
                continue
            detail = f"{entry.detail} · settled from the store".lstrip(" ·")
            if self.audit.settle(entry.id, outcome, detail=detail, only_unsettled=True):
                settled[entry.id] = outcome
                log.info("settled audit row %s (%s %s) as %s", entry.id, entry.action, entry.customer_id, outcome)
                if outcome == "done" and self.on_done is not None:
                    try:
                        self.on_done(entry.id)
                    except Exception:  # noqa: BLE001 — the row is settled; the ledger catches up on the next poll
                        log.exception("after settling audit row %s", entry.id)
        return settled

    def _judge(self, entry: AuditEntry) -> Outcome | None:
        if entry.customer_id is None:
            return "failed"
        try:
            customer = self.service.get_fresh(entry.customer_id)
        except NotFound:
            return "done" if entry.action == "delete" else "failed"
        except StoreError as exc:
            log.warning("settling audit row %s: store problem (%s); will retry", entry.id, type(exc).__name__)
            return None
        if entry.action == "delete" or not entry.after:
            return "failed"
        current = {k: getattr(customer, k) for k in FIELDS}
        return "done" if all(current.get(k) == v for k, v in entry.after.items()) else "failed"

    def run(self, interval: float, stop: threading.Event) -> None:
        """Settle now, then every ``interval`` seconds until ``stop`` is set."""
        while not stop.is_set():
            try:
                self.settle_once()
            except TrailUnavailable as exc:
                log.warning("settle: audit trail unavailable (%s); will retry", exc)
            except Exception:  # noqa: BLE001 — keep settling
                log.exception("settle failed")
            stop.wait(interval)


def start_settling(settler: Settler, interval: float) -> threading.Event:
    """Run ``settler`` in a background thread; set the returned Event to stop it."""
    stop = threading.Event()
    threading.Thread(target=settler.run, args=(interval, stop), name="audit-settler", daemon=True).start()
    return stop
