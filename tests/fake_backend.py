"""An in-memory ``Backend`` for service and desk tests that count backend calls.

It keeps the contract of the real clients (``tests/test_backend_contract.py`` runs it beside
them): lists ``[]`` when empty, ``offset`` = records to skip, ``NotFound`` for a missing id,
per-record ``WriteResult``s, partial updates, and the store's ``capabilities`` (a store without
Enabled / MailList refuses changes to them, as the BigCommerce client does).

``calls`` counts every method called (``calls["get_customer"]``); ``fail`` queues errors that
the next calls raise, for outage tests without a server.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from bot.store.backend import Capabilities, StoreHints
from bot.store.errors import NotFound, StoreError
from bot.store.models import Customer, CustomerChange, CustomerGroup, CustomerQuery, WriteResult

THREEDCART_LIKE = Capabilities(has_enabled=True, has_mail_list=True, page_size=300, bulk_update_size=300)
BIGCOMMERCE_LIKE = Capabilities(has_enabled=False, has_mail_list=False, page_size=250, bulk_update_size=1,
                                lists_customers_without_group=True)

DEMO_GROUPS = (CustomerGroup(1, "VIP"), CustomerGroup(2, "Wholesale", auto_approve=False), CustomerGroup(3, "Staff"),
               CustomerGroup(4, "Distributors", auto_approve=False))
DEMO_CUSTOMERS = (
    Customer(1, "jane@example.com", "Jane", "Doe", "Acme Ltd", group_id=1, store_credit=25.0),
    Customer(2, "bob@example.com", "Bob", "Stone", "Stone Hardware", group_id=2),
    Customer(3, "carol@example.com", "Carol", "Reyes", "Reyes Trading", group_id=2, enabled=False),
    Customer(4, "dave@example.com", "Dave", "Kim", mail_list=True),
    Customer(5, "erin@example.com", "Erin", "Walsh", group_id=3, enabled=False),
    Customer(6, "frank@example.com", "Frank", "Otto", "Otto Supply Co", group_id=4),
    Customer(7, "grace@example.com", "Grace", "Lin", "Lin Imports", group_id=4, enabled=False, mail_list=True),
    Customer(8, "henry@example.com", "Henry", "Park", "Park & Sons", group_id=1, mail_list=True, store_credit=100.0),
)

DEMO_AGES = (40, 30, 1, 20, 10, 15, 2, 5)
"""Days since each demo customer last changed (as in both sandboxes)."""


class FakeBackend:
    """The demo store of the sandboxes, in memory. Not thread-safe beyond what tests need."""

    name = "fake"

    def __init__(self, *, capabilities: Capabilities = THREEDCART_LIKE, seed_demo: bool = True) -> None:
        self.capabilities = capabilities
        self.hints = StoreHints(label="Fake store", credentials="FAKE_TOKEN")
        self.calls: Counter[str] = Counter()
        self.customers: dict[int, Customer] = {}
        self.groups: dict[int, CustomerGroup] = {}
        self._errors: deque[StoreError] = deque()
        if seed_demo:
            self.groups = {g.id: g for g in DEMO_GROUPS}
            now = datetime.now(timezone.utc)
            self.customers = {c.id: replace(c, last_update=now - timedelta(days=age))
                              for c, age in zip(DEMO_CUSTOMERS, DEMO_AGES)}

    # ------------------------------------------------------------------ test knobs

    def fail(self, *errors: StoreError) -> None:
        """The next calls raise these errors, one each."""
        self._errors.extend(errors)

    def add_customers(self, n: int, *, group_id: int = 0, enabled: bool = True) -> list[int]:
        start = max(self.customers, default=0) + 1
        for cid in range(start, start + n):
            self.customers[cid] = Customer(cid, f"bulk{cid}@example.com", "Bulk", f"Customer {cid}",
                                           group_id=group_id, enabled=enabled)
        return list(range(start, start + n))

    def _call(self, name: str) -> None:
        self.calls[name] += 1
        if self._errors:
            raise self._errors.popleft()

    # ------------------------------------------------------------------ Backend

    def find_customers(self, query: CustomerQuery, *, limit: int = 100, offset: int | None = None) -> list[Customer]:
        self._call("find_customers")
        return _window(self._select(query), limit, offset, self.capabilities.page_size)

    def all_customers(self, query: CustomerQuery) -> Iterator[Customer]:
        self._call("all_customers")
        return iter(self._select(query))

    def count_customers(self, query: CustomerQuery) -> int:
        self._call("count_customers")
        return len(self._select(query))

    def get_customer(self, customer_id: int) -> Customer:
        self._call("get_customer")
        if customer_id not in self.customers:
            raise NotFound(f"Customer #{customer_id} was not found in the store.", status=404)
        return self.customers[customer_id]

    def update_customer(self, change: CustomerChange) -> WriteResult:
        self._check(change)
        self._call("update_customer")
        return self._apply(change)

    def update_customers(self, changes: list[CustomerChange]) -> list[WriteResult]:
        for change in changes:  # refused before anything is "sent", as the real clients do
            self._check(change)
        self._call("update_customers")
        return [self._apply(c) for c in changes]

    def delete_customer(self, customer_id: int) -> WriteResult:
        self._call("delete_customer")
        if self.customers.pop(customer_id, None) is None:
            return WriteResult(customer_id, False, 404, "not found")
        return WriteResult(customer_id, True, 200)

    def group_members(self, group_id: int, query: CustomerQuery | None = None, *, limit: int = 100,
                      offset: int | None = None) -> list[Customer]:
        self._call("group_members")
        return _window(self._members(group_id, query), limit, offset, self.capabilities.page_size)

    def all_group_members(self, group_id: int, query: CustomerQuery | None = None) -> Iterator[Customer]:
        self._call("all_group_members")
        return iter(self._members(group_id, query))

    def count_group_members(self, group_id: int, query: CustomerQuery | None = None) -> int:
        self._call("count_group_members")
        return len(self._members(group_id, query))

    def list_groups(self) -> list[CustomerGroup]:
        self._call("list_groups")
        return [self.groups[g] for g in sorted(self.groups)]

    def get_group(self, group_id: int) -> CustomerGroup:
        self._call("get_group")
        if group_id not in self.groups:
            raise NotFound(f"Customer group #{group_id} was not found in the store.", status=404)
        return self.groups[group_id]

    def close(self) -> None:
        self.calls["close"] += 1

    # ------------------------------------------------------------------ internals

    def _check(self, change: CustomerChange) -> None:
        for flag in ("enabled", "mail_list"):
            if getattr(change, flag) is not None and not self.capabilities.has_flag(flag):
                raise ValueError(f"this store has no {flag} setting")
        if change.is_empty():
            raise ValueError("nothing to change")

    def _apply(self, change: CustomerChange) -> WriteResult:
        customer = self.customers.get(change.customer_id)
        if customer is None:
            return WriteResult(change.customer_id, False, 404, "not found")
        if change.group_id not in (None, 0) and change.group_id not in self.groups:
            return WriteResult(change.customer_id, False, 400, f"group {change.group_id} does not exist")
        values = {k: getattr(change, k) for k in ("group_id", "enabled", "mail_list") if getattr(change, k) is not None}
        self.customers[customer.id] = replace(customer, **values, last_update=datetime.now(timezone.utc))
        return WriteResult(customer.id, True, 200)

    def _select(self, query: CustomerQuery | None) -> list[Customer]:
        chosen = []
        for customer in sorted(self.customers.values(), key=lambda c: c.id):
            if query is not None:
                if query.email and customer.email.lower() != query.email.strip().lower():
                    continue
                if query.first_name and customer.first_name.lower() != query.first_name.strip().lower():
                    continue
                if query.last_name and customer.last_name.lower() != query.last_name.strip().lower():
                    continue
                if query.updated_since and (customer.last_update is None or _aware(customer.last_update) < _aware(query.updated_since)):
                    continue
            chosen.append(customer)
        return chosen

    def _members(self, group_id: int, query: CustomerQuery | None) -> list[Customer]:
        return [c for c in self._select(query) if c.group_id == group_id]


def _window(items: list[Customer], limit: int, offset: int | None, page_size: int) -> list[Customer]:
    skip = max(0, offset or 0)
    return items[skip: skip + max(1, min(limit, page_size))]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.astimezone()
