"""Slack listeners: ack first, then hand the work to a bounded worker pool.

Bolt calls ``ack()`` *inside* the listener thread, so a listener that waited on the store would
hold one of Bolt's threads — and enough of them would starve the next request past Slack's 3 s
deadline. Every listener here therefore does only three things on Bolt's thread: ``ack()``,
read the few payload fields it needs, and submit a :class:`Job` to the worker pool. The one
exception is the ``block_suggestion`` (type-ahead) listener, which must answer *with* the
options; ``Desk.suggest`` works from cached groups for that reason.

One generic path: a :class:`Job` is "how to get the Reply" plus "how to deliver it"; the
worker runs it, catches everything, logs it, and tells the user "Something went wrong" instead
of showing a traceback.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from .. import intents
from ..guard import Actor
from ..reply import Notice, Reply
from .blocks import BUTTON_PREFIX, MENU_PREFIX, PICK_PREFIX, parse_pick, render, render_options
from .approvals_channel import clicked_message
from .poster import SlackPoster, slack_error

log = logging.getLogger(__name__)

COMMAND = "/customer"
LOOKUP_SHORTCUT = "lookup_customer"
ACTION_RE = re.compile(rf"^({BUTTON_PREFIX}|{MENU_PREFIX}|{PICK_PREFIX}):")
PICK_RE = re.compile(rf"^{PICK_PREFIX}:")

SORRY = "Something went wrong — try again."
OUT_OF_DATE = "That button is out of date — run /customer again."
NO_EMAIL = "No email address, phone number or customer id (#123) in that message."

UPDATES_CHANNEL_POSTS: frozenset[type] = frozenset({intents.Approve, intents.Deny, intents.Dismiss})
"""The only clicks whose result may replace a (non-ephemeral) channel message: decisions."""

SUGGEST_WORKERS = 4
SUGGEST_SECONDS = 2.0
"""Type-ahead must answer within Slack's 3 s; past this, answer with no options."""


def click_key(user_id: str, action: dict) -> str:
    """Identity of one click: the same click delivered again has the same key."""
    value = action_value(action) or ""
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"click:{user_id}:{action.get('action_id', '')}:{action.get('action_ts', '')}:{digest}"


def action_value(action: dict) -> str | None:
    """The encoded intent a button or select carries (``value`` or the selected option's)."""
    if action.get("value") is not None:
        return str(action["value"])
    selected = action.get("selected_option") or {}
    value = selected.get("value")
    return str(value) if value is not None else None


def _actor(user: Any, fallback_id: str = "", fallback_name: str = "") -> Actor:
    if isinstance(user, dict):
        return Actor(user_id=str(user.get("id") or fallback_id),
                     name=str(user.get("username") or user.get("name") or fallback_name))
    return Actor(user_id=str(user or fallback_id), name=fallback_name)


@dataclass
class Job:
    """One request's work after the ack: produce a Reply, then deliver it."""

    name: str
    produce: Callable[[], Reply | None]
    deliver: Callable[[Reply], None]
    sorry: Callable[[str], None]


