"""Customer search through ``CustomerService``: a few filtered store requests sent together
(plus, optionally, one unfiltered page), their answers cached like lookups.

A mixin of ``CustomerService`` (``service.py``), apart from it because it is its own concern:
the desk's search (``bot/search.py`` and ``bot/finder.py``) decides what to ask and what really
matches; this only asks the store, within ``MAX_SEARCH_REQUESTS``, and caches what it saw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .backend import Backend
from .backend import search_filters as _search_filters
from .cache import CacheSpace
from .models import Customer, CustomerQuery, SearchAnswer

MAX_SEARCH_REQUESTS = 3
SEARCH_PAGE = 100
"""Records asked for per search request: enough for any name, one page of the store's."""


class CustomerSearch:
    """``search_customers`` and ``search_filters`` (the service's cache and lock are its own)."""

    backend: Backend
    _lock: Any
    _lists: CacheSpace
    _cached: Callable[..., Any]
    _remember: Callable[..., None]

    @property
    def search_filters(self) -> frozenset[str]:
        """The customer filters the store supports (``CustomerQuery`` field names)."""
        return _search_filters(self.backend)

    def search_customers(self, queries: Sequence[CustomerQuery], *, limit: int = SEARCH_PAGE,
                         scan: int = 0) -> SearchAnswer:
        """What the store answers to each of ``queries`` (one page of ``limit`` records each)
        and, with ``scan``, to one unfiltered page of ``scan`` records (at most the store's
        largest page): one store request each,
        at most ``MAX_SEARCH_REQUESTS`` in all. The caller decides what really matches.

        Cached like lookups (single-flight, dropped on every write); each customer seen is
        cached by ID, so opening one of them from a result list costs no request.
        """
        queries = tuple(queries)
        scan = self.scan_limit(scan) if scan else 0
        if len(queries) + (1 if scan else 0) > MAX_SEARCH_REQUESTS:
            raise ValueError(f"a search may cost at most {MAX_SEARCH_REQUESTS} store requests")
        unsupported = {f for q in queries for f in _set_fields(q)} - self.search_filters
        if unsupported:
            raise ValueError(f"{self.backend.name} cannot filter customers by {', '.join(sorted(unsupported))}")
        return self._cached(self._lists, ("search", queries, limit, scan), lambda: self._search(queries, limit, scan))

    def scan_limit(self, records: int) -> int:
        """The records an unfiltered page of ``records`` really holds: at most the store's
        largest page (BigCommerce 250, 3dcart 300), so a page that comes back that long is
        known to be full and the answer can say how many customers were read."""
        capabilities = getattr(self.backend, "capabilities", None)
        return max(1, min(int(records), int(getattr(capabilities, "page_size", SEARCH_PAGE))))

    def _search(self, queries: tuple[CustomerQuery, ...], limit: int, scan: int) -> SearchAnswer:
        """The requests go out together (each is independent; the client's rate limiter still
        paces them), so a search takes about one store round trip, not three."""
        asks = [(q, limit) for q in queries] + ([(CustomerQuery(), scan)] if scan else [])
        if not asks:
            return SearchAnswer((), requests=0, full=False)
        with ThreadPoolExecutor(max_workers=len(asks), thread_name_prefix="search") as pool:
            futures = [pool.submit(self.backend.find_customers, q, limit=size) for q, size in asks]
            pages = [f.result() for f in futures]
        found: dict[int, Customer] = {}
        full = False
        for page in pages[:len(queries)]:
            full = full or len(page) >= limit
            for customer in page:
                found.setdefault(customer.id, customer)
        filtered = set(found)
        scanned = pages[len(queries)] if scan else []
        for customer in scanned:
            found.setdefault(customer.id, customer)
        with self._lock:
            for customer in found.values():
                self._remember(customer)
        return SearchAnswer(tuple(found.values()), requests=len(queries) + (1 if scan else 0), full=full,
                            scan_only=frozenset(found) - filtered, scan_full=bool(scan) and len(scanned) >= scan)


def _set_fields(query: CustomerQuery) -> set[str]:
    return {name for name, value in vars(query).items() if value is not None}
