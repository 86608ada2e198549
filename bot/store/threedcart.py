"""3dcart REST API v1 client: the 13 Customers / CustomerGroups operations behind ``Backend``.

Everything 3dcart-specific lives here: URLs, header names, field names, paging quirks, and how
status codes turn into ``store.errors``. The rest of the bot sees only ``store.models``.

Choices worth knowing (see ``/work/shared/reference/3dcart.md`` for the facts behind them):

* **Retries** are urllib3's ``Retry`` on one pooled ``requests.Session``. ``GET`` is retried
  on 429/5xx and on read errors. ``PUT``/``POST``/``DELETE`` are retried on 429 (the store's
  bucket refused them unprocessed) and when the connection could not be opened (the store never
  saw the request), never after a 5xx or a timeout. ``DELETE`` is deliberately
  not retried after it was sent: a retried delete that had in fact succeeded answers 404, and
  "already deleted" is better decided by the caller (the desk says so) than guessed here.
* **Budget**: every call has ``total_budget`` seconds, shared by the client-side rate limiter,
  backoff sleeps and ``Retry-After`` waits. A wait that does not fit ends the call at once
  (``RateLimited`` for 429, ``Unavailable`` otherwise) instead of sleeping past the budget; a
  read timeout is retried only if a whole new attempt still fits.
* **Offsets**: ``Backend`` offsets mean "records to skip" (0 = the first record). 3dcart's own
  docs disagree on whether ``offset`` starts at 0 or 1, so full scans do not assume either: the
  first page goes without ``offset``, the second asks for ``offset = records seen``, and whether
  it starts with a record we already have tells the base (see ``_scan``). IDs are de-duplicated;
  a short page, a page with nothing new, 404 or 400 "Offset amount exceeds ..." end the scan.
  An explicit page (``offset`` given) needs the base before its first request: it is learned
  from a scan, detected with two tiny group-list requests, or set with ``offset_base``.
* **Logs** carry method, path, status, retries and milliseconds. Never headers, never bodies.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, fields as dataclass_fields
from datetime import datetime
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from .backend import Capabilities, StoreHints
from .errors import AuthFailed, BadRequest, NotFound, RateLimited, Unavailable
from .models import Customer, CustomerChange, CustomerGroup, CustomerQuery, WriteResult

log = logging.getLogger(__name__)

MAX_LIMIT = 300
"""3dcart documents 500, its own sample code uses 300: never ask for more."""
FIND_PAGE = 100
SCAN_PAGE = MAX_LIMIT
CONNECT_TIMEOUT = 3.0
DATE_FORMAT = "%m/%d/%Y %H:%M:%S"
"""3dcart's dates (``lastupdatestart``), in store time."""
PAST_END = "offset amount exceeds"
"""3dcart's 400 message for paging past the last record (compared lower-case)."""

# ---------------------------------------------------------------------- field mapping

CUSTOMER_FIELDS: dict[str, str] = {
    "id": "CustomerID",
    "email": "Email",
    "first_name": "BillingFirstName",
    "last_name": "BillingLastName",
    "company": "BillingCompany",
    "phone": "BillingPhoneNumber",
    "group_id": "CustomerGroupID",
    "enabled": "Enabled",
    "mail_list": "MailList",
    "non_taxable": "NonTaxable",
    "store_credit": "TotalStoreCredit",
    "comments": "Comments",
}
"""``Customer`` attribute → 3dcart field. ``last_update`` is read-only (see ``LAST_UPDATE_FIELDS``)."""

LAST_UPDATE_FIELDS = ("LastUpdate", "LastUpdated", "DateUpdated")
"""Not in the documented Customer object; shown when a store sends one of these anyway."""

GROUP_FIELDS: dict[str, str] = {
    "id": "CustomerGroupID",
    "name": "Name",
    "description": "Description",
    "minimum_order": "MinimumOrder",
    "non_taxable": "NonTaxable",
    "allow_registration": "AllowRegistration",
    "disable_reward_points": "DisableRewardPoints",
    "auto_approve": "AutoApprove",
    "registration_message": "RegistrationMessage",
    "price_level": "PriceLevel",
}

