"""3dcart REST API v1 client: the 13 Customers / CustomerGroups operations behind ``Backend``.

Everything 3dcart-specific lives here: URLs, header names, field names, paging quirks, and how
status codes turn into ``store.errors``. The rest of the bot sees only ``store.models``.

Choices worth knowing (see ``/work/shared/reference/3dcart.md`` for the facts behind them):

* **Transport** is ``bot.store.http.StoreHttp``: one pooled session, one hard deadline per call
  (``total_budget``: limiter, connect, retries, ``Retry-After`` waits and the body transfer), a
  bound on the reply size, retries (reads on 429/5xx/transport errors; writes only on 429 and
  when the connection could not be opened), status mapping and secret scrubbing. What is
  3dcart's is given to it here: the three auth headers, ``Retry-After``, and the 404 rule
  (``_errors``: only an empty or JSON "no records" 404 is an empty list; an HTML 404 or ASP.NET's
  "No HTTP resource was found" is ``Misconfigured`` naming ``THREEDCART_API_URL``).
* **Identity**: a record without a usable ``CustomerID`` is unreadable (``WrongRecord``, never
  customer 0); ``get_customer`` checks the answer is the customer asked for; an ``email`` filter
  keeps only exact (trimmed, case-insensitive) matches (``bot.store.identity``).
* **Write results**: a record is done only when its ``Status`` is a 2xx number; an empty or
  unreadable answer is in doubt (``Unavailable``), never done.
* **Offsets**: ``Backend`` offsets mean "records to skip" (0 = the first record). 3dcart's own
  docs disagree on whether ``offset`` starts at 0 or 1, so full scans do not assume either: the
  first page goes without ``offset``, the second asks for ``offset = records seen``, and whether
  it starts with a record we already have tells the base (see ``_scan``) — per endpoint, since
  the help pages disagree between endpoints. IDs are de-duplicated; see ``_scan`` for what ends a
  scan (not merely a short page). An explicit page (``offset`` given) needs the base before its
  first request: it is learned from a scan, detected with two one-record requests to the same
  endpoint, or set with ``offset_base``.
* **Logs** carry method, path, status, retries and milliseconds. Never headers, never bodies.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import requests

from ..backend import Capabilities, StoreHints
from ..errors import BadRequest, Misconfigured, NotFound, StoreError, Unavailable
from ..identity import exact_email, require_id, same_customer
from ..http import MAX_REPLY_BYTES, MAYBE_SAVED, BudgetRetry, Limiter, StoreHttp, StoreReply, TokenBucket, retry_after_header
from ..models import Customer, CustomerChange, CustomerGroup, CustomerQuery, WriteResult
from .mapping import (CUSTOMER_FIELDS, GROUP_FIELDS, as_int, by_sent_id, change_to_3dcart, customer_from_3dcart, field,
                      group_from_3dcart, parse_count, parse_write_results, query_params, records, store_message,
                      to_3dcart)

log = logging.getLogger(__name__)

MAX_LIMIT = 300
"""3dcart documents 500, its own sample code uses 300: never ask for more."""
FIND_PAGE = 100
SCAN_PAGE = MAX_LIMIT
CONNECT_TIMEOUT = 3.0
UNKNOWN_ROUTE = "no http resource was found"
"""ASP.NET Web API's 404 message for a route that does not exist (compared lower-case)."""
AUTH_HINT = ("Check THREEDCART_SECURE_URL, THREEDCART_PRIVATE_KEY and THREEDCART_TOKEN, and that the 3dcart "
             "app has read and write scope for Customers.")
STORE_DEFAULT_LIMIT = 10
"""3dcart's default ``limit``: a page shorter than this cannot be a capped page."""
PAST_END = "offset amount exceeds"
"""3dcart's 400 message for paging past the last record (compared lower-case)."""


def _endpoint(path: str) -> str:
    """``Customers``, ``CustomerGroups`` or ``CustomerGroups/{id}/Customers``: offset bases are
    learned per endpoint, never shared."""
    return "/".join("{id}" if part.isdigit() else part for part in path.strip("/").split("/"))


