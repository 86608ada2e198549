"""A BigCommerce-compatible demo store (API v2 customers and customer groups) over real HTTP.

It serves seed 003's customer operations and the v2 customer-group reads/writes under
``/stores/{store_hash}/v2/`` (each path with or without ``.json``), the way the seed and
``reference/bigcommerce.md`` describe them:

* ``X-Auth-Token`` must be the store's token (401 otherwise); another store hash answers 404.
* Lists: ``page`` (from 1) and ``limit`` (default 50, at most 250); filters ``email`` (whole
  address, any case), ``first_name``, ``last_name``, ``company``, ``phone`` (exact, any case),
  ``customer_group_id``, ``min_id`` / ``max_id``, ``min_date_modified`` / ``max_date_modified``
  / ``min_date_created`` / ``max_date_created`` (RFC 2822). An empty list answers
  ``204 No Content`` (``empty_lists="[]"`` makes it answer ``200 []`` instead).
* ``GET /customers/count`` takes no parameters (the seed says so): ``{"count": N}``.
* Money and ids come out as v2 sends them: ``"store_credit": "0.0000"``; dates RFC 2822.
* ``PUT /customers/{id}`` is partial; writing an unknown ``customer_group_id`` is a 400, an
  email already in use a 409. ``DELETE /customers`` deletes every customer matching the filters
  (all of them without one), as the real store does — the bot's client has no method for it.
* Every answer carries ``X-Rate-Limit-Time-Window-Ms``, ``X-Rate-Limit-Time-Reset-Ms``,
  ``X-Rate-Limit-Requests-Quota`` and ``X-Rate-Limit-Requests-Left``. ``throttle(quota,
  window_ms)`` enforces the quota (429 past it); ``rate_limit_next(n, retry_after)`` answers
  429 with ``X-Rate-Limit-Time-Reset-Ms`` (none when ``retry_after`` is None).

Demo data (``seed_demo=True``): the same eight people and ids as the 3dcart sandbox — Jane (1,
VIP), Bob (2, Wholesale), Carol (3), Dave (4, no group), Erin (5, Staff), Frank (6,
Distributors), Grace (7), Henry (8, VIP) — with Carol and Grace waiting in the applicant group
"Wholesale applicants" (5). BigCommerce has no Enabled / MailList, so those columns are absent.

``python -m bot sandbox --backend bigcommerce`` (``cli.py``) runs it on port 8036.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from ..store.bigcommerce.mapping import MAX_LIMIT, money_text
from .faults import Failure, FaultyStore, Reply

DEMO_STORE_HASH = "sandbox1"
DEMO_ACCESS_TOKEN = "sandbox-access-token"
DEFAULT_LIMIT = 50
DEFAULT_QUOTA = 10_000
DEFAULT_WINDOW_MS = 30_000
APPLICANT_GROUP = "Wholesale applicants"

NOT_FOUND = "The requested resource was not found."
CUSTOMER_FIELDS = ("first_name", "last_name", "email", "company", "phone", "store_credit",
                   "registration_ip_address", "customer_group_id", "notes")
"""What POST / PUT may set (seed 003), besides ``_authentication``."""
TEXT_FILTERS = ("email", "first_name", "last_name", "company", "phone")
GROUP_FIELDS = ("name", "is_default", "category_access", "discount_rules")

DEMO_GROUPS: list[dict[str, Any]] = [
    {"name": "VIP"}, {"name": "Wholesale"}, {"name": "Staff"}, {"name": "Distributors"},
    {"name": APPLICANT_GROUP},
]
DEMO_CUSTOMERS: list[dict[str, Any]] = [
    # _age: days since the last change
    {"_age": 40, "email": "jane@example.com", "first_name": "Jane", "last_name": "Doe", "company": "Acme Ltd",
     "phone": "+1 217 555 0101", "customer_group_id": 1, "store_credit": "25.0000", "notes": "Prefers email contact."},
    {"_age": 30, "email": "bob@example.com", "first_name": "Bob", "last_name": "Stone", "company": "Stone Hardware",
     "phone": "+1 503 555 0102", "customer_group_id": 2},
    {"_age": 1, "email": "carol@example.com", "first_name": "Carol", "last_name": "Reyes", "company": "Reyes Trading",
     "phone": "+1 512 555 0103", "customer_group_id": 5, "notes": "Wholesale application: 3 shops in Texas."},
    {"_age": 20, "email": "dave@example.com", "first_name": "Dave", "last_name": "Kim", "phone": "+44 113 555 0104"},
    {"_age": 10, "email": "erin@example.com", "first_name": "Erin", "last_name": "Walsh", "customer_group_id": 3,
     "notes": "Left the company."},
    {"_age": 15, "email": "frank@example.com", "first_name": "Frank", "last_name": "Otto", "company": "Otto Supply Co",
     "phone": "+1 416 555 0106", "customer_group_id": 4},
    {"_age": 2, "email": "grace@example.com", "first_name": "Grace", "last_name": "Lin", "company": "Lin Imports",
     "phone": "+1 604 555 0107", "customer_group_id": 5},
    {"_age": 5, "email": "henry@example.com", "first_name": "Henry", "last_name": "Park", "company": "Park & Sons",
     "customer_group_id": 1, "store_credit": "100.0000"},
]


def rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(timezone.utc).replace(microsecond=0))


def _error(status: int, message: str) -> Reply:
    return Reply(status, [{"status": status, "message": message}])


class _Window:
    """BigCommerce's per-store quota: ``quota`` requests per ``window_ms``, refilled each window."""

    def __init__(self, quota: int, window_ms: int, enforce: bool) -> None:
        self.quota, self.window_ms, self.enforce = quota, window_ms, enforce
        self.started = time.monotonic()
        self.used = 0

    def _roll(self) -> None:
        now = time.monotonic()
        if (now - self.started) * 1000 >= self.window_ms:
            self.started, self.used = now, 0

    def take(self) -> bool:
        """Count one request; False when the quota is used up (and enforced)."""
        self._roll()
        if self.enforce and self.used >= self.quota:
            return False
        self.used += 1
        return True

    def headers(self) -> dict[str, str]:
        self._roll()
        reset = max(0, int(self.window_ms - (time.monotonic() - self.started) * 1000))
        return {
            "X-Rate-Limit-Time-Window-Ms": str(self.window_ms),
            "X-Rate-Limit-Time-Reset-Ms": str(reset),
            "X-Rate-Limit-Requests-Quota": str(self.quota),
            "X-Rate-Limit-Requests-Left": str(max(0, self.quota - self.used)),
        }


