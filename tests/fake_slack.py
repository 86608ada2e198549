"""A small fake Slack Web API over local HTTP, for end-to-end tests.

Serves ``POST /api/<method>`` (``chat.postMessage``, ``chat.update``, ``chat.postEphemeral``,
``views.open``, ``auth.test``) and response URLs (``POST /response/<id>``). Thread-safe and
records every call. It behaves like Slack where the bot could get it wrong:

* a bot token (``Authorization: Bearer xoxb-…`` or ``token=``) is required → ``not_authed`` /
  ``invalid_auth``;
* every message is validated with slack_sdk's Block Kit models (``message_problems``) →
  ``invalid_blocks`` (Web API) or HTTP 400 ``invalid_blocks`` (response URL);
* messages are kept per channel/ts: ``chat.update`` of an unknown ts → ``message_not_found``;
  an ``in_channel`` post to a response URL becomes a channel message with its own ts;
* a response URL accepts at most 5 posts;
* ``fail_next(method, error)`` makes the next call(s) fail: ``ratelimited`` answers HTTP 429 with
  ``Retry-After``; any other error answers ``{"ok": false, "error": …}``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

try:
    from slack_helpers import BOT_TOKEN, message_problems
except ImportError:  # imported as tests.fake_slack
    from tests.slack_helpers import BOT_TOKEN, message_problems  # type: ignore[no-redef]

RESPONSE_URL_MAX_POSTS = 5
MESSAGE_METHODS = {"chat.postMessage", "chat.update", "chat.postEphemeral"}


@dataclass
class Call:
    method: str
    params: dict
    ok: bool
    error: str | None = None
    injected: bool = False
    """The error came from ``fail_next``, not from checking the call."""
    at: float = field(default_factory=time.monotonic)


@dataclass
class ResponsePost:
    """One post to a response URL."""

    id: str
    payload: dict
    status: int
    channel: str | None = None
    ts: str | None = None
    """For ``in_channel`` posts: the channel message it created (or replaced)."""
    at: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class _ResponseUrl:
    channel: str
    user: str
    source_ts: str | None
    posts: int = 0


class FakeSlack:
    def __init__(self, token: str = BOT_TOKEN) -> None:
        self.token = token
        self._lock = threading.RLock()
        self._calls: list[Call] = []
        self._responses: list[ResponsePost] = []
        self._failures: dict[str, list[tuple[str, float]]] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self.messages: dict[tuple[str, str], dict] = {}
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "FakeSlack":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, headers, body = fake._dispatch(self.path, dict(self.headers.items()), raw)
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json" if not isinstance(body, str) else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         name="fake-slack", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeSlack":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "FakeSlack not started"
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    # -- test controls -----------------------------------------------------------------------

    def response_url(self, *, channel: str = "C0TEST", user: str = "", source_ts: str | None = None) -> str:
        """A fresh response URL (as Slack puts in a command or interaction payload)."""
        rid = f"R{next(self._ids):05d}"
        with self._lock:
            self._response_urls[rid] = _ResponseUrl(channel, user, source_ts)
        return f"{self.base_url}/response/{rid}"

    def fail_next(self, method: str, error: str, *, times: int = 1, retry_after: float = 1) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``error``."""
        with self._lock:
            self._failures.setdefault(method, []).extend([(error, retry_after)] * times)

    def add_message(self, channel: str, message: dict) -> str:
        """Put a message in a channel (as if posted earlier); returns its ts."""
        with self._lock:
            ts = self._next_ts()
            self.messages[(channel, ts)] = dict(message)
            return ts

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def responses(self, rid_or_url: str | None = None) -> list[ResponsePost]:
        rid = rid_or_url.rsplit("/", 1)[-1] if rid_or_url else None
        with self._lock:
            return [r for r in self._responses if rid is None or r.id == rid]

    def sent(self) -> list[dict]:
        """Every message payload the bot sent (Web API messages and response URL posts)."""
        with self._lock:
            out = [c.params for c in self._calls if c.method in MESSAGE_METHODS]
            out += [r.payload for r in self._responses]
            return out

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02) -> Any:
        """Poll ``predicate`` until it returns something truthy; that value, or AssertionError."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {getattr(predicate, '__name__', predicate)}")
            time.sleep(interval)

    def wait_response(self, url: str, count: int = 1, timeout: float = 5.0) -> ResponsePost:
        """The ``count``-th post to ``url`` (waits for it)."""
        posts = self.wait_for(lambda: (lambda p: p if len(p) >= count else None)(self.responses(url)), timeout)
        return posts[count - 1]

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._responses.clear()
            self._failures.clear()

    # -- the server side ---------------------------------------------------------------------

    def _next_ts(self) -> str:
        return f"1700000{next(self._ts):03d}.{next(self._ts):06d}"

    def _dispatch(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict, Any]:
        if path.startswith("/response/"):
            return self._response_post(path.split("/")[-1], raw)
        if not path.startswith("/api/"):
            return 404, {}, "not found"
        method = path[len("/api/"):].split("?")[0]
        params = _parse_body(headers, raw)
        return self._api(method, headers, params)

    def _api(self, method: str, headers: dict[str, str], params: dict) -> tuple[int, dict, Any]:
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else params.get("token", "")
        with self._lock:
            if not token:
                return self._answer(method, params, "not_authed")
            if not token.startswith("xoxb-") or token != self.token:
                return self._answer(method, params, "invalid_auth")
            queue = self._failures.get(method)
            if queue:
                error, retry_after = queue.pop(0)
                self._calls.append(Call(method, params, False, error, injected=True))
                if error == "ratelimited":
                    return 429, {"Retry-After": str(int(retry_after))}, {"ok": False, "error": "ratelimited"}
                return 200, {}, {"ok": False, "error": error}
            handler = getattr(self, "_m_" + method.replace(".", "_"), None)
            if handler is None:
                return self._answer(method, params, "unknown_method")
            if method in MESSAGE_METHODS and message_problems(params):
                return self._answer(method, params, "invalid_blocks")
            result = handler(params)
            if "error" in result:
                return self._answer(method, params, result["error"])
            self._calls.append(Call(method, params, True))
            return 200, {}, {"ok": True, **result}

    def _answer(self, method: str, params: dict, error: str) -> tuple[int, dict, Any]:
        self._calls.append(Call(method, params, False, error))
        return 200, {}, {"ok": False, "error": error}

    def _m_auth_test(self, params: dict) -> dict:
        return {"url": "https://test.slack.com/", "team": "Test", "user": "customer-bot", "team_id": "T0TEST",
                "user_id": "U0BOT", "bot_id": "B0BOT", "is_enterprise_install": False}

    def _m_chat_postMessage(self, params: dict) -> dict:
        channel = params.get("channel")
        if not channel:
            return {"error": "channel_not_found"}
        ts = self._next_ts()
        self.messages[(channel, ts)] = {k: params.get(k) for k in ("text", "blocks")}
        return {"channel": channel, "ts": ts, "message": {"ts": ts, "text": params.get("text")}}

    def _m_chat_update(self, params: dict) -> dict:
        key = (params.get("channel"), params.get("ts"))
        if not key[0]:
            return {"error": "channel_not_found"}
        if key not in self.messages:
            return {"error": "message_not_found"}
        self.messages[key] = {k: params.get(k) for k in ("text", "blocks")}
        return {"channel": key[0], "ts": key[1], "text": params.get("text")}

    def _m_chat_postEphemeral(self, params: dict) -> dict:
        if not params.get("channel") or not params.get("user"):
            return {"error": "channel_not_found" if not params.get("channel") else "user_not_in_channel"}
        return {"message_ts": self._next_ts()}

    def _m_views_open(self, params: dict) -> dict:
        if not params.get("trigger_id"):
            return {"error": "invalid_trigger_id"}
        return {"view": {"id": f"V{next(self._ids):05d}"}}

    def _response_post(self, rid: str, raw: bytes) -> tuple[int, dict, Any]:
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            return 400, {}, "invalid_payload"
        with self._lock:
            known = self._response_urls.get(rid)
            if known is None:
                return 404, {}, "no_such_url"
            known.posts += 1
            if known.posts > RESPONSE_URL_MAX_POSTS:
                self._responses.append(ResponsePost(rid, payload, 404))
                return 404, {}, "used_url"
            if message_problems(payload):
                self._responses.append(ResponsePost(rid, payload, 400))
                return 400, {}, "invalid_blocks"
            post = ResponsePost(rid, payload, 200, channel=known.channel)
            message = {k: payload.get(k) for k in ("text", "blocks")}
            if payload.get("response_type") == "in_channel" and not payload.get("replace_original"):
                post.ts = self._next_ts()
                self.messages[(known.channel, post.ts)] = message
            elif payload.get("replace_original") and known.source_ts and (known.channel, known.source_ts) in self.messages:
                post.ts = known.source_ts
                self.messages[(known.channel, known.source_ts)] = message
            self._responses.append(post)
            return 200, {}, "ok"


def _parse_body(headers: dict[str, str], raw: bytes) -> dict:
    ctype = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    if not raw:
        return {}
    if "json" in ctype:
        params = json.loads(raw)
    else:
        params = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
    for key in ("blocks", "attachments", "view"):
        if isinstance(params.get(key), str):
            try:
                params[key] = json.loads(params[key])
            except ValueError:
                pass
    return params