class Listeners:
    def __init__(self, runtime: Any, pool: Executor, poster: SlackPoster, notify_pool: Executor | None = None) -> None:
        self.runtime = runtime
        self.desk = runtime.desk
        self.settings = runtime.settings
        self.pool = pool
        self.notify_pool = notify_pool or pool
        self.poster = poster
        # Type-ahead runs here, bounded in time, so a cold cache over a hanging store cannot
        # hold Bolt's threads (one request per keystroke) for longer than SUGGEST_SECONDS.
        self.suggest_pool = ThreadPoolExecutor(max_workers=SUGGEST_WORKERS, thread_name_prefix="suggest")

    def close(self) -> None:
        self.suggest_pool.shutdown(wait=False, cancel_futures=True)

    # -- the generic path ---------------------------------------------------------------------

    def submit(self, job: Job) -> None:
        try:
            self.pool.submit(self._run, job)
        except RuntimeError:  # pool shut down: the app is closing
            log.warning("%s dropped: worker pool is shut down", job.name)

    def _run(self, job: Job) -> None:
        try:
            reply = job.produce()
            if reply is not None:
                job.deliver(reply)
        except Exception:
            log.exception("%s failed", job.name)
            try:
                job.sorry(SORRY)
            except Exception:
                log.exception("%s: could not even say sorry", job.name)

    # -- delivery -----------------------------------------------------------------------------

    @staticmethod
    def _respond(respond: Respond | None, what: str, **message: Any) -> bool:
        """Post through the response_url; ``False`` (logged) when there is none or it failed."""
        if respond is None or not respond.response_url:
            return False
        try:
            resp = respond(**message)
        except (SlackClientError, OSError, ValueError) as exc:
            log.warning("%s: response_url post failed: %s", what, type(exc).__name__)
            return False
        if resp.status_code != 200:
            log.warning("%s: response_url answered %s %s", what, resp.status_code, (resp.body or "")[:100])
            return False
        return True

    def _ephemeral(self, body: dict, respond: Respond | None, client: WebClient, reply: Reply, what: str) -> None:
        """A new message only the user sees (or the channel, when the reply is public)."""
        message = render(self.desk.with_banner(reply))
        response_type = "in_channel" if reply.public else "ephemeral"
        if self._respond(respond, what, replace_original=False, response_type=response_type, **message):
            return
        channel = _channel_id(body)
        user = _actor(body.get("user"), body.get("user_id", "")).user_id
        if not channel:
            return
        try:
            if reply.public:
                client.chat_postMessage(channel=channel, **message)
            else:
                client.chat_postEphemeral(channel=channel, user=user, **message)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning("%s: fallback post failed: %s", what, slack_error(exc))

    def _sorry_for(self, body: dict, respond: Respond | None, client: WebClient, what: str) -> Callable[[str], None]:
        return lambda text: self._ephemeral(body, respond, client, Reply.notice("error", text), what)

    def _answer_click(self, body: dict, respond: Respond | None, client: WebClient, reply: Reply) -> None:
        if not reply.replace:
            self._ephemeral(body, respond, client, reply, "click")
            return
        message = render(self.desk.with_banner(reply))
        container = body.get("container") or {}
        channel, ts = _channel_id(body), container.get("message_ts") or (body.get("message") or {}).get("ts")
        if not container.get("is_ephemeral") and channel and ts:
            try:
                client.chat_update(channel=channel, ts=ts, **message)
                return
            except (SlackApiError, SlackClientError, OSError) as exc:
                log.warning("click: chat.update failed (%s); answering through response_url", slack_error(exc))
        if self._respond(respond, "click", replace_original=True, **message):
            return
        self._ephemeral(body, respond, client, reply, "click")

    # -- listeners (Bolt injects arguments by name) --------------------------------------------

    def on_command(self, ack: Callable, body: dict, respond: Respond, client: WebClient) -> None:
        ack()
        actor = _actor(body.get("user_id", ""), fallback_name=body.get("user_name", ""))
        text = body.get("text") or ""
        self.submit(Job(
            name=COMMAND,
            produce=lambda: self.desk.handle(intents.parse(text), actor),
            deliver=lambda reply: self._ephemeral(body, respond, client, reply, COMMAND),
            sorry=self._sorry_for(body, respond, client, COMMAND),
        ))

    def on_lookup_shortcut(self, ack: Callable, body: dict, respond: Respond, client: WebClient) -> None:
        ack()
        actor = _actor(body.get("user"))
        text = (body.get("message") or {}).get("text") or ""

        def produce() -> Reply:
            found = intents.find_customers_in(text)
            if not found:
                return Reply.notice("info", NO_EMAIL)
            return self.desk.lookup_many(list(found), actor)

        self.submit(Job(
            name=LOOKUP_SHORTCUT,
            produce=produce,
            deliver=lambda reply: self._ephemeral(body, respond, client, reply, LOOKUP_SHORTCUT),
            sorry=self._sorry_for(body, respond, client, LOOKUP_SHORTCUT),
        ))

    def on_action(self, ack: Callable, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
        ack()
        actor = _actor(body.get("user"))
        action = dict(action or {})

        def produce() -> Reply | None:
            if not self.runtime.seen.first(click_key(actor.user_id, action)):
                log.info("duplicate delivery of a click dropped (%s)", action.get("action_id"))
                return None
            value = action_value(action)
            intent = intents.decode(value) if value else None
            if intent is None:
                return Reply.notice("warn", OUT_OF_DATE, replace=False)
            clicked = _clicked(body)
            token = clicked_message.set(clicked)
            try:
                reply = self.desk.handle(intent, actor)
            finally:
                clicked_message.reset(token)
            if clicked is not None and type(intent) not in UPDATES_CHANNEL_POSTS:
                # a channel message (the approvals post) is shared: only a decision may change
                # it; anything else (a forged "look" click, a refusal) answers only the clicker
                reply = dataclasses.replace(reply, replace=False, public=False)
            return reply

        self.submit(Job(
            name=f"action {action.get('action_id', '')[:40]}",
            produce=produce,
            deliver=lambda reply: self._answer_click(body, respond, client, reply),
            sorry=self._sorry_for(body, respond, client, "action"),
        ))

    def on_options(self, ack: Callable, body: dict) -> None:
        """Type-ahead for an external_select: must answer *with* the options, within 3 s."""
        try:
            template = parse_pick(str(body.get("action_id") or ""))
            if template is None:
                ack(options=[])
                return
            typed = str(body.get("value") or "")[:100]
            future = self.suggest_pool.submit(self.desk.suggest, template, typed)
            ack(**render_options(future.result(timeout=SUGGEST_SECONDS)))
        except FutureTimeout:
            log.warning("options for %s took longer than %.1fs: answered with none", body.get("action_id"), SUGGEST_SECONDS)
            ack(options=[])
        except Exception:
            log.exception("options for %s failed", body.get("action_id"))
            ack(options=[])

    def on_event(self, body: dict) -> None:
        """Events the bot does not act on are still acknowledged (200), so Slack does not retry."""
        log.debug("event %s ignored", (body.get("event") or {}).get("type"))

    def drop_event_retries(self, body: dict, request: Any, next: Callable) -> BoltResponse | None:
        """Global middleware: an Events API delivery Slack retries is acknowledged and skipped."""
        if request.headers.get("x-slack-retry-num"):
            log.info("Events API retry dropped (%s)", (request.headers.get("x-slack-retry-reason") or ["?"])[0])
            return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})
        if isinstance(body, dict) and body.get("type") == "event_callback" and body.get("event_id"):
            if not self.runtime.seen.first(f"event:{body['event_id']}"):
                return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})
        return next()

    def on_audit_line(self, line: str) -> None:
        channel = self.settings.audit_channel
        if not channel:
            return
        # On a demo store the line carries the banner too; otherwise it stays one plain line.
        message = self.desk.with_banner(Reply(text=line, notices=(Notice("info", line),))) if self.desk.banner else line
        try:
            self.notify_pool.submit(self.poster.post, channel, message)
        except RuntimeError:
            log.warning("audit line not posted: worker pool is shut down")


