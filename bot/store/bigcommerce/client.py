"""BigCommerce API v2 client: seed 003's customer operations and the customer-group reads,
behind ``Backend``, on the shared store HTTP layer (``bot/store/http.py``).

Choices worth knowing (facts in ``/work/shared/reference/bigcommerce.md``):

* **No bulk delete.** ``DELETE /customers.json`` deletes *every* customer when no filter is
  given. This client has no method that sends it, and every path it builds for a DELETE names
  one customer id (``tests/test_bigcommerce.py`` proves it).
* **No bulk update in v2.** ``update_customers`` sends one ``PUT /customers/{id}.json`` per
  customer, each within the call budget, and reports each record. A per-record refusal (400,
  404, 409) moves on to the next; once the store stops answering or rate-limits past the
  budget, the rest are reported as not sent (nothing is guessed, nothing is sent twice).
* **Paging** is ``page`` (from 1) and ``limit`` (≤ 250). ``Backend`` offsets ("records to
  skip") become pages; an offset that is not a multiple of the limit costs a second page. An
  empty list answers ``204 No Content`` or ``[]``: both are "no records".
* **Counts.** ``GET /customers/count.json`` takes no parameters (seed 003), so a filtered count
  (a group's members) is counted by reading the ids, 250 a page.
* **Rate limits**: on 429 the layer waits ``X-Rate-Limit-Time-Reset-Ms`` (if it fits in the
  budget), and when ``X-Rate-Limit-Requests-Left`` nears 0 it holds the next requests until the
  window resets, so the bot slows down before the store refuses it.
* **Groups**: a plan without customer groups answers 403 (or an empty list) on
  ``/customer_groups``: both read as "no groups".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import requests

from ..backend import Capabilities, StoreHints
from ..errors import AuthFailed, BadRequest, NotFound, StoreError, Unavailable
from ..identity import exact_email, require_id, same_customer
from ..http import BudgetRetry, StoreHttp, StoreReply, TokenBucket, requests_left_slowdown, reset_ms_header
from ..models import Customer, CustomerChange, CustomerGroup, CustomerQuery, WriteResult
from . import mapping as v2

log = logging.getLogger(__name__)

T = TypeVar("T")
FIND_PAGE = 100
CUSTOMERS = "customers.json"
GROUPS = "customer_groups.json"


def customer_path(customer_id: int) -> str:
    """The one-customer path; an id that is not a positive integer is refused before any request
    (so no DELETE can ever be built for the collection)."""
    if isinstance(customer_id, bool) or int(customer_id) < 1 or int(customer_id) != customer_id:
        raise ValueError(f"not a customer id: {customer_id!r}")
    return f"customers/{int(customer_id)}.json"


class BigCommerceClient:
    """``Backend`` for BigCommerce API v2 (customers, customer groups)."""

    name = "bigcommerce"
    capabilities = Capabilities(has_enabled=False, has_mail_list=False, page_size=v2.MAX_LIMIT,
                                bulk_update_size=1, lists_customers_without_group=True)
    hints = StoreHints(
        label="BigCommerce",
        credentials="BIGCOMMERCE_STORE_HASH and BIGCOMMERCE_ACCESS_TOKEN (an API account token with "
                    "the Customers modify scope)",
    )

    def __init__(
        self,
        api_url: str,
        access_token: str,
        *,
        timeout: float = 10.0,
        total_budget: float = 10.0,
        requests_per_second: float | None = None,
        burst: int = 40,
        retries: int = 4,
        backoff_factor: float = 0.3,
        backoff_max: float = 2.0,
        scan_page_size: int = v2.MAX_LIMIT,
        session: requests.Session | None = None,
        pool_size: int = 32,
    ) -> None:
        token = access_token.strip()
        self.scan_page_size = max(1, min(int(scan_page_size), v2.MAX_LIMIT))
        self.http = StoreHttp(
            api_url,
            headers={"X-Auth-Token": token, "Accept": "application/json"},
            secrets=(token,),
            timeout=timeout,
            budget=total_budget,
            limiter=TokenBucket(requests_per_second, burst) if requests_per_second else None,
            session=session,
            name="bigcommerce",
            retry=BudgetRetry(total=retries, backoff_factor=backoff_factor, backoff_max=backoff_max),
            retry_wait=reset_ms_header(),
            slowdown=requests_left_slowdown(),
            auth_hint="Check " + self.hints.credentials + ".",
            pool_size=pool_size,
        )

    # ------------------------------------------------------------------ Backend: customers

    def find_customers(self, query: CustomerQuery, *, limit: int = FIND_PAGE, offset: int | None = None) -> list[Customer]:
        page = self._page(CUSTOMERS, v2.query_params(query), self._customer, limit, offset)
        return list(exact_email(page, query.email))

    def all_customers(self, query: CustomerQuery) -> Iterator[Customer]:
        return exact_email(self._scan(CUSTOMERS, v2.query_params(query), self._customer), query.email)

    def count_customers(self, query: CustomerQuery) -> int:
        params = v2.query_params(query)
        if params:
            return sum(1 for _ in self._scan(CUSTOMERS, params, _id_only))
        return self._count("customers/count.json")

    def get_customer(self, customer_id: int) -> Customer:
        customer = self._one(customer_path(customer_id), self._customer, f"Customer #{customer_id}")
        return same_customer(customer_id, customer, store=self.name)

    def create_customer(self, customer: Customer | Mapping[str, Any]) -> WriteResult:
        """POST one new customer (``first_name``, ``last_name`` and ``email`` are required)."""
        reply = self.http.call("POST", CUSTOMERS, json_body=v2.customer_to_v2(customer))
        if 200 <= reply.status < 300:
            created = reply.body if isinstance(reply.body, Mapping) else {}
            return WriteResult(v2.integer(created.get("id")) or None, True, reply.status)
        return WriteResult(None, False, reply.status, self._message(reply))

    def create_customers(self, customers: Sequence[Customer | Mapping[str, Any]]) -> list[WriteResult]:
        """v2 creates one customer per request."""
        return [self.create_customer(c) for c in customers]

    def update_customer(self, change: CustomerChange) -> WriteResult:
        body = v2.change_to_v2(change)
        reply = self.http.call("PUT", customer_path(change.customer_id), json_body=body)
        return self._result(reply, change.customer_id)

    def update_customers(self, changes: list[CustomerChange]) -> list[WriteResult]:
        """One PUT per customer (v2 has no bulk update); one result per change, in order."""
        bodies = [(c.customer_id, v2.change_to_v2(c)) for c in changes]  # refuse bad changes before sending
        results: list[WriteResult] = []
        stopped: StoreError | None = None
        for customer_id, body in bodies:
            if stopped is not None:
                results.append(WriteResult(customer_id, False, 0, f"Not sent: {stopped.message}"))
                continue
            try:
                reply = self.http.call("PUT", customer_path(customer_id), json_body=body)
            except StoreError as exc:
                results.append(WriteResult(customer_id, False, exc.status or 0, exc.message))
                stopped = exc
                continue
            results.append(self._result(reply, customer_id))
        return results

    def delete_customer(self, customer_id: int) -> WriteResult:
        """DELETE one customer by id. (There is deliberately no way to send ``DELETE /customers``.)"""
        reply = self.http.call("DELETE", customer_path(customer_id))
        return self._result(reply, customer_id)

    def group_members(self, group_id: int, query: CustomerQuery | None = None, *, limit: int = FIND_PAGE,
                      offset: int | None = None) -> list[Customer]:
        params = v2.query_params(query, group_id=group_id)
        page = self._page(CUSTOMERS, params, self._customer, limit, offset)
        return list(exact_email(page, query.email if query else None))

    def all_group_members(self, group_id: int, query: CustomerQuery | None = None) -> Iterator[Customer]:
        scan = self._scan(CUSTOMERS, v2.query_params(query, group_id=group_id), self._customer)
        return exact_email(scan, query.email if query else None)

    def count_group_members(self, group_id: int, query: CustomerQuery | None = None) -> int:
        params = v2.query_params(query, group_id=group_id)
        return sum(1 for _ in self._scan(CUSTOMERS, params, _id_only))

    # ------------------------------------------------------------------ Backend: groups

    def list_groups(self) -> list[CustomerGroup]:
        try:
            return list(self._scan(GROUPS, {}, v2.group_from_v2))
        except AuthFailed as exc:
            if exc.status == 403:  # a plan without customer groups
                log.info("BigCommerce answered 403 on customer groups: treating the store as having none")
                return []
            raise

    def get_group(self, group_id: int) -> CustomerGroup:
        return self._one(f"customer_groups/{int(group_id)}.json", v2.group_from_v2, f"Customer group #{group_id}")

    def count_groups(self) -> int:
        return self._count("customer_groups/count.json")

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> BigCommerceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reads

    def _page(self, path: str, params: dict[str, str], parse: Callable[[Mapping[str, Any]], T],
              limit: int, offset: int | None) -> list[T]:
        """``limit`` records after skipping ``offset``: one page when the offset falls on a page
        boundary, else the two pages that hold the window."""
        size = max(1, min(int(limit), v2.MAX_LIMIT))
        skip = max(0, int(offset or 0))
        first = skip // size + 1
        items = self._list(path, {**params, "page": str(first), "limit": str(size)})
        start = skip - (first - 1) * size
        if start and len(items) == size:
            items += self._list(path, {**params, "page": str(first + 1), "limit": str(size)})
        return [parse(item) for item in items[start:start + size]]

    def _scan(self, path: str, params: dict[str, str], parse: Callable[[Mapping[str, Any]], T]) -> Iterator[T]:
        """Every record, page by page until a short or empty page (ids de-duplicated)."""
        size = self.scan_page_size
        seen: set[Any] = set()
        page = 1
        while True:
            items = self._list(path, {**params, "page": str(page), "limit": str(size)})
            fresh = [item for item in items if item.get("id") not in seen]
            for item in fresh:
                seen.add(item.get("id"))
                yield parse(item)
            if len(items) < size or not fresh:
                return
            page += 1

    def _list(self, path: str, params: dict[str, str]) -> list[Mapping[str, Any]]:
        """One list page: ``[]`` for 204 No Content or ``[]``; typed errors otherwise."""
        reply = self.http.call("GET", path, params=params)
        if reply.status == 204 or (200 <= reply.status < 300 and reply.empty):
            return []
        if not 200 <= reply.status < 300:
            raise BadRequest(self._message(reply) or f"The store rejected the request (HTTP {reply.status}).",
                             status=reply.status)
        if not isinstance(reply.body, list):
            raise Unavailable("The store answered a list request with something that is not a list.",
                              status=reply.status)
        return [item for item in reply.body if isinstance(item, Mapping)]

    def _one(self, path: str, parse: Callable[[Mapping[str, Any]], T], label: str) -> T:
        reply = self.http.call("GET", path)
        if reply.status == 404:
            raise NotFound(f"{label} was not found in the store.", status=404)
        if not 200 <= reply.status < 300:
            raise BadRequest(self._message(reply) or f"The store rejected the request (HTTP {reply.status}).",
                             status=reply.status)
        if not isinstance(reply.body, Mapping):
            raise Unavailable("The store answered with something that is not a record.", status=reply.status)
        return parse(reply.body)

    def _count(self, path: str) -> int:
        reply = self.http.call("GET", path)
        if not 200 <= reply.status < 300:
            raise BadRequest(self._message(reply) or f"The store rejected the request (HTTP {reply.status}).",
                             status=reply.status)
        try:
            return v2.parse_count(reply.body)
        except ValueError:
            raise Unavailable("The store answered a count request with something that is not a count.") from None

    # ------------------------------------------------------------------ writes

    def _result(self, reply: StoreReply, record_id: int) -> WriteResult:
        if 200 <= reply.status < 300:
            return WriteResult(record_id, True, reply.status)
        if reply.status == 404:
            return WriteResult(record_id, False, 404, f"Customer #{record_id} was not found in the store.")
        return WriteResult(record_id, False, reply.status,
                           self._message(reply) or f"The store did not accept the change (HTTP {reply.status}).")

    def _customer(self, raw: Mapping[str, Any]) -> Customer:
        """A v2 record → ``Customer``; one without a usable id is unreadable, never customer 0."""
        return require_id(v2.customer_from_v2(raw), store=self.name)

    def _message(self, reply: StoreReply) -> str:
        return self.http.scrub(v2.store_message(reply.body))


def _id_only(raw: Mapping[str, Any]) -> int:
    return v2.integer(raw.get("id"))


__all__ = ["BigCommerceClient", "customer_path"]