class BigCommerceSandbox(FaultyStore):
    """An in-memory BigCommerce store (v2 customers, customer groups) behind real HTTP."""

    CONTROLS = ("add_customers", "add_groups", "empty_lists")
    label = "bigcommerce"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, store_hash: str = DEMO_STORE_HASH,
                 access_token: str = DEMO_ACCESS_TOKEN, latency: float = 0.0, seed_demo: bool = True,
                 empty_lists: str = "204") -> None:
        super().__init__(host, port, latency=latency)
        self.store_hash = store_hash
        self.access_token = access_token
        self._empty = "204"
        self.empty_lists(empty_lists)
        self._next_customer = 1
        self._next_group = 1
        self._window = _Window(DEFAULT_QUOTA, DEFAULT_WINDOW_MS, enforce=False)
        self._window_lock = threading.Lock()
        if seed_demo:
            self._seed_demo()

    # ------------------------------------------------------------------ addresses

    @property
    def url(self) -> str:
        """The API base, e.g. ``http://127.0.0.1:8036/stores/sandbox1/v2/``."""
        return f"{self.origin}/stores/{self.store_hash}/v2/"

    def credentials(self) -> dict[str, str]:
        """The settings a client needs, by environment variable name (demo values)."""
        return {
            "BIGCOMMERCE_API_URL": self.url,
            "BIGCOMMERCE_STORE_HASH": self.store_hash,
            "BIGCOMMERCE_ACCESS_TOKEN": self.access_token,
        }

    # ------------------------------------------------------------------ seeding and snapshots

    def _seed_demo(self) -> None:
        for group in DEMO_GROUPS:
            self.add_group(**group)
        now = datetime.now(timezone.utc)
        for demo in DEMO_CUSTOMERS:
            fields = dict(demo)
            age = fields.pop("_age")
            self.add_customer(date_modified=now - timedelta(days=age), **fields)

    def add_customer(self, *, date_modified: datetime | None = None, **fields: Any) -> int:
        """Add one customer as given (v2 field names; values are NOT validated, so tests can store
        odd shapes). Returns its id."""
        stamp = rfc2822(date_modified or datetime.now(timezone.utc))
        with self._lock:
            customer_id = int(fields.pop("id", 0) or self._next_customer)
            self._next_customer = max(self._next_customer, customer_id + 1)
            self._customers[customer_id] = self._record(customer_id, fields, stamp)
        return customer_id

    def _record(self, customer_id: int, fields: Mapping[str, Any], stamp: str) -> dict[str, Any]:
        base = f"{self.origin}/stores/{self.store_hash}/v2/customers/{customer_id}/addresses"
        return {
            "id": customer_id, "company": "", "first_name": "", "last_name": "", "email": "", "phone": "",
            "date_created": stamp, "date_modified": stamp, "store_credit": "0.0000",
            "registration_ip_address": "", "customer_group_id": 0, "notes": "", **fields,
            "addresses": {"url": base + ".json", "resource": f"/customers/{customer_id}/addresses"},
        }

    def add_customers(self, n: int, *, group_id: int = 0) -> list[int]:
        """Bulk seeding for tests and benchmarks: ``bulk<id>@example.com``."""
        stamp = rfc2822(datetime.now(timezone.utc))
        ids = []
        with self._lock:
            for _ in range(int(n)):
                customer_id = self._next_customer
                self._next_customer += 1
                self._customers[customer_id] = self._record(customer_id, {
                    "email": f"bulk{customer_id}@example.com", "first_name": "Bulk",
                    "last_name": f"Customer {customer_id}", "customer_group_id": group_id}, stamp)
                ids.append(customer_id)
        return ids

    def add_group(self, name: str | None = None, **fields: Any) -> int:
        with self._lock:
            group_id = int(fields.pop("id", 0) or self._next_group)
            self._next_group = max(self._next_group, group_id + 1)
            self._groups[group_id] = {"id": group_id, "name": name or f"Group {group_id}", "is_default": False,
                                      "category_access": {"type": "all"}, "discount_rules": [], **fields}
        return group_id

    def add_groups(self, n: int, *, prefix: str = "Group") -> list[int]:
        """``n`` groups named ``"<prefix> 001"`` …"""
        return [self.add_group(f"{prefix} {i:03d}") for i in range(1, int(n) + 1)]

    def touch(self, customer_id: int, when: datetime | None = None) -> None:
        """Set a customer's ``date_modified`` (for ``min_date_modified`` tests)."""
        with self._lock:
            self._customers[customer_id]["date_modified"] = rfc2822(when or datetime.now(timezone.utc))

    # ------------------------------------------------------------------ knobs

    def empty_lists(self, style: str = "204") -> None:
        """How an empty list answers: ``"204"`` (No Content, v2's way) or ``"[]"`` (200 with ``[]``)."""
        if str(style) not in ("204", "[]"):
            raise ValueError("empty_lists is '204' or '[]'")
        with self._lock:
            self._empty = str(style)

    def throttle(self, quota: int | None = 150, window_ms: int = DEFAULT_WINDOW_MS) -> None:
        """Enforce ``quota`` requests per ``window_ms`` (429 past it); ``None`` turns it off."""
        with self._window_lock:
            if quota:
                self._window = _Window(int(quota), int(window_ms), enforce=True)
            else:
                self._window = _Window(DEFAULT_QUOTA, DEFAULT_WINDOW_MS, enforce=False)

    def extra_stats(self) -> dict[str, Any]:
        return {"customers": len(self._customers), "groups": len(self._groups), "empty_lists": self._empty,
                "throttle": self._window.enforce}

    # ------------------------------------------------------------------ FaultyStore hooks

    def authorized(self, headers: Any) -> bool:
        return (headers.get("X-Auth-Token") or "").strip() == self.access_token

    def unauthorized(self) -> Reply:
        return _error(401, "You are not authorized to access this resource.")

    def rate_limited(self, failure: Failure) -> Reply:
        if failure.retry_after is None:  # "the platform is under load": no rate-limit headers
            return Reply(429, [{"status": 429, "message": "Too many requests."}], plain=True)
        with self._window_lock:
            headers = {**self._window.headers(), "X-Rate-Limit-Requests-Left": "0",
                       "X-Rate-Limit-Time-Reset-Ms": str(int(failure.retry_after * 1000))}
        return Reply(429, [{"status": 429, "message": "You have exceeded your request quota."}], headers=headers)

    def throttled(self) -> Reply | None:
        with self._window_lock:
            if self._window.take():
                return None
            headers = self._window.headers()
        return Reply(429, [{"status": 429, "message": "You have exceeded your request quota."}], headers=headers)

    def answer_headers(self) -> dict[str, str]:
        with self._window_lock:
            return self._window.headers()

    # ------------------------------------------------------------------ routing

    def route(self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes) -> Reply:
        prefix = f"/stores/{self.store_hash}/v2/"
        if not path.startswith(prefix):
            raise _error(404, NOT_FOUND)
        parts = [p for p in re.sub(r"\.json$", "", path[len(prefix):].rstrip("/")).split("/") if p]
        query = {k.lower(): v for k, v in query.items() if v.strip()}
        match parts:
            case ["customers"]:
                return self._customers_collection(method, query, body)
            case ["customers", "count"]:
                return self._count(method, self._customers)
            case ["customers", cid] if cid.isdigit():
                return self._one_customer(method, int(cid), body)
            case ["customer_groups"]:
                return self._groups_collection(method, query, body)
            case ["customer_groups", "count"]:
                return self._count(method, self._groups)
            case ["customer_groups", gid] if gid.isdigit():
                return self._one_group(method, int(gid), body)
        raise _error(404, NOT_FOUND)

    def _count(self, method: str, table: dict[int, Any]) -> Reply:
        if method != "GET":
            raise _not_allowed()
        with self._lock:
            return Reply(200, {"count": len(table)})

    def _customers_collection(self, method: str, query: dict[str, str], body: bytes) -> Reply:
        if method == "GET":
            with self._lock:
                return self._page(self._select(query), query)
        if method == "POST":
            return self._create_customer(_json_object(body))
        if method == "DELETE":  # bulk delete: every match, all customers without a filter
            with self._lock:
                doomed = [r["id"] for r in self._select(query)]
                for customer_id in doomed:
                    del self._customers[customer_id]
            return Reply(204)
        raise _not_allowed()

    def _one_customer(self, method: str, customer_id: int, body: bytes) -> Reply:
        with self._lock:
            record = self._customers.get(customer_id)
            if record is None:
                raise _error(404, NOT_FOUND)
            if method == "GET":
                return Reply(200, record)
            if method == "DELETE":
                del self._customers[customer_id]
                return Reply(204)
            if method != "PUT":
                raise _not_allowed()
            failing = self.failing_id(customer_id)
            if failing is not None:
                raise _error(failing, "Simulated failure (sandbox fail_ids).")
            fields = self._validated(_json_object(body), customer_id)
            record.update(fields, date_modified=rfc2822(datetime.now(timezone.utc)))
            return Reply(200, record)

    def _create_customer(self, item: dict[str, Any]) -> Reply:
        with self._lock:
            fields = self._validated(item, None)
            missing = [f for f in ("first_name", "last_name", "email") if not str(fields.get(f) or "").strip()]
            if missing:
                raise _error(400, "The field(s) " + ", ".join(missing) + " are required.")
            customer_id = self._next_customer
            self._next_customer += 1
            record = self._record(customer_id, fields, rfc2822(datetime.now(timezone.utc)))
            self._customers[customer_id] = record
            return Reply(201, record)

    def _validated(self, item: dict[str, Any], customer_id: int | None) -> dict[str, Any]:
        """The writable fields of ``item`` in the store's types (caller holds the lock)."""
        unknown = [k for k in item if k not in CUSTOMER_FIELDS and k != "_authentication"]
        if unknown:
            raise _error(400, "The field(s) " + ", ".join(sorted(unknown)) + " are not valid.")
        fields = {k: v for k, v in item.items() if k in CUSTOMER_FIELDS}
        if "customer_group_id" in fields:
            group = fields["customer_group_id"]
            if isinstance(group, bool) or not re.fullmatch(r"\d+", str(group).strip()):
                raise _error(400, "The field 'customer_group_id' is invalid.")
            fields["customer_group_id"] = int(str(group).strip())
            if fields["customer_group_id"] and fields["customer_group_id"] not in self._groups:
                raise _error(400, f"The customer group {fields['customer_group_id']} does not exist.")
        if "store_credit" in fields:
            try:
                fields["store_credit"] = money_text(float(fields["store_credit"]))
            except (TypeError, ValueError):
                raise _error(400, "The field 'store_credit' is invalid.") from None
        if "email" in fields:
            email = str(fields["email"] or "").strip().lower()
            if not re.fullmatch(r"[^@\s]+@[^@\s]+", email):
                raise _error(400, "The field 'email' is invalid.")
            if any(str(c["email"]).strip().lower() == email and c["id"] != customer_id for c in self._customers.values()):
                raise _error(409, f"The email address {email} is already in use by another customer.")
        for name in ("first_name", "last_name", "company", "phone", "notes", "registration_ip_address"):
            if name in fields:
                fields[name] = "" if fields[name] is None else str(fields[name])
        return fields

    def _groups_collection(self, method: str, query: dict[str, str], body: bytes) -> Reply:
        if method == "GET":
            with self._lock:
                groups = [g for _, g in sorted(self._groups.items())]
                if "name" in query:
                    groups = [g for g in groups if str(g["name"]).lower() == query["name"].strip().lower()]
                return self._page(groups, query)
        if method == "POST":
            item = _json_object(body)
            if not str(item.get("name") or "").strip():
                raise _error(400, "The field 'name' is required.")
            group_id = self.add_group(**{k: v for k, v in item.items() if k in GROUP_FIELDS})
            return Reply(201, self.group(group_id))
        raise _not_allowed()

    def _one_group(self, method: str, group_id: int, body: bytes) -> Reply:
        with self._lock:
            record = self._groups.get(group_id)
            if record is None:
                raise _error(404, NOT_FOUND)
            if method == "GET":
                return Reply(200, record)
            if method == "PUT":
                record.update({k: v for k, v in _json_object(body).items() if k in GROUP_FIELDS})
                return Reply(200, record)
            if method == "DELETE":
                del self._groups[group_id]
                for customer in self._customers.values():
                    if customer["customer_group_id"] == group_id:
                        customer["customer_group_id"] = 0
                return Reply(204)
        raise _not_allowed()

    # ------------------------------------------------------------------ reading

    def _select(self, query: dict[str, str]) -> list[dict[str, Any]]:
        """Customers matching the filters, by id (caller holds the lock)."""
        wanted = {name: query[name].strip().lower() for name in TEXT_FILTERS if name in query}
        bounds = {name: _date_param(query, name) for name in
                  ("min_date_modified", "max_date_modified", "min_date_created", "max_date_created")}
        group = _int_param(query, "customer_group_id")
        min_id, max_id = _int_param(query, "min_id"), _int_param(query, "max_id")
        chosen = []
        for record in self._customers.values():
            if any(str(record.get(name) or "").strip().lower() != value for name, value in wanted.items()):
                continue
            if group is not None and int(record.get("customer_group_id") or 0) != group:
                continue
            if (min_id is not None and record["id"] < min_id) or (max_id is not None and record["id"] > max_id):
                continue
            if not _within(record, bounds):
                continue
            chosen.append(record)
        return sorted(chosen, key=lambda r: r["id"])

    def _page(self, records: list[dict[str, Any]], query: dict[str, str]) -> Reply:
        """One page, serialised under the caller's lock; 204 (or ``[]``) when it is empty."""
        limit = _int_param(query, "limit")
        page = _int_param(query, "page")
        limit = DEFAULT_LIMIT if limit is None else limit
        page = 1 if page is None else page
        if limit < 1 or page < 1:
            raise _error(400, "The fields 'page' and 'limit' must be positive.")
        limit = min(limit, MAX_LIMIT)
        chunk = records[(page - 1) * limit: page * limit]
        if not chunk:
            return Reply(200, []) if self._empty == "[]" else Reply(204)
        return Reply(200, chunk)


# ---------------------------------------------------------------------- request helpers


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"null")
    except ValueError:
        raise _error(400, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise _error(400, "The request body must be a JSON object.")
    return data


def _int_param(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value is None:
        return None
    if not re.fullmatch(r"-?\d+", value.strip()):
        raise _error(400, f"The field '{name}' is invalid.")
    return int(value)


def _date_param(query: Mapping[str, str], name: str) -> datetime | None:
    value = query.get(name)
    if value is None:
        return None
    try:
        moment = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        raise _error(400, f"The field '{name}' is not a valid RFC 2822 date.") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _within(record: Mapping[str, Any], bounds: Mapping[str, datetime | None]) -> bool:
    for name, bound in bounds.items():
        if bound is None:
            continue
        stamp = parsedate_to_datetime(record["date_" + name.split("_date_")[1]])
        if (name.startswith("min") and stamp < bound) or (name.startswith("max") and stamp > bound):
            return False
    return True


def _not_allowed() -> Reply:
    return _error(405, "The requested method is not allowed for this resource.")