def _clicked(body: dict) -> tuple[str, str] | None:
    """(channel, ts) of the channel message a click came from; None for ephemeral messages."""
    container = body.get("container") or {}
    channel, ts = _channel_id(body), container.get("message_ts")
    if container.get("is_ephemeral") or not channel or not ts:
        return None
    return channel, ts


def _channel_id(body: dict) -> str | None:
    container = body.get("container") or {}
    channel = body.get("channel")
    return (
        container.get("channel_id")
        or (channel.get("id") if isinstance(channel, dict) else None)
        or body.get("channel_id")
    )


def register(app: App, runtime: Any, work_pool: Executor, notify_pool: Executor | None = None) -> Listeners:
    """Attach every listener to ``app``; the work after each ack runs on ``work_pool``, audit
    lines go out on ``notify_pool``."""
    listeners = Listeners(runtime, work_pool, SlackPoster(app.client), notify_pool)
    app.middleware(listeners.drop_event_retries)
    app.command(COMMAND)(listeners.on_command)
    app.shortcut(LOOKUP_SHORTCUT)(listeners.on_lookup_shortcut)
    app.action(ACTION_RE)(listeners.on_action)
    app.options(PICK_RE)(listeners.on_options)
    app.event(re.compile(".*"))(listeners.on_event)
    runtime.desk.subscribe(listeners.on_audit_line)
    return listeners
