"""The store-neutral HTTP layer every store client composes: ``StoreHttp``.

One pooled ``requests.Session``, one **hard deadline per call** (``budget`` seconds covering the
client-side limiter, connect, every retry, every wait and the whole body transfer), a bound on
the reply size, JSON decoding, status → typed error mapping, and secret scrubbing. Store
specifics (URLs, auth headers, which header says how long to wait, what a 404 means) are given
by the client as constructor arguments and hooks; nothing here knows 3dcart or BigCommerce.

How the deadline is hard:

* every attempt's connect and read timeouts are cut to what is left of the budget;
* a watchdog shuts the connection's socket down when the deadline passes, so a store that
  drips one byte every few seconds (each ``recv`` well inside the read timeout) cannot hold a
  call past it — neither while sending headers nor while sending the body;
* the body is streamed in chunks and refused (``Unavailable``) once it passes ``max_reply_bytes``,
  so a huge reply never sits in memory whole.

Retries are done here, not by urllib3 (whose retries reuse one fixed timeout and cannot be cut
to the deadline). ``GET`` is retried on 429/5xx and on transport errors; writes only on 429 (the
store's bucket refused them unprocessed) and when the connection could not be opened (the store
never saw the request) — never after a 5xx or a timeout, which may follow a saved write. A wait
that does not fit in the budget ends the call at once (``RateLimited`` for 429, ``Unavailable``
otherwise); after a read timeout a retry starts only if a whole attempt still fits.

Logs carry the store name, method, path, status, retries and milliseconds. Never headers, never
bodies. Pacing and retry policy live in ``pacing.py``; the watchdog and the session in
``deadline.py``.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError, ReadTimeoutError

from ..scrub import Scrubber
from .deadline import WATCHDOG, Watch, current_call, make_session
from .errors import AuthFailed, RateLimited, StoreError, Unavailable
from .pacing import (BudgetRetry, Limiter, TokenBucket, requests_left_slowdown, reset_ms_header,
                     retry_after_header)

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3.0
MAX_REPLY_BYTES = 16 * 1024 * 1024
"""Largest reply body accepted (16 MB: a 300-record page of customers is well under 1 MB)."""
CHUNK = 64 * 1024
MAYBE_SAVED = "; the change may or may not have been saved."


# ---------------------------------------------------------------------- replies


@dataclass(frozen=True)
class StoreReply:
    """What a store answered (after status mapping): ``body`` is the decoded JSON, or None when
    the body was empty or not JSON (``is_json`` tells which; ``text`` keeps the scrubbed text)."""

    status: int
    body: Any
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)
    retries: int = 0

    @property
    def is_json(self) -> bool:
        return self.body is not None

    @property
    def empty(self) -> bool:
        return not self.text

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()


ErrorHook = Callable[[StoreReply, str], "StoreError | None"]
"""``(reply, method) → error to raise, or None`` for the client's own status rules (run first)."""