QUERY_PARAMS: dict[str, str] = {
    "email": "email",
    "first_name": "firstname",
    "last_name": "lastname",
    "country": "country",
    "state": "state",
    "city": "city",
    "phone": "phone",
    "updated_since": "lastupdatestart",
    "updated_until": "lastupdateend",
}

_TRUE = {"true", "1", "yes", "y", "on"}


def _field(raw: Mapping[str, Any], name: str) -> Any:
    """``raw[name]``, tolerating a store that changes the case of field names."""
    if name in raw:
        return raw[name]
    lowered = name.lower()
    for key, value in raw.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _int(value: Any, default: int | None = 0) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            number = float(str(value).strip())
        except ValueError:
            return default
        return int(number) if math.isfinite(number) and number.is_integer() else default


def _float(value: Any, default: float = 0.0) -> float:
    if value is None or isinstance(value, bool):
        return default
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default


def _bool(value: Any, default: bool = False) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return default
    if isinstance(value, (int, float)):
        return value != 0
    text = str(value).strip().lower()
    if not text:
        return default
    return text in _TRUE


def _date(value: Any) -> datetime | None:
    """A 3dcart date (``mm/dd/yyyy hh:mm:ss``, or ISO) as naive store time; None if unreadable."""
    text = _text(value)
    for parse in (lambda t: datetime.strptime(t, DATE_FORMAT), lambda t: datetime.strptime(t, "%m/%d/%Y"),
                  datetime.fromisoformat):
        try:
            return parse(text)
        except ValueError:
            continue
    return None


def format_date(moment: datetime) -> str:
    """A moment as 3dcart compares it: store time, which the sandbox (and the bot) share with the
    host, so an aware time is converted to this host's local time."""
    local = moment.astimezone().replace(tzinfo=None) if moment.tzinfo is not None else moment
    return local.strftime(DATE_FORMAT)


def customer_from_3dcart(raw: Mapping[str, Any]) -> Customer:
    """A 3dcart Customer object → ``Customer``. Missing or null fields get the model defaults."""
    get = lambda attr: _field(raw, CUSTOMER_FIELDS[attr])  # noqa: E731
    last_update = next((_date(_field(raw, f)) for f in LAST_UPDATE_FIELDS if _date(_field(raw, f))), None)
    return Customer(
        id=_int(get("id")) or 0,
        email=_text(get("email")),
        first_name=_text(get("first_name")),
        last_name=_text(get("last_name")),
        company=_text(get("company")),
        phone=_text(get("phone")),
        group_id=_int(get("group_id")) or 0,
        enabled=_bool(get("enabled"), default=True),
        mail_list=_bool(get("mail_list")),
        non_taxable=_bool(get("non_taxable")),
        store_credit=_float(get("store_credit")),
        comments=_text(get("comments")),
        last_update=last_update,
    )


def group_from_3dcart(raw: Mapping[str, Any]) -> CustomerGroup:
    get = lambda attr: _field(raw, GROUP_FIELDS[attr])  # noqa: E731
    return CustomerGroup(
        id=_int(get("id")) or 0,
        name=_text(get("name")),
        description=_text(get("description")),
        auto_approve=_bool(get("auto_approve"), default=True),
        allow_registration=_bool(get("allow_registration"), default=True),
        non_taxable=_bool(get("non_taxable")),
        minimum_order=_float(get("minimum_order")),
        price_level=_int(get("price_level")) or 0,
        disable_reward_points=_bool(get("disable_reward_points")),
        registration_message=_text(get("registration_message")),
    )


