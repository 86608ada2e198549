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

``python -m bot sandbox`` runs ``main()``: a standalone server on port 8035.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import math
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .people import people as _people
from .threedcart import CUSTOMER_FIELDS, GROUP_FIELDS

log = logging.getLogger(__name__)

API_PREFIX = "/3dCartWebAPI/v1/"
CONTROL_PATH = "/_sandbox/control"
DEMO_SECURE_URL = "sandbox.3dcart.local"
DEMO_PRIVATE_KEY = "sandbox-private-key"
DEMO_TOKEN = "sandbox-token"
DATE_FORMAT = "%m/%d/%Y %H:%M:%S"
MAX_LIMIT = 500
DEFAULT_LIMIT = 10
REQUEST_LOG_SIZE = 200_000

AUTH_FAILURE = ("Authentication failure. The PrivateKey/Token/SecureURL combination is invalid, "
                "or the application scope does not have the correct read/write privileges.")
NO_CUSTOMERS = "No Customer records found."
GROUP_EMPTY = "The Customer Group was not found and/or contains no customer records."
CUSTOMER_MISSING = "The Customer record was not found."
NO_GROUPS = "There are no Customer Groups."
GROUP_MISSING = "The specified Customer Group does not exist."
PAST_END = "Offset amount exceeds the total number of records"
INVALID = "The request is invalid."
UNSUPPORTED_MEDIA = ("The request entity's media type is not supported for this resource "
                     "(send Content-Type: application/json).")

CUSTOMER_DEFAULTS: dict[str, Any] = {
    "CustomerID": 0, "Email": "", "Password": "", "BillingCompany": "", "BillingFirstName": "",
    "BillingLastName": "", "BillingAddress1": "", "BillingAddress2": "", "BillingCity": "",
    "BillingState": "", "BillingZipCode": "", "BillingCountry": "", "BillingPhoneNumber": "",
    "BillingTaxID": "", "ShippingCompany": "", "ShippingFirstName": "", "ShippingLastName": "",
    "ShippingAddress1": "", "ShippingAddress2": "", "ShippingCity": "", "ShippingState": "",
    "ShippingZipCode": "", "ShippingCountry": "", "ShippingPhoneNumber": "", "ShippingAddressType": 0,
    "CustomerGroupID": 0, "Enabled": True, "MailList": False, "NonTaxable": False,
    "DisableBillingSameAsShipping": False, "Comments": "", "AdditionalField1": "",
    "AdditionalField2": "", "AdditionalField3": "", "TotalStoreCredit": 0.0, "ResetPassword": False,
}
"""The documented Customer object, field order included."""

GROUP_DEFAULTS: dict[str, Any] = {
    "CustomerGroupID": 0, "Name": "", "Description": "", "MinimumOrder": 0.0, "NonTaxable": False,
    "AllowRegistration": True, "DisableRewardPoints": False, "AutoApprove": True,
    "RegistrationMessage": "", "PriceLevel": 0,
}

CUSTOMER_FILTERS = {  # query parameter → customer field
    "email": "Email", "firstname": "BillingFirstName", "lastname": "BillingLastName",
    "country": "BillingCountry", "state": "BillingState", "city": "BillingCity", "phone": "BillingPhoneNumber",
}

DEMO_GROUPS: list[dict[str, Any]] = [
    {"Name": "VIP", "Description": "Best customers: free shipping.", "AutoApprove": True,
     "AllowRegistration": False, "PriceLevel": 1},
    {"Name": "Wholesale", "Description": "Trade prices for resellers.", "AutoApprove": False,
     "AllowRegistration": True, "PriceLevel": 2, "MinimumOrder": 250.0,
     "RegistrationMessage": "Thanks! We review wholesale applications within one business day."},
    {"Name": "Staff", "Description": "Employees.", "AutoApprove": True, "AllowRegistration": False,
     "NonTaxable": True, "DisableRewardPoints": True},
    {"Name": "Distributors", "Description": "Regional distributors.", "AutoApprove": False,
     "AllowRegistration": True, "PriceLevel": 3, "MinimumOrder": 1000.0},
]