class _Retry(Exception):
    """An attempt that failed in a way worth retrying (internal)."""

    def __init__(self, status: int | None, wait: float | None, *, after_timeout: bool = False,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.wait = wait
        self.after_timeout = after_timeout
        self.headers = headers or {}


# ---------------------------------------------------------------------- the layer


class StoreHttp:
    """HTTP for one store client: ``call(method, path, params=..., json_body=...) → StoreReply``.

    ``base_url``: the API root (a trailing slash is added). ``headers``: sent on every request
    (the client's auth headers, ``Accept``). ``secrets``: every value to scrub from store text.
    ``timeout``: per-attempt read timeout; ``budget``: the hard deadline of a whole call.
    ``limiter``: optional ``Limiter`` (one token per attempt). ``session``: optional injected
    session (by default a pooled one from ``make_session``).

    Hooks: ``retry_wait(headers)`` → seconds a 429 asks to wait (default ``Retry-After``);
    ``slowdown(headers)`` → seconds to hold this client's next requests after any reply (e.g.
    ``requests_left_slowdown``); ``errors(reply, method)`` → the client's own typed error for a
    reply, or None to fall back to the default mapping: 401/403 → ``AuthFailed(auth_hint)``, 429
    → ``RateLimited``, 3xx/5xx → ``Unavailable``, a 2xx that is not JSON → ``Unavailable``.
    Other statuses (400, 404, other 4xx) come back as a ``StoreReply`` for the client to read.
    """

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str],
        secrets: Iterable[str | None] = (),
        timeout: float = 10.0,
        budget: float = 10.0,
        limiter: Limiter | None = None,
        session: requests.Session | None = None,
        name: str = "store",
        retry: BudgetRetry | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        max_reply_bytes: int = MAX_REPLY_BYTES,
        retry_wait: Callable[[Mapping[str, str]], float | None] = retry_after_header,
        slowdown: Callable[[Mapping[str, str]], float] | None = None,
        errors: ErrorHook | None = None,
        auth_hint: str = "Check the store credentials.",
        pool_size: int = 32,
    ) -> None:
        for label, value in (("timeout", timeout), ("budget", budget)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{label} must be a finite number of seconds > 0")
        self.base_url = base_url.rstrip("/") + "/"
        self.name = name
        self.timeout = float(timeout)
        self.budget = float(budget)
        self.connect_timeout = float(connect_timeout)
        self.max_reply_bytes = int(max_reply_bytes)
        self.limiter = limiter
        self.retry = retry or BudgetRetry()
        self.scrubber = Scrubber(secrets)
        self._retry_wait = retry_wait
        self._slowdown = slowdown
        self._errors = errors
        self._auth_hint = auth_hint
        self._owns_session = session is None
        self.session = session or make_session(pool_size)
        self.session.headers.update(dict(headers))
        self._hold_until = 0.0
        self._hold_lock = threading.Lock()

    # ------------------------------------------------------------------ public

    def scrub(self, text: str) -> str:
        """``text`` with every variant of every secret blanked (see ``bot.scrub``)."""
        return self.scrubber.scrub(text)

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    def call(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
             json_body: Any = None) -> StoreReply:
        """One call within the hard deadline; raises the typed error or returns the reply."""
        method = method.upper()
        started = time.monotonic()
        deadline = started + self.budget
        data = json.dumps(json_body).encode() if json_body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else None
        writing = method not in self.retry.read_methods
        retries = 0
        while True:
            try:
                self._pace(deadline)
                reply = self._attempt(method, path, params, data, headers, deadline, retries)
            except _Retry as again:
                retries += 1
                self._give_up_unless_retry_fits(again, method, path, started, deadline, retries, writing)
                continue
            except _Final as final:
                self._log(method, path, None, started, note=type(final.error).__name__.lower())
                raise final.error from None
            self._log(method, path, reply.status, started, note=f"retries={retries}" if retries else "")
            return self._check(reply, method)

    # ------------------------------------------------------------------ one attempt

    def _attempt(self, method: str, path: str, params: Mapping[str, str] | None, data: bytes | None,
                 headers: Mapping[str, str] | None, deadline: float, retries: int) -> StoreReply:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._deadline_error(method, path, deadline, None)
        watch = Watch(deadline)
        current_call.watch = watch
        WATCHDOG.watch(watch)
        sent = False
        try:
            try:
                response = self.session.request(
                    method, self.base_url + path, params=params, data=data, headers=headers, stream=True,
                    timeout=(min(self.connect_timeout, self.timeout, remaining), min(self.timeout, remaining)),
                    allow_redirects=False,
                )
            except (requests.ConnectTimeout, ConnectTimeoutError) as exc:
                refused = isinstance(exc, NewConnectionError) or _never_connected(exc)
                raise self._transport(method, watch, sent=False, timeout=not refused) from None
            except requests.ConnectionError as exc:
                raise self._transport(method, watch, sent=not _never_connected(exc), timeout=False) from None
            except (requests.Timeout, ReadTimeoutError):
                raise self._transport(method, watch, sent=True, timeout=True) from None
            except (requests.RequestException, HTTPError, OSError):
                raise self._transport(method, watch, sent=True, timeout=False) from None
            sent = True
            with response:
                watch.attach(_response_socket(response))
                status = response.status_code
                reply_headers = dict(response.headers)
                if self._slowdown is not None:
                    self._hold(self._slowdown(reply_headers))
                if self.retry.on_status(method, status) and retries < self.retry.total:
                    wait = self._retry_wait(reply_headers) if status == 429 else None
                    raise _Retry(status, wait, headers=reply_headers)
                raw = self._read_body(response, watch, method)
        finally:
            watch.done = True  # type: ignore[attr-defined]
            current_call.watch = None
        text = self.scrub(raw.decode("utf-8", errors="replace").strip())
        return StoreReply(status, _json_or_none(text), text, reply_headers, retries)

    def _read_body(self, response: requests.Response, watch: Watch, method: str) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.strip().isdigit() and int(declared) > self.max_reply_bytes:
            raise self._too_large(method)
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(CHUNK):
                size += len(chunk)
                if size > self.max_reply_bytes:
                    raise self._too_large(method)
                if watch.expired():
                    raise self._slow_body(method)
                chunks.append(chunk)
        except requests.RequestException:
            if watch.expired():
                raise self._slow_body(method) from None
            raise Unavailable("The store's answer broke off before it was complete"
                              + (MAYBE_SAVED if method not in self.retry.read_methods else ".")) from None
        if watch.expired():
            raise self._slow_body(method)
        return b"".join(chunks)

    # ------------------------------------------------------------------ retry decisions

    def _transport(self, method: str, watch: Watch, *, sent: bool, timeout: bool) -> Exception:
        if watch.expired() or not self.retry.on_transport(method, sent=sent):
            return _Final(self._transport_error(method, watch, sent=sent, timeout=timeout))
        return _Retry(None, None, after_timeout=timeout)

    def _give_up_unless_retry_fits(self, again: _Retry, method: str, path: str, started: float,
                                   deadline: float, retries: int, writing: bool) -> None:
        wait = again.wait if again.wait is not None else self.retry.backoff(retries)
        next_attempt = self.timeout if again.after_timeout else 0.0
        remaining = deadline - time.monotonic()
        if retries > self.retry.total or wait + next_attempt > remaining or remaining <= 0:
            self._log(method, path, again.status, started, note="out of budget")
            if again.status == 429:
                raise RateLimited(_rate_limited_message(again.wait), retry_after=again.wait) from None
            if again.status is None and again.after_timeout:
                raise Unavailable(f"The store did not answer within {self.budget:g} s"
                                  + (MAYBE_SAVED if writing else ".")) from None
            if again.status is None:
                raise Unavailable("Could not reach the store" + (MAYBE_SAVED if writing else ".")) from None
            raise Unavailable(f"The store kept answering HTTP {again.status} for {self.budget:g} s.",
                              status=again.status) from None
        cause = f"HTTP {again.status}" if again.status is not None else ("a timeout" if again.after_timeout else "a connection error")
        log.warning("%s: Retrying %s /%s after %s (retry %d, waiting %.1f s)", self.name, method,
                    path.split("?")[0], cause, retries, wait)
        if wait > 0:
            time.sleep(wait)

    def _pace(self, deadline: float) -> None:
        with self._hold_lock:
            hold = self._hold_until - time.monotonic()
        if hold > 0:
            if time.monotonic() + hold > deadline:
                raise RateLimited(_rate_limited_message(hold), status=None, retry_after=hold)
            time.sleep(hold)
        if self.limiter is not None:
            self.limiter.acquire(deadline)

    def _hold(self, seconds: float) -> None:
        if seconds and seconds > 0:
            with self._hold_lock:
                self._hold_until = max(self._hold_until, time.monotonic() + seconds)

    # ------------------------------------------------------------------ mapping

    def _check(self, reply: StoreReply, method: str) -> StoreReply:
        if self._errors is not None:
            error = self._errors(reply, method)
            if error is not None:
                raise error
        status = reply.status
        if status in (401, 403):
            raise AuthFailed(f"The store refused the bot's credentials (HTTP {status}). {self._auth_hint}",
                             status=status)
        if status == 429:
            wait = self._retry_wait(reply.headers)
            raise RateLimited(_rate_limited_message(wait), retry_after=wait)
        if status >= 500 or 300 <= status < 400:
            raise Unavailable(f"The store answered HTTP {status}.", status=status)
        if 200 <= status < 300 and reply.text and not reply.is_json:
            raise Unavailable(f"The store answered HTTP {status} with something that is not JSON "
                              "(an error page?).", status=status)
        return reply

    def _transport_error(self, method: str, watch: Watch, *, sent: bool, timeout: bool) -> StoreError:
        writing = method not in self.retry.read_methods
        if watch.expired() or timeout:
            return Unavailable(f"The store did not answer within {self.budget if watch.expired() else self.timeout:g} s"
                               + (MAYBE_SAVED if writing and sent else "."))
        return Unavailable("Could not reach the store" + (MAYBE_SAVED if writing and sent else "."))

    def _deadline_error(self, method: str, path: str, deadline: float, status: int | None) -> StoreError:
        writing = method not in self.retry.read_methods
        return Unavailable(f"The store did not answer within {self.budget:g} s" + (MAYBE_SAVED if writing else "."),
                           status=status)

    def _slow_body(self, method: str) -> StoreError:
        writing = method not in self.retry.read_methods
        return Unavailable(f"The store did not finish answering within {self.budget:g} s"
                           + (MAYBE_SAVED if writing else "."))

    def _too_large(self, method: str) -> StoreError:
        writing = method not in self.retry.read_methods
        return Unavailable(f"The store's answer was larger than {self.max_reply_bytes // (1024 * 1024)} MB; "
                           "it was not read" + (MAYBE_SAVED if writing else "."))

    def _log(self, method: str, path: str, status: int | None, started: float, *, note: str = "") -> None:
        if log.isEnabledFor(logging.DEBUG):
            elapsed = (time.monotonic() - started) * 1000
            log.debug("%s %s /%s -> %s in %.0f ms%s", self.name, method, path.split("?")[0],
                      status if status is not None else "-", elapsed, f" ({note})" if note else "")


class _Final(Exception):
    """Carries a typed error out of ``_attempt`` without being retried (unwrapped in ``call``)."""

    def __init__(self, error: StoreError) -> None:
        super().__init__(error.message)
        self.error = error


# ---------------------------------------------------------------------- small helpers


def _json_or_none(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _never_connected(exc: BaseException) -> bool:
    """True when the connection could not be opened at all (the store never saw the request)."""
    if isinstance(exc, NewConnectionError):
        return True
    first = exc.args[0] if exc.args else None
    reason = getattr(first, "reason", None)
    return isinstance(first, NewConnectionError) or isinstance(reason, NewConnectionError)


def _response_socket(response: requests.Response) -> Any:
    conn = getattr(response.raw, "connection", None) or getattr(response.raw, "_connection", None)
    return getattr(conn, "sock", None)


def _rate_limited_message(retry_after: float | None) -> str:
    when = f" in about {math.ceil(retry_after)} s" if retry_after else " in a minute"
    return f"The store is rate limiting the bot (HTTP 429). Try again{when}."


__all__ = [
    "StoreHttp", "StoreReply", "BudgetRetry", "TokenBucket", "Limiter", "make_session",
    "retry_after_header", "reset_ms_header", "requests_left_slowdown", "MAX_REPLY_BYTES", "MAYBE_SAVED",
]