# ---------------------------------------------------------------------- the client

T = TypeVar("T")


class _PastEnd(BadRequest):
    """400 "Offset amount exceeds the total number of records": the end of a scan."""


class ThreeDCartClient:
    """``Backend`` for the 3dcart REST API v1 (plus the group and create operations)."""

    name = "3dcart"
    capabilities = Capabilities(has_enabled=True, has_mail_list=True, page_size=MAX_LIMIT,
                                bulk_update_size=MAX_LIMIT, lists_customers_without_group=False)
    hints = StoreHints(
        label="3dcart",
        credentials="THREEDCART_SECURE_URL, THREEDCART_PRIVATE_KEY and THREEDCART_TOKEN, and the 3dcart "
                    "app's read/write access",
    )

    def __init__(
        self,
        api_url: str,
        secure_url: str,
        private_key: str,
        token: str,
        *,
        timeout: float = 10.0,
        total_budget: float = 10.0,
        requests_per_second: float | None = 2.0,
        burst: int = 40,
        limiter: Limiter | None = None,
        session: requests.Session | None = None,
        retries: int = 4,
        backoff_factor: float = 0.3,
        backoff_max: float = 2.0,
        pool_size: int = 32,
        scan_page_size: int = SCAN_PAGE,
        offset_base: int | None = None,
        max_reply_bytes: int = MAX_REPLY_BYTES,
    ) -> None:
        """``limiter`` (any ``http.Limiter``, e.g. a shared Redis bucket) wins over
        ``requests_per_second``/``burst``, which build an in-process ``TokenBucket``."""
        self.timeout = timeout
        self.total_budget = total_budget
        self.scan_page_size = max(1, min(scan_page_size, MAX_LIMIT))
        self._offset_base: dict[str, int] = {}
        if offset_base is not None:
            self._offset_base = {endpoint: int(offset_base) for endpoint in ("Customers", "CustomerGroups")}
        self._offset_lock = threading.Lock()
        self._proven_page: dict[str, int] = {}
        """Per endpoint, the longest page seen: the store's cap on ``limit`` is at least that."""
        if limiter is None and requests_per_second:
            limiter = TokenBucket(requests_per_second, burst)
        self.limiter = limiter
        self.http = StoreHttp(
            api_url,
            headers={"SecureURL": secure_url.strip(), "PrivateKey": private_key.strip(), "Token": token.strip(),
                     "Accept": "application/json"},
            secrets=(secure_url, private_key, token),
            timeout=timeout, budget=total_budget, limiter=limiter, session=session, name=self.name,
            retry=BudgetRetry(total=retries, backoff_factor=backoff_factor, backoff_max=backoff_max),
            max_reply_bytes=max_reply_bytes, retry_wait=retry_after_header, errors=self._errors,
            auth_hint=AUTH_HINT, pool_size=pool_size,
        )

    # ------------------------------------------------------------------ Backend: customers

    def find_customers(self, query: CustomerQuery, *, limit: int = FIND_PAGE, offset: int | None = None) -> list[Customer]:
        page = self._page("Customers", query_params(query), self._customer, limit, offset)
        return list(exact_email(page, query.email))

    def all_customers(self, query: CustomerQuery) -> Iterator[Customer]:
        return exact_email(self._scan("Customers", query_params(query), self._customer, lambda c: c.id), query.email)

    def count_customers(self, query: CustomerQuery) -> int:
        return self._count("Customers", query_params(query))

    def get_customer(self, customer_id: int) -> Customer:
        customer = self._one(f"Customers/{int(customer_id)}", self._customer, f"Customer #{customer_id}")
        return same_customer(customer_id, customer, store=self.name)

    def create_customers(self, customers: Sequence[Customer | Mapping[str, Any]]) -> list[WriteResult]:
        """POST new customers (models, or mappings of model or 3dcart field names); the store
        assigns IDs, so a model's ``id`` is not sent."""
        bodies = [to_3dcart(c, CUSTOMER_FIELDS, skip=("id", "last_update") if isinstance(c, Customer) else ("last_update",))
                  for c in customers]
        return self._create("Customers", bodies)

    def update_customer(self, change: CustomerChange) -> WriteResult:
        _require_change(change)
        results = self._write("PUT", f"Customers/{int(change.customer_id)}", change_to_3dcart(change), [change.customer_id])
        return _single(results, change.customer_id)

    def update_customers(self, changes: list[CustomerChange]) -> list[WriteResult]:
        if not changes:
            return []
        for change in changes:
            _require_change(change)
        body = [change_to_3dcart(c, with_id=True) for c in changes]
        return self._write("PUT", "Customers", body, [c.customer_id for c in changes])

    def delete_customer(self, customer_id: int) -> WriteResult:
        return _single(self._write("DELETE", f"Customers/{int(customer_id)}", None, [customer_id]), customer_id)

    def group_members(self, group_id: int, query: CustomerQuery | None = None, *, limit: int = FIND_PAGE,
                      offset: int | None = None) -> list[Customer]:
        page = self._page(f"CustomerGroups/{int(group_id)}/Customers", query_params(query), self._customer, limit, offset)
        return list(exact_email(page, query.email if query else None))

    def all_group_members(self, group_id: int, query: CustomerQuery | None = None) -> Iterator[Customer]:
        scan = self._scan(f"CustomerGroups/{int(group_id)}/Customers", query_params(query), self._customer, lambda c: c.id)
        return exact_email(scan, query.email if query else None)

    def count_group_members(self, group_id: int, query: CustomerQuery | None = None) -> int:
        return self._count(f"CustomerGroups/{int(group_id)}/Customers", query_params(query))

    # ------------------------------------------------------------------ Backend: groups

    def list_groups(self) -> list[CustomerGroup]:
        return list(self._scan("CustomerGroups", {}, group_from_3dcart, lambda g: g.id))

    def count_groups(self) -> int:
        return self._count("CustomerGroups", {})

    def get_group(self, group_id: int) -> CustomerGroup:
        return self._one(f"CustomerGroups/{int(group_id)}", group_from_3dcart, f"Customer group #{group_id}")

    def create_groups(self, groups: Sequence[CustomerGroup | Mapping[str, Any]]) -> list[WriteResult]:
        """POST new groups (models, or mappings of model or 3dcart field names)."""
        bodies = [to_3dcart(g, GROUP_FIELDS, skip=("id",) if isinstance(g, CustomerGroup) else ()) for g in groups]
        return self._create("CustomerGroups", bodies)

    def update_group(self, group_id: int, changes: CustomerGroup | Mapping[str, Any]) -> WriteResult:
        """PUT one group: a model sends every field, a mapping only the fields it names."""
        body = to_3dcart(changes, GROUP_FIELDS, skip=("id", GROUP_FIELDS["id"]))
        return _single(self._write("PUT", f"CustomerGroups/{int(group_id)}", body, [group_id]), group_id)

    def update_groups(self, groups: Sequence[CustomerGroup | Mapping[str, Any]]) -> list[WriteResult]:
        body = [to_3dcart(g, GROUP_FIELDS) for g in groups]
        ids = [as_int(item.get(GROUP_FIELDS["id"]), default=None) for item in body]
        if any(i is None for i in ids):
            raise ValueError("every group in a bulk update needs its id")
        return self._write("PUT", "CustomerGroups", body, ids)

    def delete_group(self, group_id: int) -> WriteResult:
        return _single(self._write("DELETE", f"CustomerGroups/{int(group_id)}", None, [group_id]), group_id)

    def __enter__(self) -> ThreeDCartClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reads

    def _page(self, path: str, params: dict[str, str], parse: Callable[[Mapping[str, Any]], T],
              limit: int, offset: int | None) -> list[T]:
        params = {**params, "limit": str(_clamp_limit(limit))}
        if offset:
            params["offset"] = str(int(offset) + self._detect_offset_base(path, params))
        try:
            body = self._read(path, params)
        except _PastEnd:
            return []
        return [parse(item) for item in records(body)]

    def _scan(self, path: str, params: dict[str, str], parse: Callable[[Mapping[str, Any]], T],
              key: Callable[[T], Any]) -> Iterator[T]:
        """Every record, page by page; see the module docstring for why it is shaped like this.

        While this endpoint's offset base is unknown, the second page is asked for at ``offset =
        records seen``: a 1-based store answers it starting with the last record we already
        have, a 0-based one with a new record. That settles the base of this endpoint (for the
        rest of the scan and for this client); the repeated record is dropped by the ID
        de-duplication. The scan ends on 404, the past-the-end 400, an empty page, a page with
        nothing new (a store that ignores ``offset``), or a short page that cannot be a capped
        one: shorter than a page this endpoint has already answered, or than the store's default
        page size (no store caps ``limit`` below its own default of 10). A page merely shorter
        than asked for does not end it: a store may cap ``limit`` below what was asked.
        """
        endpoint = _endpoint(path)
        size = self.scan_page_size
        seen: set[Any] = set()
        last = None
        while True:
            page_params = {**params, "limit": str(size)}
            base = self._offset_base.get(endpoint)
            if seen:
                page_params["offset"] = str(len(seen) + (base or 0))
            try:
                items = [parse(raw) for raw in records(self._read(path, page_params))]
            except _PastEnd:
                return
            learned = False
            if seen and base is None and items:
                base = self._offset_base[endpoint] = 1 if key(items[0]) == last else 0
                learned = base == 1
            fresh = [item for item in items if key(item) not in seen]
            for item in fresh:
                seen.add(key(item))
                yield item
            if items:
                last = key(items[-1])
            proven = self._proven_page.get(endpoint, 0)
            self._proven_page[endpoint] = max(proven, len(items))
            if not items or not (fresh or learned) or len(items) < max(proven, min(size, STORE_DEFAULT_LIMIT)):
                return

    def _count(self, path: str, params: dict[str, str]) -> int:
        body = self._read(path, {**params, "countonly": "1"})
        return 0 if body is None else parse_count(body)

    def _one(self, path: str, parse: Callable[[Mapping[str, Any]], T], label: str) -> T:
        items = records(self._read(path, {}))
        if not items:
            raise NotFound(f"{label} was not found in the store.", status=404)
        return parse(items[0])

    def _read(self, path: str, params: dict[str, str]) -> Any:
        """GET → JSON body; ``None`` for 3dcart's "no records" 404; typed errors otherwise."""
        status, body = self._send("GET", path, params=params)
        if status == 404:
            return None
        if status == 400:
            message = store_message(body)
            error = _PastEnd if PAST_END in message.lower() else BadRequest
            raise error(self._scrub(message) or "The store rejected the request (HTTP 400).", status=400)
        if not 200 <= status < 300:
            raise BadRequest(self._scrub(store_message(body)) or f"The store rejected the request (HTTP {status}).", status=status)
        if body is None:
            raise Unavailable(f"The store answered HTTP {status} without a body; expected JSON.", status=status)
        return body

    def _detect_offset_base(self, path: str, params: dict[str, str]) -> int:
        """Whether this endpoint's ``offset`` starts at 0 or 1, found once with two one-record
        requests to the same endpoint (the help pages give Customers 0, CustomerGroups 1)."""
        endpoint = _endpoint(path)
        if endpoint in self._offset_base:
            return self._offset_base[endpoint]
        with self._offset_lock:
            if endpoint not in self._offset_base:
                probe = {k: v for k, v in params.items() if k not in ("limit", "offset")}
                first = records(self._read(path, {**probe, "limit": "1"}))
                if not first:
                    return 1  # no records to tell by: assume what peer clients use; ask again later
                try:
                    second = records(self._read(path, {**probe, "limit": "1", "offset": "1"}))
                except _PastEnd:
                    second = []
                key = "CustomerGroupID" if endpoint == "CustomerGroups" else "CustomerID"
                same = bool(second) and field(second[0], key) == field(first[0], key)
                self._offset_base[endpoint] = 1 if same else 0
                log.debug("3dcart offset base of %s detected: %s", endpoint, self._offset_base[endpoint])
            return self._offset_base[endpoint]

    # ------------------------------------------------------------------ writes

    def _write(self, method: str, path: str, body: Any, ids: Sequence[int | None]) -> list[WriteResult]:
        """A write → one ``WriteResult`` per record. Whole-request rejections raise; an answer
        that does not confirm each record (empty, ``[]``, no numeric 2xx ``Status``) is never
        taken as done: unreadable → ``Unavailable`` (in doubt), per-record → failed."""
        status, answer = self._send(method, path, body=body)
        results = parse_write_results(answer, status, ids, scrub=self._scrub)
        if results:
            return by_sent_id(results, ids)
        message = self._scrub(store_message(answer))
        if status == 404:
            return [WriteResult(i, False, status, message or "not found") for i in ids]
        if 200 <= status < 300:
            raise Unavailable(f"The store answered HTTP {status} without a result for the change"
                              + MAYBE_SAVED, status=status)
        raise BadRequest(message or f"The store rejected the change (HTTP {status}).", status=status)

    def _customer(self, raw: Mapping[str, Any]) -> Customer:
        """A customer record the bot may act on: one without a usable ID is unreadable data."""
        return require_id(customer_from_3dcart(raw), store=self.name)

    def _create(self, path: str, bodies: list[dict[str, Any]]) -> list[WriteResult]:
        """POST one object per record, as the docs' create examples do."""
        results: list[WriteResult] = []
        for body in bodies:
            results.extend(self._write("POST", path, body, [None])[:1])
        return results

    # ------------------------------------------------------------------ transport

    def _send(self, method: str, path: str, *, params: dict[str, str] | None = None,
              body: Any = None) -> tuple[int, Any]:
        """One call within the hard deadline → (status, JSON or None) for 2xx/400/404/other 4xx;
        ``StoreHttp`` raises the typed error for 401/403, 429, 5xx, transport failures, non-JSON."""
        reply = self.http.call(method, path, params=params, json_body=body)
        return reply.status, reply.body

    @staticmethod
    def _errors(reply: StoreReply, method: str) -> StoreError | None:
        """3dcart's own status rules (``StoreHttp`` applies the common ones after these)."""
        if reply.status == 404 and not _no_records_404(reply):
            return Misconfigured(
                "The store address answered \"not found\" with something that is not the 3dcart API "
                "(HTTP 404). Check THREEDCART_API_URL (normally https://apirest.3dcart.com/3dCartWebAPI/v1/).",
                status=404)
        return None

    def _scrub(self, text: str) -> str:
        """Belt and braces: a store message must never echo a credential back to a user."""
        return self.http.scrub(text)

    def close(self) -> None:
        self.http.close()


# ---------------------------------------------------------------------- small helpers



def _clamp_limit(limit: int) -> int:
    return max(1, min(int(limit), MAX_LIMIT))


def _require_change(change: CustomerChange) -> None:
    if change.is_empty():
        raise ValueError(f"nothing to change for customer #{change.customer_id}")


def _single(results: list[WriteResult], record_id: int) -> WriteResult:
    if not results:
        return WriteResult(record_id, False, 0, "The store sent no result for this record.")
    result = results[0]
    return result if result.record_id is not None else WriteResult(record_id, result.ok, result.status, result.message)


def _no_records_404(reply: StoreReply) -> bool:
    """3dcart's "no records" 404: an empty body, or its JSON message (not an HTML page, not the
    ASP.NET "No HTTP resource was found" of an unknown route)."""
    if reply.empty:
        return True
    if not reply.is_json:
        return False
    return UNKNOWN_ROUTE not in store_message(reply.body).lower()
