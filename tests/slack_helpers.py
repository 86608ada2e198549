"""Helpers for Slack tests: message validation, request signing, payload builders, a served bot.

* ``assert_valid_message(payload)`` — what Slack would accept: fallback text, ≤ 50 blocks, each
  block parses with slack_sdk's Block Kit models and round-trips unchanged (so no unknown or
  misspelt keys), nested limits slack_sdk does not check itself (field text ≤ 2000, non-empty
  text objects), and action_ids unique within the message.
* ``sign(body, secret)`` — the ``X-Slack-Signature`` / ``X-Slack-Request-Timestamp`` headers.
* ``slash_command`` / ``block_actions`` / ``message_action`` / ``block_suggestion`` — request
  bodies as Slack sends them (form-encoded; interactivity as ``payload=<json>``).
* ``BotServer`` — settings + runtime on the sandbox store + the WSGI app served on a free port.
* ``Slack`` — plays Slack against a ``BotServer``: commands, clicks, type-ahead; returns answers.
* ``check_everything_sent(fake)`` — every message the bot sent to a ``FakeSlack`` was valid.

The ``fake`` / ``bot`` / ``slack`` fixtures built from these live in ``conftest.py``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import requests
from slack_sdk.models.blocks import Block

if TYPE_CHECKING:  # fake_slack imports this module: no runtime import the other way
    from fake_slack import FakeSlack

MAX_BLOCKS = 50
SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test-0000-token"
ADMIN, AGENT, VIEWER = "UADMIN", "UAGENT", "UVIEWER"
"""The roles the ``bot`` fixture is configured with (BOT_ADMINS, BOT_AGENTS, anyone else)."""

# ------------------------------------------------------------------------------------------
# validation


def walk(node: Any) -> Iterator[dict]:
    """Every dict in a Block Kit structure, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def message_problems(payload: dict) -> list[str]:
    """Why Slack would refuse this message (empty list: it would accept it)."""
    problems: list[str] = []
    if not isinstance(payload, dict):
        return ["payload is not an object"]
    if payload.get("delete_original"):
        return problems
    text = payload.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append("no fallback text")
    blocks = payload.get("blocks")
    if blocks is None:
        return problems
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return problems + ["blocks is not JSON"]
    if not isinstance(blocks, list):
        return problems + ["blocks is not a list"]
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks (max {MAX_BLOCKS})")
    for index, block in enumerate(blocks):
        try:
            parsed = Block.parse(block)
            if parsed is None:
                problems.append(f"block {index}: unknown type {block.get('type')!r}")
                continue
            parsed.validate_json()
            again = parsed.to_dict()  # validates nested elements too
            if again != block:
                problems.append(f"block {index}: does not round-trip through slack_sdk models: {block}")
        except Exception as exc:  # SlackObjectFormationError and friends
            problems.append(f"block {index}: {type(exc).__name__}: {exc}")
            continue
        if block.get("type") == "section":
            for f in block.get("fields") or []:
                if len(f.get("text", "")) > 2000:
                    problems.append(f"block {index}: field text over 2000 chars")
    for node in walk(blocks):
        if node.get("type") in ("plain_text", "mrkdwn"):
            value = node.get("text")
            if not isinstance(value, str) or not value:
                problems.append("empty text object")
            elif len(value) > 3000:
                problems.append("text object over 3000 chars")
    ids = [node["action_id"] for node in walk(blocks) if isinstance(node.get("action_id"), str)]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"duplicate action_ids: {duplicates}")
    return problems


def assert_valid_message(payload: dict) -> None:
    problems = message_problems(payload)
    assert not problems, "invalid Slack message:\n  " + "\n  ".join(problems)


def all_text(payload: dict) -> str:
    """Every text a person would read in the message, joined (for assertions)."""
    parts = [payload.get("text") or ""]
    for node in walk(payload.get("blocks") or []):
        if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
            parts.append(node["text"])
    return "\n".join(parts)


def elements(payload: dict) -> list[dict]:
    """Every interactive element (with an action_id) in a message."""
    return [n for n in walk(payload.get("blocks") or []) if isinstance(n.get("action_id"), str)]


def find_element(payload: dict, *, label: str | None = None, type: str | None = None,  # noqa: A002
                 action_id: str | None = None) -> dict:
    """The one element matching: button text ``label`` (prefix), element ``type``, or ``action_id``."""
    found = []
    for element in elements(payload):
        if action_id is not None and element["action_id"] != action_id:
            continue
        if type is not None and element.get("type") != type:
            continue
        if label is not None and not (element.get("text") or {}).get("text", "").startswith(label):
            continue
        found.append(element)
    assert found, f"no element label={label!r} type={type!r} action_id={action_id!r} in {[e.get('action_id') for e in elements(payload)]}"
    return found[0]