DEMO_CUSTOMERS: list[dict[str, Any]] = [
    # (days since last update, fields)
    {"_age": 40, "Email": "jane@example.com", "BillingFirstName": "Jane", "BillingLastName": "Doe",
     "BillingCompany": "Acme Ltd", "BillingCity": "Springfield", "BillingState": "IL",
     "BillingCountry": "United States", "BillingPhoneNumber": "+1 217 555 0101", "CustomerGroupID": 1,
     "TotalStoreCredit": 25.0, "Comments": "Prefers email contact."},
    {"_age": 30, "Email": "bob@example.com", "BillingFirstName": "Bob", "BillingLastName": "Stone",
     "BillingCompany": "Stone Hardware", "BillingCity": "Portland", "BillingState": "OR",
     "BillingCountry": "United States", "BillingPhoneNumber": "+1 503 555 0102", "CustomerGroupID": 2},
    {"_age": 1, "Email": "carol@example.com", "BillingFirstName": "Carol", "BillingLastName": "Reyes",
     "BillingCompany": "Reyes Trading", "BillingCity": "Austin", "BillingState": "TX",
     "BillingCountry": "United States", "BillingPhoneNumber": "+1 512 555 0103", "CustomerGroupID": 2,
     "Enabled": False, "Comments": "Wholesale application: 3 shops in Texas."},
    {"_age": 20, "Email": "dave@example.com", "BillingFirstName": "Dave", "BillingLastName": "Kim",
     "BillingCity": "Leeds", "BillingCountry": "United Kingdom", "BillingPhoneNumber": "+44 113 555 0104",
     "MailList": True},
    {"_age": 10, "Email": "erin@example.com", "BillingFirstName": "Erin", "BillingLastName": "Walsh",
     "BillingCity": "Springfield", "BillingState": "IL", "BillingCountry": "United States",
     "CustomerGroupID": 3, "Enabled": False, "Comments": "Left the company; account disabled."},
    {"_age": 15, "Email": "frank@example.com", "BillingFirstName": "Frank", "BillingLastName": "Otto",
     "BillingCompany": "Otto Supply Co", "BillingCity": "Toronto", "BillingState": "ON",
     "BillingCountry": "Canada", "BillingPhoneNumber": "+1 416 555 0106", "CustomerGroupID": 4},
    {"_age": 2, "Email": "grace@example.com", "BillingFirstName": "Grace", "BillingLastName": "Lin",
     "BillingCompany": "Lin Imports", "BillingCity": "Vancouver", "BillingState": "BC",
     "BillingCountry": "Canada", "BillingPhoneNumber": "+1 604 555 0107", "CustomerGroupID": 4,
     "Enabled": False, "MailList": True},
    {"_age": 5, "Email": "henry@example.com", "BillingFirstName": "Henry", "BillingLastName": "Park",
     "BillingCompany": "Park & Sons", "BillingCity": "Boston", "BillingState": "MA",
     "BillingCountry": "United States", "CustomerGroupID": 1, "MailList": True, "TotalStoreCredit": 100.0},
]


@dataclass(frozen=True)
class SandboxRequest:
    """One request the sandbox received (control requests excluded)."""

    method: str
    path: str
    query: dict[str, str]
    time: float
    body: Any = None
    """The request body as JSON (or text when it is not JSON); None when empty."""


@dataclass
class _Failure:
    status: int
    body: str = ""
    html: bool = False
    retry_after: float | None = None
    hang: float = 0.0
    drip: float = 0.0
    """Send headers, then the body one byte every ``drip`` seconds."""
    method: str | None = None
    """Only a request with this method takes the fault (others pass it by)."""
    huge: int = 0
    """Send a 200 body of this many bytes, without Content-Length (until the connection closes)."""


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


class _Reply(Exception):
    """An HTTP answer, raised from deep inside a handler to end it."""

    def __init__(self, status: int, body: Any = None, headers: Mapping[str, str] | None = None, *,
                 raw: bytes | None = None, content_type: str = "application/json; charset=utf-8") -> None:
        super().__init__(status)
        self.status = status
        self.payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        self.headers = {"Content-Type": content_type, **(headers or {})}
        self.drip = 0.0
        self.huge = 0
        self.stopping: threading.Event | None = None


def _message(status: int, text: str) -> _Reply:
    return _Reply(status, [{"Message": text}])


# ---------------------------------------------------------------------- value coercion

_INT_FIELDS = {"CustomerID", "CustomerGroupID", "ShippingAddressType", "PriceLevel"}
_BOOL_FIELDS = {"Enabled", "MailList", "NonTaxable", "DisableBillingSameAsShipping", "ResetPassword",
                "AllowRegistration", "DisableRewardPoints", "AutoApprove"}
_FLOAT_FIELDS = {"TotalStoreCredit", "MinimumOrder"}


def _coerce(name: str, value: Any) -> Any:
    """A written value in the field's type, like a typed store would bind it; ValueError if not."""
    if name in _BOOL_FIELDS:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError(name)
    if name in _INT_FIELDS:
        if isinstance(value, bool):
            raise ValueError(name)
        if isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,10}\s*", value)):
            number = int(value)
            if not -2**31 <= number < 2**31:  # Int32 in the real API
                raise ValueError(name)
            return number
        if isinstance(value, float) and value.is_integer() and -2**31 <= value < 2**31:
            return int(value)
        raise ValueError(name)
    if name in _FLOAT_FIELDS:
        if isinstance(value, (bool, list, dict)):
            raise ValueError(name)
        try:
            number = float(value)
        except OverflowError:  # a 401-digit integer
            raise ValueError(name) from None
        if not math.isfinite(number):
            raise ValueError(name)
        return number
    if isinstance(value, (list, dict)):  # Json.NET cannot bind an array or object to a string
        raise ValueError(name)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(name)
    return "" if value is None else str(value)


