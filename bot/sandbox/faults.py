"""What every demo store shares: a real local HTTP server (``server.py``), a request log and fault
knobs.

A store subclasses ``FaultyStore`` and implements ``route`` (its API) and ``authorized``; it may
override ``rate_limited`` / ``failed`` (how its faults look), ``admit`` / ``throttled`` (its
quota), ``crashed`` (its answer when serving raised) and ``answer_headers`` (headers on every
answer). Its records live in ``_customers`` / ``_groups`` (by ID, in its own field names), which
``customer()``, ``group()``, ``customers()`` and ``groups()`` copy out for tests.

Fault knobs (Python API, or ``POST /_sandbox/control`` with a JSON object whose keys are the
method names, e.g. ``{"latency": 0.2, "fail_next": {"n": 2, "status": 503}}``; ``GET`` on the
same path returns counters): ``latency``, ``fail_next``, ``rate_limit_next``, ``hang_next``,
``fail_ids``, ``throttle``, ``clear_faults``, ``reset_counts``, plus the store's own seeding
knobs named in ``CONTROLS``. Control requests are neither counted nor faulted.

Faults a store may offer as its own knobs (the 3dcart store does): a queued ``Failure`` with
``drip`` (the body one byte at a time) or ``huge`` (a reply of any size, no Content-Length), and
``fail_next(method=...)`` (only requests of that method take the fault).
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .server import Handler, Reply, Server, error_page

log = logging.getLogger(__name__)

CONTROL_PATH = "/_sandbox/control"
REQUEST_LOG_SIZE = 200_000


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
class Failure:
    """A queued fault: answer ``status`` with ``body``, or hang ``hang`` seconds first."""

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


class FaultyStore:
    """A demo store behind real HTTP, with the shared fault knobs. Thread-safe (one lock)."""

    CONTROLS: tuple[str, ...] = ()
    """The store's own knobs the control endpoint may call (e.g. ``add_customers``)."""
    label = "sandbox"
    handler: type[Handler] = Handler
    """The request handler class (which HTTP methods the server takes)."""
    HUGE_RECORD = b'{"id": 1}'
    HUGE_LAST = b'{"id": 1}'
    """What a ``huge`` reply repeats, and the record that ends it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, latency: float = 0.0) -> None:
        self.host = host
        self._requested_port = port
        self._lock = threading.RLock()
        self._log: deque[SandboxRequest] = deque(maxlen=REQUEST_LOG_SIZE)
        self._latency = latency
        self._failures: deque[Failure] = deque()
        self._fail_ids: dict[int, int] = {}
        self._stopping = threading.Event()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._customers: dict[int, dict[str, Any]] = {}
        self._groups: dict[int, dict[str, Any]] = {}
        """The store's records by ID, in its own field names (guarded by ``_lock``)."""

    # ------------------------------------------------------------------ for subclasses

    def route(self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes) -> Reply:
        raise NotImplementedError

    def authorized(self, headers: Any) -> bool:
        return True

    def unauthorized(self) -> Reply:
        return Reply(401, {"message": "Unauthorized"})

    def rate_limited(self, failure: Failure) -> Reply:
        headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
        return Reply(429, raw=failure.body.encode(), headers=headers)

    def throttled(self) -> Reply | None:
        """A 429 when the store's own request quota is used up, else None (no throttle here)."""
        return None

    def admit(self) -> Reply | None:
        """Like ``throttled``, but asked under the store's lock as the request arrives, before
        latency and queued faults (a quota that counts every request, faulted or not)."""
        return None

    def failed(self, failure: Failure) -> Reply:
        """The answer for a queued failure (not a hang, drip or huge one)."""
        if failure.status == 429:
            return self.rate_limited(failure)
        if failure.html:
            return Reply(failure.status, raw=error_page(failure.status), content_type="text/html; charset=utf-8")
        return Reply(failure.status, raw=failure.body.encode())

    def crashed(self) -> Reply:
        """The answer when serving a request raised (a sandbox bug, or input it did not expect)."""
        return Reply(500, {"message": "An error has occurred."})

    def answer_headers(self) -> dict[str, str]:
        """Headers added to every API answer (rate-limit counters, say)."""
        return {}

    def extra_stats(self) -> dict[str, Any]:
        return {}

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FaultyStore:
        if self._server is None:
            self._stopping.clear()
            self._server = Server((self.host, self._requested_port), self)
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                name=f"sandbox-{self.label}-{self.port}", daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.drop_connections()
        self._stopping.set()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            return self._requested_port
        return self._server.server_address[1]

    @property
    def origin(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    @property
    def control_url(self) -> str:
        return self.origin + CONTROL_PATH

    # ------------------------------------------------------------------ records

    def customer(self, customer_id: int) -> dict[str, Any] | None:
        """A copy of the raw record (the store's field names), or None."""
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
            return {"requests": len(self._log), "latency": self._latency, "queued_faults": len(self._failures),
                    "fail_ids": sorted(self._fail_ids), **self.extra_stats()}

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
        self._queue(n, Failure(int(status), body, html, method=method.upper() if method else None))

    def rate_limit_next(self, n: int = 1, retry_after: float | None = 1) -> None:
        """The next ``n`` requests answer 429 (``retry_after`` seconds until the quota refills;
        None: a 429 without the rate-limit headers)."""
        self._queue(n, Failure(429, json.dumps([{"status": 429, "message": "Too many requests."}]),
                               retry_after=retry_after))

    def hang_next(self, n: int = 1, seconds: float = 5.0) -> None:
        """The next ``n`` requests wait ``seconds`` (or until ``stop()``) before being served."""
        self._queue(n, Failure(0, hang=float(seconds)))

    def fail_ids(self, ids: Iterable[int], status: int = 400) -> None:
        """Writes to these customers fail with ``status``. ``[]`` clears."""
        with self._lock:
            self._fail_ids = {int(i): int(status) for i in ids}

    def failing_id(self, record_id: int) -> int | None:
        with self._lock:
            return self._fail_ids.get(record_id)

    def throttle(self, quota: Any = None, *args: Any, **kwargs: Any) -> None:
        """Enforce the store's request quota; ``None`` turns it off. Stores with a quota override it."""
        if quota is not None:
            raise ValueError("this sandbox has no throttle")

    def clear_faults(self) -> None:
        with self._lock:
            self._failures.clear()
            self._fail_ids = {}
            self._latency = 0.0
        self.throttle(None)

    def control(self, commands: Mapping[str, Any]) -> dict[str, Any]:
        """Apply knobs by name, in order (the HTTP control endpoint's body). Returns ``stats()``."""
        for name, arg in commands.items():
            if name == "latency":
                self.latency = float(arg)
            elif name in ("fail_next", "rate_limit_next", "hang_next", "throttle", *self.CONTROLS):
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

    def _queue(self, n: int, failure: Failure) -> None:
        with self._lock:
            self._failures.extend(copy.copy(failure) for _ in range(max(0, int(n))))

    def _take_fault(self, method: str) -> Reply | float | None:
        """Apply latency, hangs, queued failures and the quota to the request being served: a
        reply to send instead of serving it, a drip interval (serve it, slowly), or None."""
        with self._lock:
            latency = self._latency
            failure = next((f for f in self._failures if f.method in (None, method)), None)
            if failure is not None:
                self._failures.remove(failure)
            refused = self.admit()
        if latency:
            self._stopping.wait(latency)
        if failure is not None and failure.hang:
            self._stopping.wait(failure.hang)
            failure = None
        if failure is not None and failure.drip:
            return failure.drip
        if failure is not None and failure.huge:
            reply = Reply(200, raw=b"")
            reply.huge = failure.huge
            return reply
        if failure is not None:
            return self.failed(failure)
        return refused if refused is not None else self.throttled()

    # ------------------------------------------------------------------ HTTP entry point

    def handle(self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes) -> Reply:
        """Serve one request (called by the HTTP handler thread)."""
        if path.rstrip("/").lower() == CONTROL_PATH:
            return self._serve_control(method, body)
        with self._lock:
            self._log.append(SandboxRequest(method, path, dict(query), time.time(), logged_body(body)))
        drip = 0.0
        try:
            reply = self._take_fault(method)
            if isinstance(reply, float):
                drip, reply = reply, None
            if reply is None:
                reply = self.route(method, path, query, headers, body) if self.authorized(headers) else self.unauthorized()
        except Reply as raised:
            reply = raised
        except Exception:  # noqa: BLE001 — a sandbox bug answers like a real server would (``crashed``)
            log.exception("sandbox failed on %s %s", method, path)
            reply = self.crashed()
        if drip:
            reply.drip, reply.stopping = drip, self._stopping
        if not reply.plain:
            reply.headers.update({k: v for k, v in self.answer_headers().items() if k not in reply.headers})
        return reply

    def _serve_control(self, method: str, body: bytes) -> Reply:
        if method == "GET":
            return Reply(200, self.stats())
        if method != "POST":
            return Reply(405, {"error": "use GET or POST"})
        try:
            commands = json.loads(body or b"{}")
            if not isinstance(commands, Mapping):
                raise ValueError("the body must be a JSON object")
            return Reply(200, self.control(commands))
        except (ValueError, TypeError) as exc:
            return Reply(400, {"error": str(exc)})


def logged_body(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return body.decode("utf-8", errors="replace")


__all__ = ["CONTROL_PATH", "Failure", "FaultyStore", "Handler", "Reply", "SandboxRequest", "error_page"]