# ------------------------------------------------------------------------------------------
# signing and payloads


def sign(body: bytes, secret: str = SIGNING_SECRET, ts: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    base = f"v0:{ts}:".encode() + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


_ts = itertools.count(1)


def action_ts() -> str:
    return f"{int(time.time())}.{next(_ts):06d}"


def slash_command(text: str, *, user_id: str, response_url: str, user_name: str = "",
                  channel_id: str = "C0TEST", command: str = "/customer") -> bytes:
    return urlencode({
        "token": "legacy", "team_id": "T0TEST", "team_domain": "test", "channel_id": channel_id,
        "channel_name": "support", "user_id": user_id, "user_name": user_name or user_id.lower(),
        "command": command, "text": text, "api_app_id": "A0TEST", "is_enterprise_install": "false",
        "response_url": response_url, "trigger_id": "1.2.abc",
    }).encode()


def interactive(payload: dict) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def _user(user_id: str) -> dict:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": "T0TEST"}


def action_for(element: dict, *, option_value: str | None = None, ts: str | None = None,
               option: dict | None = None) -> dict:
    """The ``actions[0]`` Slack sends when ``element`` is clicked (or an option chosen)."""
    action = {"action_id": element["action_id"], "block_id": element.get("block_id", "b1"),
              "type": element["type"], "action_ts": ts or action_ts()}
    if element["type"] == "button":
        action["value"] = element["value"]
        action["text"] = element["text"]
    elif element["type"] == "static_select":
        chosen = option or next(o for o in element["options"] if option_value is None or o["value"] == option_value)
        action["selected_option"] = chosen
    elif element["type"] == "external_select":
        assert option is not None, "external_select needs the option picked from the options endpoint"
        action["selected_option"] = option
    return action


def block_actions(action: dict, *, user_id: str, response_url: str, message: dict | None = None,
                  channel_id: str = "C0TEST", message_ts: str = "1700000000.000100",
                  ephemeral: bool = True) -> bytes:
    container = {"type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": ephemeral}
    payload = {
        "type": "block_actions", "user": _user(user_id), "api_app_id": "A0TEST", "token": "legacy",
        "container": container, "trigger_id": "1.2.def", "team": {"id": "T0TEST", "domain": "test"},
        "channel": {"id": channel_id, "name": "support"}, "response_url": response_url,
        "actions": [action],
    }
    if message is not None:
        payload["message"] = {"type": "message", "ts": message_ts, **{k: message[k] for k in ("text", "blocks") if k in message}}
    return interactive(payload)


def message_action(text: str, *, user_id: str, response_url: str, channel_id: str = "C0TEST",
                   callback_id: str = "lookup_customer") -> bytes:
    return interactive({
        "type": "message_action", "callback_id": callback_id, "trigger_id": "1.2.ghi",
        "user": _user(user_id), "team": {"id": "T0TEST", "domain": "test"},
        "channel": {"id": channel_id, "name": "support"}, "response_url": response_url,
        "message_ts": "1700000000.000200", "action_ts": action_ts(), "token": "legacy",
        "message": {"type": "message", "user": "U0OTHER", "ts": "1700000000.000200", "text": text},
    })


def block_suggestion(action_id: str, value: str, *, user_id: str, channel_id: str = "C0TEST") -> bytes:
    return interactive({
        "type": "block_suggestion", "user": _user(user_id), "team": {"id": "T0TEST", "domain": "test"},
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": channel_id,
                      "is_ephemeral": True},
        "api_app_id": "A0TEST", "token": "legacy", "action_id": action_id, "block_id": "b1", "value": value,
        "channel": {"id": channel_id, "name": "support"},
    })


# ------------------------------------------------------------------------------------------
# the bot, served