_FIELD_NAMES = {name.lower(): name for name in (*CUSTOMER_DEFAULTS, *GROUP_DEFAULTS)}
"""Lower-case property name → the documented one."""


def _filter_matches(stored: str, wanted: str, *, substring: bool = False) -> bool:
    return wanted in stored if substring else stored == wanted


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return 0


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return bool(value)


def _rename(fields: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    """Model attribute names (``first_name``) → 3dcart names; 3dcart names pass through."""
    return {mapping.get(key, key): value for key, value in fields.items()}


def _write_result(key: str, record_id: int | str, status: int, message: str) -> dict[str, str]:
    return {"Key": key, "Value": str(record_id), "Status": str(status), "Message": message}


def _bulk_status(results: list[dict[str, str]], success: int) -> int:
    statuses = [int(r["Status"]) for r in results]
    ok = [s for s in statuses if 200 <= s < 300]
    if len(ok) == len(statuses):
        return success
    if ok:
        return 206
    return 404 if all(s == 404 for s in statuses) else 400


def _same_secure_url(given: str, expected: str) -> bool:
    def norm(url: str) -> str:
        url = url.strip().lower()
        url = re.sub(r"^https?://", "", url)
        return url.rstrip("/")
    return bool(given) and norm(given) == norm(expected)


# ---------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], store: SandboxStore) -> None:
        self.store = store
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Close kept-alive connections too, so a stopped sandbox really refuses clients."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes: without this, delayed ACKs add ~40 ms per call.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802 — http.server's naming
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._serve("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def do_PATCH(self) -> None:  # noqa: N802
        self._serve("PATCH")

    def do_HEAD(self) -> None:  # noqa: N802 — ASP.NET Web API maps no route to HEAD: 405, no body
        self._serve("HEAD")

    def do_OPTIONS(self) -> None:  # noqa: N802 — no CORS on the API: 405 like any other verb
        self._serve("OPTIONS")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        reply = self.server.store.handle(method, parts.path, query, self.headers, body)
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.huge:
                self.send_header("Connection", "close")
                self.close_connection = True
                self.end_headers()
                self._send_huge(reply)
                return
            self.send_header("Content-Length", str(len(reply.payload)))
            self.end_headers()
            if reply.drip:
                self._send_drip(reply)
            elif method != "HEAD":
                self.wfile.write(reply.payload)
        except OSError:  # the client gave up (timeouts in tests) or the sandbox is stopping
            self.close_connection = True

    def _send_drip(self, reply: _Reply) -> None:
        """Fault knob ``drip_next``: the body one byte at a time, ``reply.drip`` seconds apart."""
        self.wfile.flush()
        for position in range(len(reply.payload)):
            if reply.stopping is not None and reply.stopping.wait(reply.drip):
                raise OSError("sandbox stopping")
            self.wfile.write(reply.payload[position:position + 1])
            self.wfile.flush()

    def _send_huge(self, reply: _Reply) -> None:
        """Fault knob ``huge_next``: ``reply.huge`` bytes of a JSON array, no Content-Length."""
        chunk = b'{"CustomerID": 1, "Email": "huge@example.com"},' * 1000
        self.wfile.write(b"[")
        sent = 1
        while sent < reply.huge:
            self.wfile.write(chunk)
            sent += len(chunk)
        self.wfile.write(b'{"CustomerID": 1}]')

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — stdlib signature
        log.debug("sandbox: " + format, *args)


# ---------------------------------------------------------------------- the store


class SandboxStore:
    """An in-memory 3dcart store behind real HTTP. Thread-safe: one lock guards all state."""

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
        self.host = host
        self._requested_port = port
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
        self._lock = threading.RLock()
        self._customers: dict[int, dict[str, Any]] = {}
        self._updated: dict[int, datetime] = {}
        self._groups: dict[int, dict[str, Any]] = {}
        self._next_customer = 1
        self._next_group = 1
        self._log: deque[SandboxRequest] = deque(maxlen=REQUEST_LOG_SIZE)
        self._latency = latency
        self._failures: deque[_Failure] = deque()
        self._fail_ids: dict[int, int] = {}
        self._answer_as: dict[int, int] = {}
        self._drop_ids = False
        self._substring_email = False
        self._bucket: _LeakyBucket | None = None
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        if seed_demo:
            self._seed_demo()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SandboxStore:
        if self._server is None:
            self._stopping.clear()
            self._server = _Server((self.host, self._requested_port), self)
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                name=f"sandbox-store-{self.port}", daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.drop_connections()
        self._stopping.set()  # ends hangs and latency sleeps (their connections are closed already)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxStore:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            return self._requested_port
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The API base URL, e.g. ``http://127.0.0.1:8035/3dCartWebAPI/v1/``."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}{API_PREFIX}"

    @property
    def control_url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}{CONTROL_PATH}"

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
        (``bot/store/people.py``; the same ``n`` and ``seed`` give the same people)."""
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

    def customer(self, customer_id: int) -> dict[str, Any] | None:
        """A copy of the raw record (3dcart field names), or None."""
        with self._lock:
            record = self._customers.get(customer_id)
            return copy.deepcopy(record) if record is not None else None

    def group(self, group_id: int) -> dict[str, Any] | None:
        with self._lock:
            record = self._groups.get(group_id)
            return copy.deepcopy(record) if record is not None else None

    def customers(self) -> list[dict[str, Any]]:
        """Copies of every raw customer record, by ID."""
        with self._lock:
            return [copy.deepcopy(r) for _, r in sorted(self._customers.items())]

    def groups(self) -> list[dict[str, Any]]:
        """Copies of every raw group record, by ID."""
        with self._lock:
            return [copy.deepcopy(r) for _, r in sorted(self._groups.items())]

    def last_update(self, customer_id: int) -> datetime | None:
        with self._lock:
            return self._updated.get(customer_id)

    def touch(self, customer_id: int, when: datetime | None = None) -> None:
        """Set a customer's internal last-update time (for ``lastupdatestart`` tests)."""
        with self._lock:
            self._updated[customer_id] = (when or datetime.now()).replace(microsecond=0)

    # ------------------------------------------------------------------ observing

    @property
    def requests(self) -> list[SandboxRequest]:
        with self._lock:
            return list(self._log)

    def request_count(self, method: str | None = None, path_contains: str | None = None) -> int:
        """Requests received (each retry counts), optionally by method and path fragment (any case)."""
        method = method.upper() if method else None
        fragment = path_contains.lower() if path_contains else None
        with self._lock:
            return sum(
                1 for r in self._log
                if (method is None or r.method == method) and (fragment is None or fragment in r.path.lower())
            )

    def reset_counts(self) -> None:
        with self._lock:
            self._log.clear()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": len(self._log), "customers": len(self._customers), "groups": len(self._groups),
                "latency": self._latency, "queued_faults": len(self._failures),
                "fail_ids": sorted(self._fail_ids), "throttle": self._bucket is not None,
            }

    # ------------------------------------------------------------------ fault knobs

    @property
    def latency(self) -> float:
        with self._lock:
            return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        with self._lock:
            self._latency = max(0.0, float(seconds))

    def fail_next(self, n: int = 1, status: int = 500, body: str = "", *, html: bool = False,
                  method: str | None = None) -> None:
        """The next ``n`` requests (of ``method`` only, when given) answer ``status`` with ``body``
        (empty by default) or an HTML page."""
        self._queue(n, _Failure(int(status), body, html, method=method.upper() if method else None))

    def rate_limit_next(self, n: int = 1, retry_after: float | None = 1) -> None:
        """The next ``n`` requests answer 429, with ``Retry-After`` unless it is None."""
        self._queue(n, _Failure(429, json.dumps([{"Message": "Too many requests."}]), retry_after=retry_after))

    def hang_next(self, n: int = 1, seconds: float = 5.0) -> None:
        """The next ``n`` requests wait ``seconds`` (or until ``stop()``) before being served."""
        self._queue(n, _Failure(0, hang=float(seconds)))

    def drip_next(self, n: int = 1, seconds: float = 2.0) -> None:
        """The next ``n`` requests are answered normally, but the body goes out one byte every
        ``seconds`` (headers at once): a store that is slow without ever going silent."""
        self._queue(n, _Failure(0, drip=float(seconds)))

    def huge_next(self, n: int = 1, size: int = 64 * 1024 * 1024) -> None:
        """The next ``n`` requests answer 200 with a ``size``-byte JSON body, no Content-Length."""
        self._queue(n, _Failure(200, huge=int(size)))

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

    def fail_ids(self, ids: Iterable[int], status: int = 400) -> None:
        """PUTs to these customers fail with ``status`` (a bulk PUT then answers 206). ``[]`` clears."""
        with self._lock:
            self._fail_ids = {int(i): int(status) for i in ids}

    def throttle(self, burst: int | None = 50, per_second: float = 2.0) -> None:
        """Emulate 3dcart's leaky bucket (429 + Retry-After past it). ``burst=None`` turns it off."""
        with self._lock:
            self._bucket = _LeakyBucket(int(burst), float(per_second)) if burst else None

    def clear_faults(self) -> None:
        with self._lock:
            self._failures.clear()
            self._fail_ids = {}
            self._bucket = None
            self._latency = 0.0
            self._answer_as = {}
            self._drop_ids = False
            self._substring_email = False

    def control(self, commands: Mapping[str, Any]) -> dict[str, Any]:
        """Apply knobs by name, in order (the HTTP control endpoint's body). Returns ``stats()``."""
        for name, arg in commands.items():
            if name == "latency":
                self.latency = float(arg)
            elif name in ("answer_as",):
                self.answer_as({int(k): int(v) for k, v in (arg or {}).items()})
            elif name in ("drop_ids", "substring_email"):
                getattr(self, name)(bool(arg))
            elif name == "match":
                self.match = str(arg)
            elif name == "add_people":
                self.add_people(**arg) if isinstance(arg, Mapping) else self.add_people(int(arg))
            elif name in ("fail_next", "rate_limit_next", "hang_next", "drip_next", "huge_next", "add_customers",
                          "add_groups", "throttle"):
                method = getattr(self, name)
                if arg is None and name == "throttle":
                    method(None)
                elif isinstance(arg, Mapping):
                    method(**arg)
                else:
                    method(arg)
            elif name == "fail_ids":
                if isinstance(arg, Mapping):
                    self.fail_ids(arg.get("ids", []), arg.get("status", 400))
                else:
                    self.fail_ids(arg)
            elif name in ("clear_faults", "reset_counts"):
                if arg:
                    getattr(self, name)()
            else:
                raise ValueError(f"unknown control: {name}")
        return self.stats()

    def _queue(self, n: int, failure: _Failure) -> None:
        with self._lock:
            self._failures.extend(copy.copy(failure) for _ in range(max(0, int(n))))

    def _take_fault(self, method: str = "GET") -> _Reply | float | None:
        """Apply latency, hangs, queued failures and throttling to the request being served."""
        with self._lock:
            latency = self._latency
            failure = next((f for f in self._failures if f.method in (None, method)), None)
            if failure is not None:
                self._failures.remove(failure)
            wait = self._bucket.admit() if self._bucket is not None else None
        if latency:
            self._stopping.wait(latency)
        if failure is not None and failure.hang:
            self._stopping.wait(failure.hang)
            failure = None
        if failure is not None and failure.drip:
            return failure.drip
        if failure is not None and failure.huge:
            reply = _Reply(200)
            reply.huge = failure.huge
            return reply
        if failure is not None:
            headers = {"Retry-After": str(math.ceil(failure.retry_after))} if failure.retry_after is not None else {}
            if failure.html:
                page = f"<html><head><title>{failure.status} Error</title></head><body><h1>Server Error</h1></body></html>"
                return _Reply(failure.status, raw=page.encode(), headers=headers, content_type="text/html; charset=utf-8")
            return _Reply(failure.status, raw=failure.body.encode(), headers=headers)
        if wait is not None:
            return _Reply(429, [{"Message": "Too many requests."}], {"Retry-After": str(max(1, math.ceil(wait)))})
        return None

    # ------------------------------------------------------------------ HTTP entry point

    def handle(self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes) -> _Reply:
        """Serve one request (called by the HTTP handler thread)."""
        if path.rstrip("/").lower() == CONTROL_PATH:
            return self._serve_control(method, body)
        with self._lock:
            self._log.append(SandboxRequest(method, path, dict(query), time.time(), _logged_body(body)))
        drip = 0.0
        try:
            fault = self._take_fault(method)
            if isinstance(fault, float):
                drip, fault = fault, None
            if fault is not None:
                return fault
            reply = self._serve_api(method, path, query, headers, body)
        except _Reply as answer:
            reply = answer
        except Exception:  # noqa: BLE001 — no input may cause a 500: whatever broke, it was the input
            log.exception("sandbox failed on %s %s", method, path)
            reply = _message(400, INVALID)
        if drip:
            reply.drip, reply.stopping = drip, self._stopping
        return reply

    def _serve_api(self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes) -> _Reply:
        if not self._authorized(headers):
            return _message(401, AUTH_FAILURE)
        if method in ("POST", "PUT") and not _is_json(headers.get("Content-Type")):
            # ASP.NET Web API has no formatter for it: 415 before the body is looked at
            return _message(415, UNSUPPORTED_MEDIA)
        return self._route(method, path, {k.lower(): v for k, v in query.items() if v.strip()}, body)

    def _serve_control(self, method: str, body: bytes) -> _Reply:
        if method == "GET":
            return _Reply(200, self.stats())
        if method != "POST":
            return _Reply(405, {"error": "use GET or POST"})
        try:
            commands = json.loads(body or b"{}")
            if not isinstance(commands, Mapping):
                raise ValueError("the body must be a JSON object")
            return _Reply(200, self.control(commands))
        except (ValueError, TypeError) as exc:
            return _Reply(400, {"error": str(exc)})

    def _authorized(self, headers: Any) -> bool:
        return (
            _same_secure_url(headers.get("SecureURL") or "", self.secure_url)
            and (headers.get("PrivateKey") or "").strip() == self.private_key
            and (headers.get("Token") or "").strip() == self.token
        )

    _ROUTES = [
        (re.compile(r"customers"), "_route_customers"),
        (re.compile(r"customers/(\d+)"), "_route_customer"),
        (re.compile(r"customergroups"), "_route_groups"),
        (re.compile(r"customergroups/(\d+)"), "_route_group"),
        (re.compile(r"customergroups/(\d+)/customers"), "_route_group_members"),
    ]

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> _Reply:
        lowered = path.lower()
        prefix = API_PREFIX.lower()
        if not lowered.startswith(prefix.rstrip("/")):
            raise _message(404, "No HTTP resource was found that matches the request URI.")
        rest = lowered[len(prefix):].strip("/")
        for pattern, name in self._ROUTES:
            match = pattern.fullmatch(rest)
            if match:
                return getattr(self, name)(method, query, body, *(int(g) for g in match.groups()))
        raise _message(404, "No HTTP resource was found that matches the request URI.")

    # ------------------------------------------------------------------ resources

    def _route_customers(self, method: str, query: dict[str, str], body: bytes) -> _Reply:
        if method == "GET":
            with self._lock:
                return self._list(self._select(self._customers.values(), query), query, NO_CUSTOMERS)
        if method == "POST":
            return self._create_customers(_json_items(body))
        if method == "PUT":
            return self._update_customers(_json_items(body))
        raise _not_allowed(method)

    def _route_customer(self, method: str, query: dict[str, str], body: bytes, customer_id: int) -> _Reply:
        return self._route_record(method, body, customer_id, "CustomerID", self._customers, CUSTOMER_MISSING,
                                  self._update_customer, self._delete_customer)

    def _route_group_members(self, method: str, query: dict[str, str], body: bytes, group_id: int) -> _Reply:
        if method != "GET":
            raise _not_allowed(method)
        with self._lock:
            if group_id not in self._groups:
                raise _message(404, GROUP_EMPTY)
            members = [c for c in self._customers.values() if _as_int(c.get("CustomerGroupID")) == group_id]
            return self._list(self._select(members, query), query, GROUP_EMPTY)

    def _route_groups(self, method: str, query: dict[str, str], body: bytes) -> _Reply:
        if method == "GET":
            with self._lock:
                return self._list([g for _, g in sorted(self._groups.items())], query, NO_GROUPS,
                                  base=self.group_offset_base)
        if method == "POST":
            return self._create_groups(_json_items(body))
        if method == "PUT":
            items = _json_items(body)
            results = [self._update_group(_as_int(item.get("CustomerGroupID")), item) for item in items]
            return _Reply(_bulk_status(results, 200), results)
        raise _not_allowed(method)

    def _route_group(self, method: str, query: dict[str, str], body: bytes, group_id: int) -> _Reply:
        return self._route_record(method, body, group_id, "CustomerGroupID", self._groups, GROUP_MISSING,
                                  self._update_group, self._delete_group)

    def _route_record(self, method: str, body: bytes, record_id: int, key: str, table: dict[int, dict[str, Any]],
                      missing: str, update: Callable[[int, dict[str, Any]], dict[str, Any]],
                      delete: Callable[[int], bool]) -> _Reply:
        """GET / PUT / DELETE of one customer or one group: the two behave alike."""
        if method == "GET":
            with self._lock:
                if table is self._customers:
                    record_id = self._answer_as.get(record_id, record_id)
                record = table.get(record_id)
                if record is None:
                    raise _message(404, missing)
                return _Reply(200, [self._served(record)])
        if method == "PUT":
            if not body.lstrip().startswith(b"{"):  # one record: one object, as the docs show
                raise _message(400, INVALID)
            items = _json_items(body)
            result = update(record_id, items[0])
            return _Reply(int(result["Status"]), [result])
        if method == "DELETE":
            if not delete(record_id):
                return _Reply(404, [_write_result(key, record_id, 404, missing)])
            return _Reply(200, [_write_result(key, record_id, 200, "Deleted successfully")])
        raise _not_allowed(method)

    def _delete_customer(self, customer_id: int) -> bool:
        with self._lock:
            self._updated.pop(customer_id, None)
            return self._customers.pop(customer_id, None) is not None

    def _delete_group(self, group_id: int) -> bool:
        """Deleting a group moves its members to no group (0)."""
        with self._lock:
            if self._groups.pop(group_id, None) is None:
                return False
            now = datetime.now().replace(microsecond=0)
            for record in self._customers.values():
                if _as_int(record.get("CustomerGroupID")) == group_id:
                    record["CustomerGroupID"] = 0
                    self._updated[record["CustomerID"]] = now
        return True

    # ------------------------------------------------------------------ reading

    def _select(self, records: Iterable[dict[str, Any]], query: dict[str, str]) -> list[dict[str, Any]]:
        """Filter and sort by ID (caller holds the lock; the records are live, not copies)."""
        start = _parse_date(query.get("lastupdatestart"))
        end = _parse_date(query.get("lastupdateend"))
        wanted = {CUSTOMER_FILTERS[p]: v.strip().lower() for p, v in query.items() if p in CUSTOMER_FILTERS}
        inside = self._match == "substring"
        chosen = []
        substring = self._substring_email
        for record in records:
            if any(not _filter_matches(str(record.get(name) or "").strip().lower(), value,
                                       substring=inside or (substring and name == "Email"))
                   for name, value in wanted.items()):
                continue
            stamp = self._updated.get(record["CustomerID"])
            if (start and (stamp is None or stamp < start)) or (end and (stamp is None or stamp > end)):
                continue
            chosen.append(record)
        chosen.sort(key=lambda r: r["CustomerID"])
        return chosen

    def _list(self, records: list[dict[str, Any]], query: dict[str, str], empty: str, *,
              base: int | None = None) -> _Reply:
        """One page of ``records`` as 3dcart answers it (caller holds the lock: the reply is
        serialised here, which is what snapshots the records)."""
        if _truthy(query.get("countonly")):
            return _Reply(200, {"TotalCount": len(records)})
        if not records:
            raise _message(404, empty)
        limit = _query_int(query, "limit", DEFAULT_LIMIT)
        base = self.offset_base if base is None else base
        offset = _query_int(query, "offset", base)
        if limit < 1 or offset < 0:
            raise _message(400, INVALID)
        start = max(0, offset - base)
        if start >= len(records):
            raise _message(400, PAST_END)
        return _Reply(200, [self._served(r) for r in records[start:start + min(limit, self.max_limit)]])

    def _served(self, record: dict[str, Any]) -> dict[str, Any]:
        """A record as sent (caller holds the lock): fault knob ``drop_ids`` strips CustomerID."""
        if self._drop_ids and "Email" in record:
            return {k: v for k, v in record.items() if k != "CustomerID"}
        return record

    # ------------------------------------------------------------------ writing

    def _create_customers(self, items: list[dict[str, Any]]) -> _Reply:
        results = []
        for item in items:
            fields = {k: v for k, v in item.items() if k in CUSTOMER_DEFAULTS and k != "CustomerID"}
            with self._lock:
                error = self._customer_error(None, fields)
                if error is None:
                    try:
                        coerced = {k: _coerce(k, v) for k, v in fields.items() if v is not None}
                    except (ValueError, TypeError) as exc:
                        error = f"The value for {exc} is not valid."
                if error is not None:
                    results.append(_write_result("CustomerID", 0, 400, error))
                    continue
                customer_id = self._next_customer
                self._next_customer += 1
                self._customers[customer_id] = {**CUSTOMER_DEFAULTS, **coerced, "CustomerID": customer_id, "Password": ""}
                self._updated[customer_id] = datetime.now().replace(microsecond=0)
            results.append(_write_result("CustomerID", customer_id, 201, "Created successfully"))
        return _Reply(_bulk_status(results, 201), results)

    def _update_customers(self, items: list[dict[str, Any]]) -> _Reply:
        results = []
        for item in items:
            customer_id = _as_int(item.get("CustomerID"))
            if not customer_id:
                results.append(_write_result("CustomerID", "", 400, "CustomerID is required."))
            else:
                results.append(self._update_customer(customer_id, item))
        return _Reply(_bulk_status(results, 200), results)

    def _update_customer(self, customer_id: int, item: Mapping[str, Any]) -> dict[str, str]:
        """Partial update: only the fields sent change."""
        fields = {k: v for k, v in item.items() if k in CUSTOMER_DEFAULTS and k not in ("CustomerID", "Password")}
        with self._lock:
            record = self._customers.get(customer_id)
            if record is None:
                return _write_result("CustomerID", customer_id, 404, CUSTOMER_MISSING)
            if customer_id in self._fail_ids:
                return _write_result("CustomerID", customer_id, self._fail_ids[customer_id],
                                     "Simulated failure (sandbox fail_ids).")
            error = self._customer_error(customer_id, fields)
            if error is None:
                try:
                    coerced = {k: _coerce(k, v) for k, v in fields.items() if v is not None}
                except (ValueError, TypeError) as exc:
                    error = f"The value for {exc} is not valid."
            if error is not None:
                return _write_result("CustomerID", customer_id, 400, error)
            record.update(coerced)
            self._updated[customer_id] = datetime.now().replace(microsecond=0)
        return _write_result("CustomerID", customer_id, 200, "updated successfully")

    def _customer_error(self, customer_id: int | None, fields: Mapping[str, Any]) -> str | None:
        """Why these fields can't be written (caller holds the lock), or None."""
        if customer_id is None and not str(fields.get("Email") or "").strip():
            return "Email is required."
        if "Email" in fields:
            email = str(fields.get("Email") or "").strip().lower()
            if not email:
                return "Email is required."
            if any(str(c.get("Email") or "").strip().lower() == email and c["CustomerID"] != customer_id
                   for c in self._customers.values()):
                return f"A customer with the email {email} already exists."
        if "CustomerGroupID" in fields and fields["CustomerGroupID"] is not None:
            group_id = _as_int(fields["CustomerGroupID"])
            if group_id and group_id not in self._groups:
                return f"CustomerGroupID {fields['CustomerGroupID']} does not exist."
        return None

    def _create_groups(self, items: list[dict[str, Any]]) -> _Reply:
        results = []
        for item in items:
            fields = {k: v for k, v in item.items() if k in GROUP_DEFAULTS and k != "CustomerGroupID"}
            try:
                coerced = {k: _coerce(k, v) for k, v in fields.items() if v is not None}
            except (ValueError, TypeError) as exc:
                results.append(_write_result("CustomerGroupID", 0, 400, f"The value for {exc} is not valid."))
                continue
            if not str(coerced.get("Name") or "").strip():
                results.append(_write_result("CustomerGroupID", 0, 400, "Name is required."))
                continue
            group_id = self.add_group(**coerced)
            results.append(_write_result("CustomerGroupID", group_id, 201, "Created successfully"))
        return _Reply(_bulk_status(results, 201), results)

    def _update_group(self, group_id: int, item: Mapping[str, Any]) -> dict[str, str]:
        fields = {k: v for k, v in item.items() if k in GROUP_DEFAULTS and k != "CustomerGroupID"}
        with self._lock:
            record = self._groups.get(group_id)
            if record is None:
                return _write_result("CustomerGroupID", group_id, 404, GROUP_MISSING)
            try:
                coerced = {k: _coerce(k, v) for k, v in fields.items() if v is not None}
            except (ValueError, TypeError) as exc:
                return _write_result("CustomerGroupID", group_id, 400, f"The value for {exc} is not valid.")
            if "Name" in coerced and not coerced["Name"].strip():
                return _write_result("CustomerGroupID", group_id, 400, "Name is required.")
            record.update(coerced)
        return _write_result("CustomerGroupID", group_id, 200, "updated successfully")