def change_to_3dcart(change: CustomerChange, *, with_id: bool = False) -> dict[str, Any]:
    """Only the fields that change (3dcart's PUT leaves unsent fields alone)."""
    body: dict[str, Any] = {CUSTOMER_FIELDS["id"]: change.customer_id} if with_id else {}
    for attr in ("group_id", "enabled", "mail_list"):
        value = getattr(change, attr)
        if value is not None:
            body[CUSTOMER_FIELDS[attr]] = value
    return body


def _to_3dcart(record: Any, mapping: Mapping[str, str], *, skip: Iterable[str] = ()) -> dict[str, Any]:
    """A model instance (every field) or a partial mapping (model or 3dcart names) → 3dcart JSON.

    Keys that are not model attribute names pass through unchanged, so callers can also send
    3dcart-only fields (``Password``, ``BillingAddress1`` ...).
    """
    skipped = set(skip)
    if hasattr(record, "__dataclass_fields__"):
        names = {f.name for f in dataclass_fields(record)}
        items = {k: v for k, v in asdict(record).items() if k in mapping and k in names}
    elif isinstance(record, Mapping):
        items = dict(record)
    else:
        raise TypeError(f"expected a model or a mapping, not {type(record).__name__}")
    return {mapping.get(key, key): value for key, value in items.items() if key not in skipped}


def query_params(query: CustomerQuery | None) -> dict[str, str]:
    if query is None:
        return {}
    params: dict[str, str] = {}
    for attr, param in QUERY_PARAMS.items():
        value = getattr(query, attr)
        if isinstance(value, datetime):
            params[param] = format_date(value)
        elif value is not None and str(value).strip():
            params[param] = str(value).strip()
    return params


# ---------------------------------------------------------------------- answers


def _items(body: Any) -> list[Mapping[str, Any]]:
    """A JSON answer as a list of objects (3dcart wraps single records in a one-element array)."""
    if isinstance(body, list):
        return [item for item in body if isinstance(item, Mapping)]
    if isinstance(body, Mapping):
        return [body]
    return []


def store_message(body: Any) -> str:
    """The store's own error text from ``[{"Message": ...}]`` or ``{"Message": ...}``."""
    messages = [_text(_field(item, "Message")) for item in _items(body)]
    return "; ".join(dict.fromkeys(m for m in messages if m))[:500]


def parse_count(body: Any) -> int:
    """``countonly`` answers: ``{"TotalCount": n}``, a one-element array of it, or a bare number."""
    if isinstance(body, (int, float)) and not isinstance(body, bool):
        return int(body)
    for item in _items(body):
        for key in ("TotalCount", "Count", "Total"):
            value = _int(_field(item, key), default=None)
            if value is not None:
                return value
    raise Unavailable("The store answered a count request with something that is not a count.")


def parse_write_results(body: Any, http_status: int, ids: Sequence[int | None]) -> list[WriteResult]:
    """``[{"Key", "Value", "Status", "Message"}]`` → ``WriteResult`` per record.

    ``Value``/``Status`` arrive as strings. A record's ID is ``Value`` when it is a positive
    number, else the ID we sent at that position (failed items may carry an empty ``Value``).
    Returns ``[]`` when the body holds no per-record results.
    """
    results = []
    items = [item for item in _items(body) if _field(item, "Status") is not None or _field(item, "Value") is not None]
    for position, item in enumerate(items):
        status = _int(_field(item, "Status"), default=None) or http_status
        value = _int(_field(item, "Value"), default=None)
        sent = ids[position] if position < len(ids) else None
        record_id = value if value and value > 0 else sent
        results.append(WriteResult(record_id, 200 <= status < 300, status, _text(_field(item, "Message"))))
    return results


# ---------------------------------------------------------------------- pacing and retries