class BotServer:
    """The bot over real local HTTP: settings → runtime (sandbox store) → WSGI on a free port.

    Use as a context manager. ``post(body)`` signs and posts to ``/slack/events``.
    """

    def __init__(self, fake_slack: Any, data_dir: Path, *, admins: str = "UADMIN", agents: str = "UAGENT",
                 signing_secret: str = SIGNING_SECRET, backend: str = "threedcart", **settings: Any) -> None:
        from bot.config import load_settings

        self.fake = fake_slack
        self.secret = signing_secret
        env = {
            "slack_signing_secret": signing_secret, "slack_bot_token": BOT_TOKEN,
            "slack_api_url": fake_slack.api_url, "data_dir": Path(data_dir),
            "BOT_ADMINS": admins, "BOT_AGENTS": agents, "cache_ttl_seconds": 60.0,
            "store_timeout_seconds": 3.0, "audit_channel": None, "approvals_channel": None,
            # Always the embedded sandbox store, whatever the environment says.
            "threedcart_secure_url": None, "threedcart_private_key": None, "threedcart_token": None,
            "bigcommerce_store_hash": None, "bigcommerce_access_token": None, "store_backend": None,
            "sandbox": backend,  # which embedded demo store: threedcart | bigcommerce
        }
        env.update(settings)
        self.settings = load_settings(**env)
        self.runtime: Any = None
        self.wsgi: Any = None
        self.server: Any = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "BotServer":
        from bot.runtime import build_runtime
        from bot.slack.web import create_wsgi_app, make_server

        self.runtime = build_runtime(self.settings)
        try:
            self.wsgi = create_wsgi_app(self.runtime)
            self.server = make_server(self.wsgi, "127.0.0.1", 0)
        except BaseException:
            self.runtime.close()
            raise
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="bot-http", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.wsgi.close()
        self.runtime.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def sandbox(self) -> Any:
        return self.runtime.store.sandbox

    def post(self, body: bytes, *, headers: dict[str, str] | None = None, sign_it: bool = True,
             timeout: float = 10) -> requests.Response:
        hdrs = sign(body, self.secret) if sign_it else {"Content-Type": "application/x-www-form-urlencoded"}
        hdrs.update(headers or {})
        return requests.post(self.url + "/slack/events", data=body, headers=hdrs, timeout=timeout)

    def get(self, path: str) -> requests.Response:
        return requests.get(self.url + path, timeout=10)


# ------------------------------------------------------------------------------------------
# playing Slack


class Slack:
    """Plays Slack: sends signed requests the way Slack does, returns what the bot answered."""

    def __init__(self, bot: BotServer, fake: FakeSlack) -> None:
        self.bot, self.fake = bot, fake

    @property
    def store(self) -> Any:
        return self.bot.sandbox

    def command(self, text: str, user: str = ADMIN, *, channel: str = "C0TEST") -> dict:
        url = self.fake.response_url(channel=channel, user=user)
        resp = self.bot.post(slash_command(text, user_id=user, response_url=url, channel_id=channel))
        assert resp.status_code == 200, resp.text
        assert resp.text == ""  # a plain ack: the answer arrives as one message through response_url
        post = self.fake.wait_response(url)
        assert post.ok
        assert_valid_message(post.payload)
        return post.payload

    def click_body(self, message: dict, user: str = ADMIN, *, label: str | None = None, type: str | None = None,  # noqa: A002
                   option_value: str | None = None, option: dict | None = None, ephemeral: bool = True,
                   message_ts: str = "1700000000.000100", ts: str | None = None) -> tuple[str, bytes]:
        element = find_element(message, label=label, type=type)
        url = self.fake.response_url(user=user, source_ts=message_ts)
        action = action_for(element, option_value=option_value, option=option, ts=ts)
        return url, block_actions(action, user_id=user, response_url=url, message=message,
                                  message_ts=message_ts, ephemeral=ephemeral)

    def click(self, message: dict, user: str = ADMIN, **kw: Any) -> dict:
        """Click an element of an ephemeral ``message``; the bot's answer (through response_url)."""
        url, body = self.click_body(message, user, **kw)
        resp = self.bot.post(body)
        assert resp.status_code == 200 and resp.text == ""
        post = self.fake.wait_response(url)
        assert post.ok
        assert_valid_message(post.payload)
        return post.payload

    def suggest(self, action_id: str, typed: str, user: str = AGENT) -> list[dict]:
        resp = self.bot.post(block_suggestion(action_id, typed, user_id=user))
        assert resp.status_code == 200
        return resp.json()["options"]

    def customer(self, customer_id: int) -> dict | None:
        return self.store.customer(customer_id)

    def group_of(self, customer_id: int) -> int | None:
        """The customer's group id in the store, whichever store it is (None: no such customer)."""
        raw = self.store.customer(customer_id)
        if raw is None:
            return None
        return int(raw["CustomerGroupID"] if "CustomerGroupID" in raw else raw["customer_group_id"])


def check_everything_sent(fake: FakeSlack) -> None:
    """Every message the bot sent was valid, and Slack never refused blocks the bot built."""
    for payload in fake.sent():
        assert_valid_message(payload)
    assert not [c for c in fake.calls() if c.error == "invalid_blocks" and not c.injected], "the bot sent blocks Slack would refuse"