# ---------------------------------------------------------------------- request helpers


def _json_items(body: bytes) -> list[dict[str, Any]]:
    """A write body: an array of objects, or one object. Property names bind case-insensitively
    (``{"enabled": false}`` sets ``Enabled``), as ASP.NET Web API's JSON formatter does."""
    try:
        data = json.loads(body or b"null")
    except (ValueError, RecursionError):
        raise _message(400, INVALID) from None
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(item, dict) for item in items):
        raise _message(400, INVALID)
    return [{_FIELD_NAMES.get(str(k).lower(), k): v for k, v in item.items()} for item in items]


def _logged_body(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return body.decode("utf-8", errors="replace")


def _query_int(query: Mapping[str, str], name: str, default: int) -> int:
    value = query.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise _message(400, INVALID) from None


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("1", "true", "yes")


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    for fmt in (DATE_FORMAT, "%m/%d/%Y"):
        try:
            return datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
    raise _message(400, f"Invalid date: {value} (expected mm/dd/yyyy hh:mm:ss).")


def _not_allowed(method: str) -> _Reply:
    return _Reply(405, {"Message": f"The requested resource does not support http method '{method}'."})


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return media in ("application/json", "text/json")


# ---------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    """``python -m bot sandbox``: serve the demo store until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m bot sandbox", description="Run the 3dcart sandbox store with demo data.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8035, help="port (default 8035; 0 = any free port)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--throttle", action="store_true",
                        help="answer 429 past a leaky bucket like 3dcart's (burst 50, 2 requests/s)")
    parser.add_argument("--customers", type=int, default=0, metavar="N", help="add N generated customers")
    parser.add_argument("--people", type=int, default=0, metavar="N",
                        help="add N generated customers with varied names, companies and phone numbers")
    parser.add_argument("--match", choices=("exact", "substring"), default="exact",
                        help="text filters match the whole field (default) or any part of it")
    args = parser.parse_args(argv)
    store = SandboxStore(args.host, args.port, latency=args.latency, match=args.match)
    if args.people > 0:
        store.add_people(args.people)
    if args.throttle:
        store.throttle()
    if args.customers > 0:
        store.add_customers(args.customers)
    try:
        store.start()
    except OSError as exc:
        print(f"Could not listen on {args.host}:{args.port}: {exc.strerror or exc}")
        return 1
    print(f"3dcart sandbox store (demo data) at {store.url}")
    print("Point the bot at it with these settings (demo values, not secrets):")
    for name, value in store.credentials().items():
        print(f"{name}={value}")
    print(f"Fault control: POST {store.control_url}  ·  Ctrl-C to stop.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nStopping the sandbox store.")
    finally:
        store.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