class TokenBucket:
    """Client-side pacing with the shape of 3dcart's leaky bucket (burst, then ``rate``/s).

    Thread-safe. Callers reserve a token and sleep outside the lock until it is theirs, so
    waiting threads are served in arrival order. A wait that would end after the caller's
    deadline is refused with ``RateLimited`` (and the reservation is given back).
    """

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def acquire(self, deadline: float = math.inf) -> float:
        """Take one token, sleeping if needed; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
            if now + wait > deadline:
                self._tokens += 1
                raise RateLimited(
                    f"The bot paces its store requests (about {self.rate:g} per second) and is busy "
                    "right now. Try again in a few seconds.",
                    status=None, retry_after=wait,
                )
        if wait > 0:
            time.sleep(wait)
        return wait


class _CallBudget:
    """Deadline of the call in flight on this thread (urllib3 retries run in the caller's thread)."""

    def __init__(self, seconds: float, read_timeout: float, limiter: TokenBucket | None) -> None:
        self.seconds = seconds
        self.read_timeout = read_timeout
        self.limiter = limiter
        self._local = threading.local()

    @contextmanager
    def window(self) -> Iterator[float]:
        self._local.deadline = time.monotonic() + self.seconds
        try:
            yield self._local.deadline
        finally:
            self._local.deadline = math.inf

    def deadline(self) -> float:
        return getattr(self._local, "deadline", math.inf)

    def remaining(self) -> float:
        return self.deadline() - time.monotonic()

    def pace(self) -> None:
        if self.limiter is not None:
            self.limiter.acquire(self.deadline())


class _OutOfBudget(Exception):
    """Raised from inside urllib3 when the next wait does not fit the call's budget."""

    def __init__(self, status: int | None, retry_after: float | None) -> None:
        super().__init__(status)
        self.status = status
        self.retry_after = retry_after


class BudgetRetry(Retry):
    """urllib3 ``Retry`` whose sleeps (backoff and ``Retry-After``) never outlast the call budget.

    When the next wait plus, after a read timeout, a whole new attempt would not fit in what is
    left of the budget, the call ends at once with ``_OutOfBudget``. Every retry takes a token
    from the client-side limiter too: a retry costs the store as much as the first attempt.
    """

    def __init__(self, *args: Any, budget: _CallBudget | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = budget

    def new(self, **kw: Any) -> BudgetRetry:
        kw.setdefault("budget", self.budget)
        return super().new(**kw)  # type: ignore[return-value]

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        """Reads retry on the whole status list; writes only on 429.

        A 429 means the store's bucket refused the request before doing anything with it, so
        sending a write again cannot apply it twice. A 5xx on a write may come after the store
        applied it: those are never retried.
        """
        if status_code == 429 and self.total:
            return True
        return super().is_retry(method, status_code, has_retry_after)

    def sleep(self, response: Any = None) -> None:
        if self.budget is None:
            return super().sleep(response)
        retry_after = None
        if response is not None and self.respect_retry_after_header:
            try:
                retry_after = self.get_retry_after(response)
            except Exception:  # noqa: BLE001 — a malformed Retry-After falls back to backoff
                retry_after = None
        wait = retry_after if retry_after else self.get_backoff_time()
        last_error = self.history[-1].error if self.history else None
        next_attempt = self.budget.read_timeout if isinstance(last_error, ReadTimeoutError) else 0.0
        if wait + next_attempt > self.budget.remaining():
            raise _OutOfBudget(getattr(response, "status", None), retry_after)
        if wait > 0:
            time.sleep(wait)
        self.budget.pace()


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
        retries: int = 4,
        backoff_factor: float = 0.3,
        backoff_max: float = 2.0,
        pool_size: int = 32,
        scan_page_size: int = SCAN_PAGE,
        offset_base: int | None = None,
    ) -> None:
        self._base = api_url.rstrip("/") + "/"
        self._secrets = tuple(s for s in (secure_url.strip(), private_key.strip(), token.strip()) if s)
        self.timeout = timeout
        self.total_budget = total_budget
        self.scan_page_size = max(1, min(scan_page_size, MAX_LIMIT))
        self._offset_base = offset_base
        self._offset_lock = threading.Lock()
        self.limiter = TokenBucket(requests_per_second, burst) if requests_per_second else None
        self._budget = _CallBudget(total_budget, timeout, self.limiter)
        retry = BudgetRetry(
            total=retries,
            allowed_methods=frozenset({"GET"}),
            status_forcelist=(429, 500, 502, 503, 504),
            backoff_factor=backoff_factor,
            backoff_max=backoff_max,
            respect_retry_after_header=True,
            raise_on_status=False,
            raise_on_redirect=False,
            budget=self._budget,
        )
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(32, pool_size), max_retries=retry)
        self._session = requests.Session()
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers.update({
            "SecureURL": secure_url.strip(),
            "PrivateKey": private_key.strip(),
            "Token": token.strip(),
            "Accept": "application/json",
        })

    # ------------------------------------------------------------------ Backend: customers

    def find_customers(self, query: CustomerQuery, *, limit: int = FIND_PAGE, offset: int | None = None) -> list[Customer]:
        return self._page("Customers", query_params(query), customer_from_3dcart, limit, offset)

    def all_customers(self, query: CustomerQuery) -> Iterator[Customer]:
        return self._scan("Customers", query_params(query), customer_from_3dcart, lambda c: c.id)

    def count_customers(self, query: CustomerQuery) -> int:
        return self._count("Customers", query_params(query))

    def get_customer(self, customer_id: int) -> Customer:
        return self._one(f"Customers/{int(customer_id)}", customer_from_3dcart, f"Customer #{customer_id}")

    def create_customers(self, customers: Sequence[Customer | Mapping[str, Any]]) -> list[WriteResult]:
        """POST new customers (models, or mappings of model or 3dcart field names); the store
        assigns IDs, so a model's ``id`` is not sent."""
        body = [_to_3dcart(c, CUSTOMER_FIELDS, skip=("id", "last_update") if isinstance(c, Customer) else ("last_update",))
                for c in customers]
        return self._write("POST", "Customers", body, [None] * len(body))

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
        return self._page(f"CustomerGroups/{int(group_id)}/Customers", query_params(query), customer_from_3dcart, limit, offset)

    def all_group_members(self, group_id: int, query: CustomerQuery | None = None) -> Iterator[Customer]:
        return self._scan(f"CustomerGroups/{int(group_id)}/Customers", query_params(query), customer_from_3dcart, lambda c: c.id)

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
        body = [_to_3dcart(g, GROUP_FIELDS, skip=("id",) if isinstance(g, CustomerGroup) else ()) for g in groups]
        return self._write("POST", "CustomerGroups", body, [None] * len(body))

    def update_group(self, group_id: int, changes: CustomerGroup | Mapping[str, Any]) -> WriteResult:
        """PUT one group: a model sends every field, a mapping only the fields it names."""
        body = _to_3dcart(changes, GROUP_FIELDS, skip=("id", GROUP_FIELDS["id"]))
        return _single(self._write("PUT", f"CustomerGroups/{int(group_id)}", body, [group_id]), group_id)

    def update_groups(self, groups: Sequence[CustomerGroup | Mapping[str, Any]]) -> list[WriteResult]:
        body = [_to_3dcart(g, GROUP_FIELDS) for g in groups]
        ids = [_int(item.get(GROUP_FIELDS["id"]), default=None) for item in body]
        if any(i is None for i in ids):
            raise ValueError("every group in a bulk update needs its id")
        return self._write("PUT", "CustomerGroups", body, ids)

    def delete_group(self, group_id: int) -> WriteResult:
        return _single(self._write("DELETE", f"CustomerGroups/{int(group_id)}", None, [group_id]), group_id)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> ThreeDCartClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reads

    def _page(self, path: str, params: dict[str, str], parse: Callable[[Mapping[str, Any]], T],
              limit: int, offset: int | None) -> list[T]:
        params = {**params, "limit": str(_clamp_limit(limit))}
        if offset:
            params["offset"] = str(int(offset) + self._detect_offset_base())
        try:
            body = self._read(path, params)
        except _PastEnd:
            return []
        return [parse(item) for item in _items(body)]

    def _scan(self, path: str, params: dict[str, str], parse: Callable[[Mapping[str, Any]], T],
              key: Callable[[T], Any]) -> Iterator[T]:
        """Every record, page by page; see the module docstring for why it is shaped like this.

        While the offset base is unknown, the second page is asked for at ``offset = records
        seen``: a 1-based store answers it starting with the last record we already have, a
        0-based one with a new record. That settles the base for the rest of the scan (and for
        this client); the repeated record is dropped by the ID de-duplication.
        """
        size = self.scan_page_size
        seen: set[Any] = set()
        last = None
        while True:
            page_params = {**params, "limit": str(size)}
            if seen:
                page_params["offset"] = str(len(seen) + (self._offset_base or 0))
            try:
                items = [parse(raw) for raw in _items(self._read(path, page_params))]
            except _PastEnd:
                return
            learned = False
            if seen and self._offset_base is None and items:
                self._offset_base = 1 if key(items[0]) == last else 0
                learned = self._offset_base == 1
            fresh = [item for item in items if key(item) not in seen]
            for item in fresh:
                seen.add(key(item))
                yield item
            if items:
                last = key(items[-1])
            if len(items) < size or not (fresh or learned):
                return

    def _count(self, path: str, params: dict[str, str]) -> int:
        body = self._read(path, {**params, "countonly": "1"})
        return 0 if body is None else parse_count(body)

    def _one(self, path: str, parse: Callable[[Mapping[str, Any]], T], label: str) -> T:
        items = _items(self._read(path, {}))
        if not items:
            raise NotFound(f"{label} was not found in the store.", status=404)
        return parse(items[0])

    def _read(self, path: str, params: dict[str, str]) -> Any:
        """GET → JSON body; ``None`` for 404 (3dcart's "no records"); typed errors otherwise."""
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

    def _detect_offset_base(self) -> int:
        """Whether this store's ``offset`` starts at 0 or 1, found once from the group list."""
        if self._offset_base is not None:
            return self._offset_base
        with self._offset_lock:
            if self._offset_base is None:
                first = _items(self._read("CustomerGroups", {"limit": "1"}))
                if not first:
                    return 1  # no groups to tell by: assume what peer clients use; ask again later
                try:
                    second = _items(self._read("CustomerGroups", {"limit": "1", "offset": "1"}))
                except _PastEnd:
                    second = []
                same = bool(second) and _field(second[0], "CustomerGroupID") == _field(first[0], "CustomerGroupID")
                self._offset_base = 1 if same else 0
                log.debug("3dcart offset base detected: %s", self._offset_base)
            return self._offset_base

    # ------------------------------------------------------------------ writes

    def _write(self, method: str, path: str, body: Any, ids: Sequence[int | None]) -> list[WriteResult]:
        """A write → one ``WriteResult`` per record. Only whole-request rejections raise."""
        status, answer = self._send(method, path, body=body)
        results = parse_write_results(answer, status, ids)
        if results:
            return results
        if 200 <= status < 300 and status != 206:
            return [WriteResult(i, True, status, "") for i in ids]
        message = self._scrub(store_message(answer))
        if status in (206, 404):
            return [WriteResult(i, False, status, message or ("not found" if status == 404 else "failed")) for i in ids]
        raise BadRequest(message or f"The store rejected the change (HTTP {status}).", status=status)

    # ------------------------------------------------------------------ transport

    def _send(self, method: str, path: str, *, params: dict[str, str] | None = None,
              body: Any = None) -> tuple[int, Any]:
        """One call within the budget. Returns (status, JSON or None) for 2xx/400/404/other
        4xx; raises the typed error for 401/403, 429, 5xx, transport failures, non-JSON."""
        url = self._base + path
        headers = {"Content-Type": "application/json"} if body is not None else None
        data = json.dumps(body) if body is not None else None
        writing = method != "GET"
        started = time.monotonic()
        with self._budget.window() as deadline:
            if self.limiter is not None:
                self.limiter.acquire(deadline)
            try:
                response = self._session.request(
                    method, url, params=params, data=data, headers=headers,
                    timeout=(min(CONNECT_TIMEOUT, self.timeout), self.timeout), allow_redirects=False,
                )
            except _OutOfBudget as exc:
                self._log(method, path, exc.status, started, note="out of budget")
                if exc.status == 429:
                    raise RateLimited(_rate_limited_message(exc.retry_after), retry_after=exc.retry_after) from None
                what = f"kept answering HTTP {exc.status}" if exc.status else "could not be reached"
                raise Unavailable(f"The store {what} for {self.total_budget:g} s.", status=exc.status) from None
            except requests.Timeout:
                self._log(method, path, None, started, note="timeout")
                raise Unavailable(_timeout_message(self.timeout, writing)) from None
            except requests.RequestException as exc:
                self._log(method, path, None, started, note=type(exc).__name__)
                raise Unavailable("Could not reach the store (" + type(exc).__name__ + ")"
                                  + (_MAYBE_SAVED if writing else ".")) from None
        with response:
            raw = response.content
            status = response.status_code
        retries = len(getattr(getattr(response.raw, "retries", None), "history", ()) or ())
        self._log(method, path, status, started, note=f"retries={retries}" if retries else "")
        return status, self._decode(status, raw, response.headers.get("Retry-After"))

    def _decode(self, status: int, raw: bytes, retry_after: str | None) -> Any:
        if status in (401, 403):
            raise AuthFailed(
                f"The store refused the bot's credentials (HTTP {status}). Check THREEDCART_SECURE_URL, "
                "THREEDCART_PRIVATE_KEY and THREEDCART_TOKEN, and that the 3dcart app has read and "
                "write scope for Customers.", status=status)
        if status == 429:
            seconds = _retry_after_seconds(retry_after)
            raise RateLimited(_rate_limited_message(seconds), retry_after=seconds)
        if status >= 500 or 300 <= status < 400:
            raise Unavailable(f"The store answered HTTP {status}.", status=status)
        text = raw.decode("utf-8", errors="replace").strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            if 200 <= status < 300:
                raise Unavailable(f"The store answered HTTP {status} with something that is not JSON "
                                  "(an error page?).", status=status) from None
            return None

    def _scrub(self, text: str) -> str:
        """Belt and braces: a store message must never echo a credential back to a user."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    @staticmethod
    def _log(method: str, path: str, status: int | None, started: float, *, note: str = "") -> None:
        if log.isEnabledFor(logging.DEBUG):
            elapsed = (time.monotonic() - started) * 1000
            log.debug("3dcart %s /%s -> %s in %.0f ms%s", method, path, status if status is not None else "-",
                      elapsed, f" ({note})" if note else "")


# ---------------------------------------------------------------------- small helpers

_MAYBE_SAVED = "; the change may or may not have been saved."


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


def _retry_after_seconds(header: str | None) -> float | None:
    if not header:
        return None
    try:
        return max(0.0, float(header.strip()))
    except ValueError:
        return None


def _rate_limited_message(retry_after: float | None) -> str:
    when = f" in about {math.ceil(retry_after)} s" if retry_after else " in a minute"
    return f"The store is rate limiting the bot (HTTP 429). Try again{when}."


def _timeout_message(timeout: float, writing: bool) -> str:
    return f"The store did not answer within {timeout:g} s" + (_MAYBE_SAVED if writing else ".")


__all__ = [
    "ThreeDCartClient", "TokenBucket", "BudgetRetry", "CUSTOMER_FIELDS", "GROUP_FIELDS",
    "customer_from_3dcart", "group_from_3dcart", "change_to_3dcart", "parse_write_results",
    "store_message",
]
