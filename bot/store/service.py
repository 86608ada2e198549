"""CustomerService: the store as the desk sees it — cached, single-flight, invalidated on write.

The store allows about 2 requests per second for everything the bot does, so reads are cached
and concurrent identical misses are coalesced into one store call ("single-flight": the first
caller loads, the others wait for its result or its exception). Where the cache lives is a
``Cache`` from ``cache.py``: this process (bounded ``TTLCache`` maps, the default) or Redis, shared
by every process — same rules either way.

Consistency rules:

* Every write invalidates what it touched — the customer by ID and by email, the negative
  ("no such customer") entry for that email, every member page and count, the pending list —
  even when the write failed or timed out (it may have happened).
* A write bumps a generation counter; a read that started before the write does not put its
  (possibly stale) answer into the cache, and callers after the write start a new flight.
* ``get_fresh`` and ``pending_applicants(fresh=True)`` always ask the store (used right before
  writes), and refresh the cache with what they saw.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from .backend import Backend
from .cache import Cache, CacheSpace, LocalCache, SingleFlight
from .errors import AmbiguousGroup, BadRequest, NotFound, StoreError, UnknownGroup
from .group_names import CANDIDATES, RETAIL_WORDS, names_of, nearest_groups, parse_group_id
from .models import RETAIL, Customer, CustomerChange, CustomerGroup, CustomerQuery, SearchAnswer, WriteResult
from .search import CustomerSearch

log = logging.getLogger(__name__)

T = TypeVar("T")
_MISS = object()

__all__ = ["CustomerService", "SearchAnswer", "SingleFlight"]


class _Groups(NamedTuple):
    items: tuple[CustomerGroup, ...]
    by_id: dict[int, CustomerGroup]


class CustomerService(CustomerSearch):
    """Cached, thread-safe access to customers and groups for the desk, poller and approvals."""

    def __init__(self, backend: Backend, *, ttl: float = 60.0, maxsize: int = 10_000, negative_ttl: float = 10.0,
                 timer: Callable[[], float] = time.monotonic, cache: Cache | None = None) -> None:
        """``cache``: where the cached answers live — this process (default) or Redis, shared
        by every process (``store/cache.py``)."""
        self.backend = backend
        self.ttl = ttl
        self.maxsize = maxsize
        self.negative_ttl = negative_ttl
        self._lock = threading.RLock()
        self._cache: Cache = cache if cache is not None else LocalCache(timer=timer)
        space = self._cache.space
        self._by_id = space("id", maxsize=maxsize, ttl=ttl)                  # id → Customer
        self._by_email = space("email", maxsize=maxsize, ttl=ttl)            # normalised email → id
        self._missing = space("missing", maxsize=maxsize, ttl=negative_ttl)  # normalised email → True
        self._groups = space("groups", maxsize=1, ttl=ttl)                   # "all" → tuple of groups
        self._lists = space("lists", maxsize=maxsize, ttl=ttl)               # member pages, counts, pending

    @property
    def _generation(self) -> int:
        return self._cache.generation()

    # ------------------------------------------------------------------ customers

    def find_by_email(self, email: str) -> Customer | None:
        """The customer with exactly this address (any case), or None (remembered briefly)."""
        typed = email.strip()
        key = typed.lower()
        if not key:
            return None
        with self._lock:
            hit = self._cached_email(key)
            generation = self._generation
        if hit is not _MISS:
            return hit  # type: ignore[return-value]
        return self._cache.flight(("email", key, generation), lambda: self._load_email(typed, key, generation))

    def get(self, customer_id: int) -> Customer:
        """The customer (from cache when fresh enough); ``NotFound`` if the store has no such ID."""
        with self._lock:
            hit = self._by_id.get(customer_id)
            generation = self._generation
        if hit is not None:
            return hit
        return self._cache.flight(("id", customer_id, generation), lambda: self._load_id(customer_id, generation))

    def get_fresh(self, customer_id: int) -> Customer:
        """Always from the store (before every write); refreshes the cache with the answer."""
        try:
            customer = self.backend.get_customer(customer_id)
        except NotFound:
            self.invalidate_customers([customer_id])
            raise
        with self._lock:
            old = self._by_id.get(customer_id)
            if old is not None and _email_key(old.email) != _email_key(customer.email):
                self._by_email.pop(_email_key(old.email))
            self._remember(customer)
        return customer

    def changed_since(self, since: datetime) -> list[Customer]:
        """Customers the store updated at or after ``since`` (never cached; for the poller).

        The backend formats ``since`` in its own way (store time, time zone, date format).
        """
        customers = list(self.backend.all_customers(CustomerQuery(updated_since=since)))
        if customers:
            with self._lock:
                # _remember drops the lists only for records that differ from the cached copy:
                # the poll window re-reads unchanged records every time.
                for customer in customers:
                    self._remember(customer)
        return customers

    # ------------------------------------------------------------------ groups

    def groups(self) -> list[CustomerGroup]:
        """Every customer group (all pages), in store order. ``RETAIL`` is not included."""
        return list(self._group_index().items)

    def group(self, group_id: int) -> CustomerGroup | None:
        if group_id == RETAIL.id:
            return RETAIL
        return self._group_index().by_id.get(group_id)

    def group_name(self, group_id: int) -> str:
        """A name for display; never raises (a store outage shows ``Group #id``)."""
        if group_id == RETAIL.id:
            return RETAIL.name
        try:
            group = self.group(group_id)
        except StoreError as exc:
            log.debug("group name for #%s unavailable: %s", group_id, exc)
            group = None
        return group.name if group is not None else f"Group #{group_id}"

    def resolve_group(self, text: str) -> CustomerGroup:
        """The one group ``text`` names: an ID, an exact name (any case), a retail word, or a
        unique name prefix. Raises ``UnknownGroup`` / ``AmbiguousGroup`` with candidates."""
        needle = text.strip().lower()
        groups = self.groups()
        group_id = parse_group_id(needle)
        if group_id is not None:
            return self._group_by_id(group_id, text, groups)
        if not needle:
            raise UnknownGroup(text, groups[:CANDIDATES])
        if needle in RETAIL_WORDS:
            return RETAIL
        for matches in ([g for g in groups if g.name.strip().lower() == needle],
                        [g for g in groups if g.name.strip().lower().startswith(needle)]):
            if len(matches) == 1:
                return matches[0]
            if matches:
                raise AmbiguousGroup(text, matches)
        raise UnknownGroup(text, nearest_groups(needle, groups))

    def search_groups(self, text: str, limit: int = 100) -> list[CustomerGroup]:
        """Groups for a type-ahead menu, ``RETAIL`` included: ID match, name prefix, then substring."""
        needle = text.strip().lower()
        options = [RETAIL, *self.groups()]
        if not needle:
            return options[:limit]
        group_id = parse_group_id(needle)
        by_id = [g for g in options if g.id == group_id]
        prefix = [g for g in options if any(n.startswith(needle) for n in names_of(g))]
        inside = [g for g in options if any(needle in n for n in names_of(g))]
        return list({g.id: g for g in by_id + prefix + inside}.values())[:limit]

    def group_members(self, group_id: int, *, limit: int = 20, offset: int | None = None,
                      page: int | None = None) -> list[Customer]:
        """One page of a group's members. ``offset`` = records to skip; ``page`` (1-based) is a
        shortcut for ``offset=(page-1)*limit``."""
        if page is not None:
            offset = (max(1, page) - 1) * limit
        skip = offset or 0
        load = lambda: tuple(self.backend.group_members(group_id, limit=limit, offset=skip or None))  # noqa: E731
        return list(self._cached(self._lists, ("members", group_id, limit, skip), load))

    def count_members(self, group_id: int) -> int:
        return self._cached(self._lists, ("count", group_id), lambda: self.backend.count_group_members(group_id))

    def pending_applicants(self, *, fresh: bool = False, in_groups: Iterable[int] | None = None) -> list[Customer]:
        """Disabled customers in groups that do not auto-approve (wholesale applicants).

        Scans only those groups' members. ``fresh=True`` re-reads the members from the store
        (before "Approve all") and refreshes the cache with the result; the group list itself
        comes from the cache: which groups auto-approve changes rarely, who is waiting changes
        all the time. ``in_groups`` narrows a fresh re-read to the groups named, so approving a
        batch costs one read per group the batch is in, plus the one bulk write.
        """
        if not fresh:
            return list(self._cached(self._lists, ("pending",), lambda: self._scan_pending(self.groups())))
        with self._lock:
            generation = self._generation
        groups = self.groups()
        if in_groups is not None:
            wanted = set(in_groups)
            groups = [g for g in groups if g.id in wanted]
        applicants = self._scan_pending(groups)
        with self._lock:
            if in_groups is None:
                self._lists.put(("pending",), applicants, generation=generation)
        return list(applicants)

    def peek(self, customer_id: int) -> Customer | None:
        """The cached customer, or None; never asks the store."""
        with self._lock:
            return self._by_id.get(customer_id)

    # ------------------------------------------------------------------ writes

    def update(self, change: CustomerChange) -> WriteResult:
        """Write one change (only its non-None fields). Raises if the store refused it."""
        if change.is_empty():
            raise ValueError(f"nothing to change for customer #{change.customer_id}")
        try:
            result = self.backend.update_customer(change)
        finally:
            self.invalidate_customers([change.customer_id])
        return _checked(result, change.customer_id)

    def move(self, customer_id: int, group_id: int) -> WriteResult:
        return self.update(CustomerChange(customer_id, group_id=group_id))

    def set_flags(self, customer_id: int, *, enabled: bool | None = None, mail_list: bool | None = None) -> WriteResult:
        return self.update(CustomerChange(customer_id, enabled=enabled, mail_list=mail_list))

    def delete(self, customer_id: int) -> WriteResult:
        try:
            result = self.backend.delete_customer(customer_id)
        finally:
            self.invalidate_customers([customer_id])
        return _checked(result, customer_id)

    def update_many(self, changes: list[CustomerChange]) -> list[WriteResult]:
        """One bulk PUT; returns each record's result (read them: some may have failed)."""
        if not changes:
            return []
        try:
            return self.backend.update_customers(list(changes))
        finally:
            self.invalidate_customers([c.customer_id for c in changes])

    # ------------------------------------------------------------------ cache control

    def invalidate_customers(self, customers: Iterable[Customer | int]) -> None:
        """Forget these customers (by ID and email) and every list that may contain them."""
        with self._lock:
            self._cache.bump()
            for item in customers:
                customer_id = item.id if isinstance(item, Customer) else int(item)
                emails = {_email_key(item.email)} if isinstance(item, Customer) else set()
                cached = self._by_id.pop(customer_id)
                if cached is not None:
                    emails.add(_email_key(cached.email))
                for email in emails:
                    self._by_email.pop(email)
                    self._missing.pop(email)
            self._lists.clear()

    def invalidate_groups(self) -> None:
        with self._lock:
            self._cache.bump()
            self._groups.clear()
            self._lists.clear()

    def cache_info(self) -> dict[str, Any]:
        with self._lock:
            groups = self._groups.get("all")
            return {
                "customers": len(self._by_id),
                "emails": len(self._by_email),
                "negative": len(self._missing),
                "groups": len(groups) if groups is not None else 0,
                "lists": len(self._lists),
                "in_flight": self._cache.in_flight(),
                "maxsize": self.maxsize,
                "ttl": self.ttl,
                "negative_ttl": self.negative_ttl,
            }

    def clear(self) -> None:
        with self._lock:
            self._cache.bump()
            for cache in (self._by_id, self._by_email, self._missing, self._groups, self._lists):
                cache.clear()

    # ------------------------------------------------------------------ internals

    def _cached(self, cache: CacheSpace, key: Hashable, load: Callable[[], T]) -> T:
        """``cache[key]``, loading it once (single-flight) on a miss."""
        with self._lock:
            hit = cache.get(key, _MISS)
            generation = self._generation
        if hit is not _MISS:
            return hit  # type: ignore[return-value]

        def fill() -> T:
            with self._lock:
                again = cache.get(key, _MISS)
            if again is not _MISS:
                return again  # type: ignore[return-value]
            value = load()
            with self._lock:
                cache.put(key, value, generation=generation)
            return value

        return self._cache.flight((cache.name, key, generation), fill)

    def _cached_email(self, key: str) -> Customer | None | object:
        """Cached answer for an email (caller holds the lock): a Customer, None, or _MISS."""
        if self._missing.get(key):
            return None
        customer_id = self._by_email.get(key)
        customer = self._by_id.get(customer_id) if customer_id is not None else None
        return customer if customer is not None else _MISS

    def _load_email(self, typed: str, key: str, generation: int) -> Customer | None:
        with self._lock:
            hit = self._cached_email(key)
        if hit is not _MISS:
            return hit  # type: ignore[return-value]
        found = self._search_email(typed, key)
        if found is None and typed != key:
            found = self._search_email(key, key)  # in case the store's filter is case-sensitive
        with self._lock:
            if found is not None:
                self._remember(found, generation)
            else:
                self._missing.put(key, True, generation=generation)
        return found

    def _search_email(self, address: str, key: str) -> Customer | None:
        """Ask the store with ``address``; keep only an exact (case-insensitive) match."""
        fallback = None
        for customer in self.backend.all_customers(CustomerQuery(email=address)):
            if customer.email.strip() == address:
                return customer
            if fallback is None and _email_key(customer.email) == key:
                fallback = customer
        return fallback

    def _load_id(self, customer_id: int, generation: int) -> Customer:
        with self._lock:
            hit = self._by_id.get(customer_id)
        if hit is not None:
            return hit
        customer = self.backend.get_customer(customer_id)
        with self._lock:
            self._remember(customer, generation)
        return customer

    def _remember(self, customer: Customer, generation: int | None = None) -> None:
        """Cache a customer read from the store (caller holds the lock).

        A record that differs from the cached copy was changed in the store behind the bot's
        back: the lists that may show it (pages, counts, pending) are dropped too.
        """
        key = _email_key(customer.email)
        cached = self._by_id.get(customer.id)
        if cached is not None and cached != customer:
            self._lists.clear()
        if generation is not None and generation != self._generation:
            return  # read before a write: possibly stale
        self._by_id.put(customer.id, customer, generation=generation)
        if key:
            self._by_email.put(key, customer.id, generation=generation)
            self._missing.pop(key)

    def _group_index(self) -> _Groups:
        return _index(self._cached(self._groups, "all", lambda: tuple(self.backend.list_groups())))

    def _group_by_id(self, group_id: int, text: str, groups: list[CustomerGroup]) -> CustomerGroup:
        if group_id == RETAIL.id:
            return RETAIL
        known = self._group_index().by_id.get(group_id)
        if known is not None:
            return known
        try:  # created since the list was cached?
            group = self.backend.get_group(group_id)
        except NotFound:
            raise UnknownGroup(text, nearest_groups(text.strip().lower(), groups)) from None
        self.invalidate_groups()
        return group

    def _scan_pending(self, groups: Iterable[CustomerGroup]) -> tuple[Customer, ...]:
        applicants: list[Customer] = []
        for group in groups:
            if group.id != RETAIL.id and not group.auto_approve:
                applicants.extend(c for c in self.backend.all_group_members(group.id) if not c.enabled)
        with self._lock:
            for customer in applicants:
                self._remember(customer)
        return tuple(applicants)


# ---------------------------------------------------------------------- helpers


def _email_key(email: str) -> str:
    return email.strip().lower()


def _index(groups: Iterable[CustomerGroup]) -> _Groups:
    items = tuple(groups)
    return _Groups(items, {g.id: g for g in items})


def _checked(result: WriteResult, customer_id: int) -> WriteResult:
    """A single write's result, or the typed error when the store did not accept it."""
    if result.ok:
        return result
    if result.status == 404:
        raise NotFound(result.message or f"Customer #{customer_id} was not found in the store.", status=404)
    raise BadRequest(result.message or f"The store did not accept the change (status {result.status}).",
                     status=result.status)

