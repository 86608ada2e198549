"""Who is a wholesale applicant on this store, and the feed that keeps the ledger current.

Two ways of applying, chosen by the settings (read once, passed in):

* **By group** (``APPLICANT_GROUP`` set, any store): the applicants are the members of
  APPLICANT_GROUP. Approve moves them to ``APPROVED_GROUP`` (and enables them where the store
  has Enabled); Deny moves them to ``DENY_GROUP_ID``.
* **By Enabled** (unset, on a store with an Enabled flag, e.g. 3dcart): an applicant is a
  customer who is disabled in a group that does not auto-approve and whom the bot has never
  seen enabled. An account disabled through the bot, or one the bot has seen enabled anywhere
  (poller, lookups, writes), is never a new applicant. Approve enables them; Deny moves them to
  DENY_GROUP_ID (enabled, at retail prices).

On a store without Enabled and without APPLICANT_GROUP there are no approvals (``off_reason``).

``ApplicationFeed.refresh`` (the poller, Approve all) is the full way records reach the ledger
in bulk: the first time ever (no cursor yet) it reads the members of the groups that need
approval once and marks the waiting ones "found at first start"; afterwards it asks the store
only for the customers changed since its last refresh (one request when little changed),
whatever the group sizes, and it alone moves the cursor. ``ApplicationFeed.quick_refresh``
(``pending``) reads one page of those changes and leaves the cursor alone (see there).

Why the look-back is a day and not "since the last refresh": 3dcart filters on its own
store-local clock, whose time zone the bot cannot know. A window that wide covers any zone, and
the ledger makes the overlap harmless.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone

from .state.applications import Ledger, Observed
from .store.backend import Capabilities
from .store.errors import GroupLookupError
from .store.models import RETAIL, Customer, CustomerChange, CustomerGroup, CustomerQuery
from .store.service import CustomerService

log = logging.getLogger(__name__)

LOOK_BACK = timedelta(hours=26)
CURSOR = "ledger_since"
"""``poll_state`` row: when the last full refresh started (absent = the bot has never looked)."""
QUICK = "ledger_quick"
"""``poll_state`` row: when the last quick refresh (``pending``'s one page) started."""


class ApplicantRule:
    """The store's approval rule (see the module docstring)."""

    def __init__(self, service: CustomerService, *, applicant_group: str | None = None,
                 approved_group: str | None = None, deny_group_id: int = 0) -> None:
        self.service = service
        self.applicant_group_text = (applicant_group or "").strip() or None
        self.approved_group_text = (approved_group or "").strip() or None
        self.deny_group_id = deny_group_id

    @property
    def capabilities(self) -> Capabilities:
        return getattr(self.service.backend, "capabilities", None) or Capabilities()

    @property
    def by_group(self) -> bool:
        return self.applicant_group_text is not None

    @property
    def tracks_enabled(self) -> bool:
        """Whether "seen enabled" decides (the Enabled rule); not with APPLICANT_GROUP."""
        return not self.by_group and self.capabilities.has_enabled

    def off_reason(self) -> str | None:
        """Why there are no approvals on this store (None when there are)."""
        if self.by_group:
            try:
                self.applicant_group()
                if self.approved_group_text is not None:
                    self.approved_group()
            except GroupLookupError as exc:
                return f"APPLICANT_GROUP / APPROVED_GROUP name no group in the store (“{exc.text}”). Check the settings."
            if self.approved_group_text is None:
                return "APPLICANT_GROUP is set but APPROVED_GROUP is not: set it to the group Approve moves applicants to."
            return None
        if not self.capabilities.has_enabled:
            return ("This store has no Enabled setting, so approvals work by group: set APPLICANT_GROUP (the group "
                    "applicants join, name or id) and APPROVED_GROUP (where Approve moves them), then restart the bot.")
        return None

    def applicant_group(self) -> CustomerGroup:
        assert self.applicant_group_text is not None
        return self.service.resolve_group(self.applicant_group_text)

    def approved_group(self) -> CustomerGroup:
        assert self.approved_group_text is not None
        return self.service.resolve_group(self.approved_group_text)

    def needs_approval(self, group: CustomerGroup | None) -> bool:
        """A group whose new members wait for an admin."""
        if group is None or group.id == RETAIL.id:
            return False
        if self.by_group:
            return group.id == self.applicant_group().id
        return self.capabilities.has_enabled and not group.auto_approve

    def qualifies(self, customer: Customer) -> bool:
        """The record has the shape of an application (history aside: that is the ledger's part)."""
        if self.by_group:
            return customer.group_id == self.applicant_group().id
        return not customer.enabled and self.needs_approval(self.service.group(customer.group_id))

    def groups_to_scan(self) -> list[CustomerGroup]:
        if self.by_group:
            return [self.applicant_group()]
        return [g for g in self.service.groups() if self.needs_approval(g)]

    def approve_change(self, customer: Customer) -> CustomerChange:
        enabled = True if self.capabilities.has_enabled else None
        if self.by_group:
            return CustomerChange(customer.id, group_id=self.approved_group().id, enabled=enabled)
        return CustomerChange(customer.id, enabled=True)

    def deny_change(self, customer: Customer) -> CustomerChange:
        enabled = True if self.capabilities.has_enabled else None
        return CustomerChange(customer.id, group_id=self.deny_group_id, enabled=enabled)

    def approved_words(self) -> str:
        """Where an approved applicant ends up, for replies."""
        if self.by_group:
            return f"in {self.approved_group().name}"
        return "enabled"


class ApplicationFeed:
    """Keeps the ledger current from the store, cheaply (see the module docstring)."""

    def __init__(self, service: CustomerService, ledger: Ledger, rule: ApplicantRule, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.service = service
        self.ledger = ledger
        self.rule = rule
        self._clock = clock
        self._lock = threading.Lock()

    def refresh(self, *, max_age: float = 0.0) -> Observed:
        """One refresh: the first ever reads the groups that need approval; later ones read only
        what changed since (with the look-back). Raises ``StoreError`` when the store fails.

        ``max_age`` > 0: no store request when any process refreshed the ledger less than that
        many seconds ago (the poller and Approve all always refresh; ``pending`` uses
        ``quick_refresh``)."""
        if self.rule.off_reason() is not None:
            return Observed()
        with self._lock:
            cursor = self.ledger.get_state(CURSOR)
            started = self._clock()
            if cursor is not None and max_age > 0 and started - datetime.fromisoformat(cursor) < timedelta(seconds=max_age):
                return Observed()
            if cursor is None:
                observed = Observed()
                for group in self.rule.groups_to_scan():
                    members = list(self.service.backend.all_group_members(group.id))
                    self._merge(observed, self.observe(members, origin="first start"))
            else:
                since = datetime.fromisoformat(cursor) - LOOK_BACK
                observed = self.observe(self.service.changed_since(since))
            self.ledger.set_state(CURSOR, started.isoformat())
        return observed

    def quick_refresh(self, *, max_age: float = 0.0) -> Observed:
        """``pending``'s refresh: at most one store request, whatever the groups and the changes.

        No store request when the ledger was refreshed, fully or quickly, by any process less
        than ``max_age`` seconds ago (``pending`` passes the cache TTL: the ledger is then as
        fresh as a cached list). Before the first full refresh ever (no cursor) it is that full
        refresh (the one-time read of the groups). Otherwise it asks for *one page* (the
        backend's ``page_size``) of the customers changed since the cursor (with the look-back),
        observes it into the ledger and stamps ``QUICK``; it never moves the cursor.

        What it can miss — the changes beyond that page (3dcart lists them by customer ID, so
        with more than a page of changes the newest sign-ups are left out; a store that caps the
        page shorter leaves out more) — is picked up by the next full refresh: the cursor stays
        where the last full refresh put it, so the poller, or Approve all (which always refreshes
        fully), reads everything changed since then. Reading a record twice is harmless."""
        if self.rule.off_reason() is not None:
            return Observed()
        if self.ledger.get_state(CURSOR) is None:
            return self.refresh()
        with self._lock:
            cursor = self.ledger.get_state(CURSOR)
            assert cursor is not None  # only ever set, never cleared
            started = self._clock()
            last = max(datetime.fromisoformat(v) for v in (cursor, self.ledger.get_state(QUICK)) if v)
            if max_age > 0 and started - last < timedelta(seconds=max_age):
                return Observed()
            query = CustomerQuery(updated_since=datetime.fromisoformat(cursor) - LOOK_BACK)
            page = self.service.backend.find_customers(query, limit=self.rule.capabilities.page_size)
            observed = self.observe(page)
            self.ledger.set_state(QUICK, started.isoformat())
        return observed

    def observe(self, customers: Iterable[Customer], *, origin: str = "poll", source: str = "poll",
                changed_by: str = "") -> Observed:
        """Feed a few records the bot read anyway (a fresh re-read before a decision), or wrote
        (``changed_by``: the user whose write through the bot they show)."""
        return self.ledger.observe(list(customers), self.rule.qualifies, track_enabled=self.rule.tracks_enabled,
                                   origin=origin, source=source, changed_by=changed_by)

    def has_history(self) -> bool:
        return self.ledger.get_state(CURSOR) is not None

    @staticmethod
    def _merge(into: Observed, more: Observed) -> None:
        into.opened.extend(more.opened)
        into.withdrawn.extend(more.withdrawn)
