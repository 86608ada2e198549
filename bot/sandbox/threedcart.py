"""A 3dcart-compatible HTTP server with demo data, for the console, tests, demos and benchmarks.

It serves the 13 Customers / CustomerGroups operations of the 3dcart REST API v1 under
``/3dCartWebAPI/v1/`` the way the documentation describes them: the three auth headers (any
case; ``SecureURL`` as bare host or full URL), ``limit`` (default 10) / ``offset`` paging, the
customer filters, ``countonly`` → ``{"TotalCount": n}``, 404 for empty lists, one-element arrays
for single records, partial PUTs, write results with string ``Value``/``Status``, 201 on create,
206 when a bulk write partly fails, 400 "Offset amount exceeds the total number of records".

Sandbox conventions where the docs are silent: ``offset`` is 1-based (``offset_base=0`` makes
it 0-based for client tests) and 0 also means "from the start"; the text filters (``email``,
``firstname``, ``lastname``, ``phone``, …) compare case-insensitively with the value trimmed, and
match the whole field (``match="exact"``, the default) or any part of it (``match="substring"``:
the knob ``match``; real stores do either, undocumented);
``limit`` is capped at 500; each customer carries an internal last-update time (set on create
and update, not part of the JSON) used by ``lastupdatestart`` / ``lastupdateend``; deleting a
group moves its members to no group (0); a PUT to a ``CustomerGroupID`` that does not exist is
refused with 400.

Demo data (``seed_demo=True``), always the same:

====  ===================  ===========  ===============  ================  =======  =========
ID    Email                Name         Company          Group             Enabled  Mail list
====  ===================  ===========  ===============  ================  =======  =========
1     jane@example.com     Jane Doe     Acme Ltd         VIP (1)           yes      no
2     bob@example.com      Bob Stone    Stone Hardware   Wholesale (2)     yes      no
3     carol@example.com    Carol Reyes  Reyes Trading    Wholesale (2)     **no**   no
4     dave@example.com     Dave Kim                      none (0)          yes      yes
5     erin@example.com     Erin Walsh                    Staff (3)         **no**   no
6     frank@example.com    Frank Otto   Otto Supply Co   Distributors (4)  yes      no
7     grace@example.com    Grace Lin    Lin Imports      Distributors (4)  **no**   yes
8     henry@example.com    Henry Park   Park & Sons      VIP (1)           yes      yes
====  ===================  ===========  ===============  ================  =======  =========

Groups: 1 VIP (auto-approve), 2 Wholesale (AutoApprove **false**, registration open),
3 Staff (auto-approve, no registration), 4 Distributors (AutoApprove **false**).
Pending applicants (disabled in a group that does not auto-approve): exactly Carol (3) and
Grace (7). Erin (5) is disabled but in an auto-approve group: not pending. Frank (6) is an
approved (enabled) Distributor.

Fault knobs (Python API, or ``POST /_sandbox/control`` with a JSON object whose keys are the
method names, e.g. ``{"latency": 0.2, "fail_next": {"n": 2, "status": 503}}``; ``GET`` on the
same path returns counters): ``latency``, ``fail_next``, ``rate_limit_next``, ``hang_next``,
``fail_ids``, ``throttle`` (a leaky bucket like 3dcart's), ``drip_next`` (body one byte at a
time), ``huge_next`` (a reply of any size), ``answer_as`` (``GET /Customers/{a}`` answers customer
b), ``drop_ids`` (records without ``CustomerID``), ``substring_email`` (the email filter matches
substrings), ``clear_faults``, ``reset_counts``, ``add_customers``, ``add_groups``, ``add_people`` (varied
generated customers), ``match`` (``exact`` or ``substring`` filters). Control requests are neither counted nor faulted.

The plumbing (server, request log, the shared knobs) is ``faults.FaultyStore``; this module adds
3dcart's own knobs and how faults look on 3dcart; the routes are ``threedcart_api.py``, the record
shapes and demo records ``threedcart_data.py``. ``python -m bot sandbox`` (``cli.py``) runs it as a
standalone server on port 8035.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..store.threedcart import CUSTOMER_FIELDS, GROUP_FIELDS
from .faults import CONTROL_PATH, Failure, FaultyStore, Handler, Reply, SandboxRequest, error_page
from .people import people as _people
from .threedcart_api import ThreeDCartApi, _is_json
from .threedcart_data import (API_PREFIX, AUTH_FAILURE, CUSTOMER_DEFAULTS, DEMO_CUSTOMERS, DEMO_GROUPS,
                              DEMO_PRIVATE_KEY, DEMO_SECURE_URL, DEMO_TOKEN, GROUP_DEFAULTS, INVALID, MAX_LIMIT,
                              PAST_END, UNSUPPORTED_MEDIA, _as_int, _message, _rename, _same_secure_url)

__all__ = ["SandboxStore", "SandboxRequest", "CONTROL_PATH", "AUTH_FAILURE", "PAST_END", "INVALID"]


@dataclass
class _LeakyBucket:
    burst: int
    per_second: float
    level: float = 0.0
    stamp: float = field(default_factory=time.monotonic)

    def admit(self) -> float | None:
        """None if the request fits, else the seconds until it would."""
        now = time.monotonic()
        self.level = max(0.0, self.level - (now - self.stamp) * self.per_second)
        self.stamp = now
        if self.level + 1 > self.burst:
            return (self.level + 1 - self.burst) / self.per_second
        self.level += 1
        return None



class _Handler(Handler):
    def do_HEAD(self) -> None:  # noqa: N802 — ASP.NET Web API maps no route to HEAD: 405, no body
        self._serve("HEAD")

    def do_OPTIONS(self) -> None:  # noqa: N802 — no CORS on the API: 405 like any other verb
        self._serve("OPTIONS")


class SandboxStore(ThreeDCartApi, FaultyStore):
    """An in-memory 3dcart store behind real HTTP. Thread-safe: one lock guards all state."""

    CONTROLS = ("drip_next", "huge_next", "add_customers", "add_groups")
    label = "store"
    handler = _Handler
    HUGE_RECORD = b'{"CustomerID": 1, "Email": "huge@example.com"}'
    HUGE_LAST = b'{"CustomerID": 1}'

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        secure_url: str = DEMO_SECURE_URL,
        private_key: str = DEMO_PRIVATE_KEY,
        token: str = DEMO_TOKEN,
        latency: float = 0.0,
        seed_demo: bool = True,
        offset_base: int = 1,
        group_offset_base: int | None = None,
        max_limit: int = MAX_LIMIT,
        match: str = "exact",
    ) -> None:
        super().__init__(host, port, latency=latency)
        self.secure_url = secure_url
        self.private_key = private_key
        self.token = token
        self.offset_base = offset_base
        self.group_offset_base = offset_base if group_offset_base is None else group_offset_base
        """``/CustomerGroups`` may count offsets from another base (the help pages say 1 there, 0
        for Customers)."""
        self.max_limit = max_limit
        """The most records one page holds, whatever ``limit`` asks (a store may cap below 500)."""
        self.match = match
        self._updated: dict[int, datetime] = {}
        self._next_customer = 1
        self._next_group = 1
        self._answer_as: dict[int, int] = {}
        self._drop_ids = False
        self._substring_email = False
        self._bucket: _LeakyBucket | None = None
        if seed_demo:
            self._seed_demo()

    @property
    def url(self) -> str:
        """The API base URL, e.g. ``http://127.0.0.1:8035/3dCartWebAPI/v1/``."""
        return self.origin + API_PREFIX

    def credentials(self) -> dict[str, str]:
        """The settings a client needs, by environment variable name."""
        return {
            "THREEDCART_API_URL": self.url,
            "THREEDCART_SECURE_URL": self.secure_url,
            "THREEDCART_PRIVATE_KEY": self.private_key,
            "THREEDCART_TOKEN": self.token,
        }

    # ------------------------------------------------------------------ seeding and snapshots

    def _seed_demo(self) -> None:
        for group in DEMO_GROUPS:
            self.add_group(**group)
        now = datetime.now()
        for demo in DEMO_CUSTOMERS:
            fields = dict(demo)
            age = fields.pop("_age")
            self.add_customer(last_update=now - timedelta(days=age), **fields)

    def add_customer(self, *, last_update: datetime | None = None, **fields: Any) -> int:
        """Add one customer as given (3dcart or model field names; values are NOT validated, so
        tests can store odd shapes such as numbers as strings). Returns its ID."""
        record = {**CUSTOMER_DEFAULTS, **_rename(fields, CUSTOMER_FIELDS)}
        with self._lock:
            customer_id = _as_int(record.get("CustomerID")) or self._next_customer
            record["CustomerID"] = customer_id
            self._next_customer = max(self._next_customer, customer_id + 1)
            self._customers[customer_id] = record
            self._updated[customer_id] = (last_update or datetime.now()).replace(microsecond=0)
        return customer_id

    def add_customers(self, n: int, *, group_id: int = 0, enabled: bool = True, mail_list: bool = False) -> list[int]:
        """Bulk seeding for tests and benchmarks: ``bulk<ID>@example.com``."""
        now = datetime.now().replace(microsecond=0)
        ids = []
        with self._lock:
            for _ in range(n):
                customer_id = self._next_customer
                self._next_customer += 1
                self._customers[customer_id] = {
                    **CUSTOMER_DEFAULTS, "CustomerID": customer_id, "Email": f"bulk{customer_id}@example.com",
                    "BillingFirstName": "Bulk", "BillingLastName": f"Customer {customer_id}",
                    "CustomerGroupID": group_id, "Enabled": enabled, "MailList": mail_list,
                }
                self._updated[customer_id] = now
                ids.append(customer_id)
        return ids

    def add_people(self, n: int, *, seed: int = 0) -> list[int]:
        """``n`` generated customers with varied names, companies and phone spellings
        (``bot/sandbox/people.py``; the same ``n`` and ``seed`` give the same people)."""
        now = datetime.now().replace(microsecond=0)
        with self._lock:
            first = self._next_customer
            ids = list(range(first, first + n))
            for customer_id, fields in zip(ids, _people(n, seed=seed, first_id=first)):
                self._customers[customer_id] = {**CUSTOMER_DEFAULTS, **fields, "CustomerID": customer_id}
                self._updated[customer_id] = now
            self._next_customer = first + n
        return ids

    @property
    def match(self) -> str:
        """How text filters compare: ``"exact"`` (the whole field) or ``"substring"``."""
        return self._match

    @match.setter
    def match(self, how: str) -> None:
        if how not in ("exact", "substring"):
            raise ValueError(f"match must be 'exact' or 'substring', not {how!r}")
        self._match = how

    def add_group(self, name: str | None = None, **fields: Any) -> int:
        """Add one group (3dcart or model field names). Returns its ID."""
        record = {**GROUP_DEFAULTS, **_rename(fields, GROUP_FIELDS)}
        if name is not None:
            record["Name"] = name
        with self._lock:
            group_id = _as_int(record.get("CustomerGroupID")) or self._next_group
            record["CustomerGroupID"] = group_id
            self._next_group = max(self._next_group, group_id + 1)
            self._groups[group_id] = record
        return group_id

    def add_groups(self, n: int, *, prefix: str = "Group", auto_approve: bool = True) -> list[int]:
        """``n`` groups named ``"<prefix> 001"`` … (for stores with more than 100 groups)."""
        return [self.add_group(f"{prefix} {i:03d}", AutoApprove=auto_approve) for i in range(1, n + 1)]

    def last_update(self, customer_id: int) -> datetime | None:
        with self._lock:
            return self._updated.get(customer_id)

    def touch(self, customer_id: int, when: datetime | None = None) -> None:
        """Set a customer's internal last-update time (for ``lastupdatestart`` tests)."""
        with self._lock:
            self._updated[customer_id] = (when or datetime.now()).replace(microsecond=0)


    def extra_stats(self) -> dict[str, Any]:
        return {"customers": len(self._customers), "groups": len(self._groups), "throttle": self._bucket is not None}

    # ------------------------------------------------------------------ fault knobs (3dcart's own)

    def rate_limit_next(self, n: int = 1, retry_after: float | None = 1) -> None:
        """The next ``n`` requests answer 429, with ``Retry-After`` unless it is None."""
        self._queue(n, Failure(429, json.dumps([{"Message": "Too many requests."}]), retry_after=retry_after))

    def drip_next(self, n: int = 1, seconds: float = 2.0) -> None:
        """The next ``n`` requests are answered normally, but the body goes out one byte every
        ``seconds`` (headers at once): a store that is slow without ever going silent."""
        self._queue(n, Failure(0, drip=float(seconds)))

    def huge_next(self, n: int = 1, size: int = 64 * 1024 * 1024) -> None:
        """The next ``n`` requests answer 200 with a ``size``-byte JSON body, no Content-Length."""
        self._queue(n, Failure(200, huge=int(size)))

    def answer_as(self, mapping: Mapping[int, int] | None) -> None:
        """``GET /Customers/{a}`` answers customer ``b``'s record for each ``{a: b}`` (a proxy or
        store answering the wrong record). ``None`` or ``{}`` clears."""
        with self._lock:
            self._answer_as = {int(k): int(v) for k, v in (mapping or {}).items()}

    def drop_ids(self, on: bool = True) -> None:
        """Customer records are served without their ``CustomerID`` field."""
        with self._lock:
            self._drop_ids = bool(on)

    def substring_email(self, on: bool = True) -> None:
        """The ``email`` filter matches any address containing the one asked (``jane@example.com``
        also finds ``mary.jane@example.com``) — the docs do not say the filter is exact."""
        with self._lock:
            self._substring_email = bool(on)

    def throttle(self, burst: int | None = 50, per_second: float = 2.0) -> None:
        """Emulate 3dcart's leaky bucket (429 + Retry-After past it). ``burst=None`` turns it off."""
        with self._lock:
            self._bucket = _LeakyBucket(int(burst), float(per_second)) if burst else None

    def clear_faults(self) -> None:
        with self._lock:
            super().clear_faults()
            self._answer_as = {}
            self._drop_ids = False
            self._substring_email = False

    def control(self, commands: Mapping[str, Any]) -> dict[str, Any]:
        """Apply knobs by name, in order (the HTTP control endpoint's body). Returns ``stats()``.
        The shared knobs go to ``FaultyStore.control``; these take their argument their own way."""
        for name, arg in commands.items():
            if name == "answer_as":
                self.answer_as({int(k): int(v) for k, v in (arg or {}).items()})
            elif name in ("drop_ids", "substring_email"):
                getattr(self, name)(bool(arg))
            elif name == "match":
                self.match = str(arg)
            elif name == "add_people":
                self.add_people(**arg) if isinstance(arg, Mapping) else self.add_people(int(arg))
            else:
                super().control({name: arg})
        return self.stats()

    # ------------------------------------------------------------------ how faults look on 3dcart

    def admit(self) -> Reply | None:
        """The leaky bucket counts every request as it arrives (caller holds the lock)."""
        wait = self._bucket.admit() if self._bucket is not None else None
        if wait is None:
            return None
        return Reply(429, [{"Message": "Too many requests."}], {"Retry-After": str(max(1, math.ceil(wait)))})

    def failed(self, failure: Failure) -> Reply:
        headers = {"Retry-After": str(math.ceil(failure.retry_after))} if failure.retry_after is not None else {}
        if failure.html:
            return Reply(failure.status, raw=error_page(failure.status), headers=headers,
                         content_type="text/html; charset=utf-8")
        return Reply(failure.status, raw=failure.body.encode(), headers=headers)

    def crashed(self) -> Reply:
        """No input may cause a 500: whatever broke, it was the input."""
        return _message(400, INVALID)

    # ------------------------------------------------------------------ HTTP entry point

    def authorized(self, headers: Any) -> bool:
        return (
            _same_secure_url(headers.get("SecureURL") or "", self.secure_url)
            and (headers.get("PrivateKey") or "").strip() == self.private_key
            and (headers.get("Token") or "").strip() == self.token
        )

    def unauthorized(self) -> Reply:
        return _message(401, AUTH_FAILURE)

    def route(self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes) -> Reply:
        if method in ("POST", "PUT") and not _is_json(headers.get("Content-Type")):
            # ASP.NET Web API has no formatter for it: 415 before the body is looked at
            return _message(415, UNSUPPORTED_MEDIA)
        return self._route(method, path, {k.lower(): v for k, v in query.items() if v.strip()}, body)
