"""Adversarial input: fuzzed text and payloads, hostile store data, forged and replayed requests.

* **Fuzzing through the real desk and renderer** (in-process, against the embedded sandbox over
  HTTP): command text, button / menu values (``intents.decode`` of anything, then the desk),
  type-ahead queries (``Desk.suggest``), message-shortcut text (``find_emails`` +
  ``lookup_many``), and the store's own data. Every reply — and every audit line and approvals
  message the desk announces on the way — must be valid Block Kit, must not come from the desk's
  "something went wrong" catch-all, and must not let store or user text turn into mrkdwn: no
  mrkdwn text (the top-level fallback included) holds an unescaped ``<``, ``>`` or ``&``, and
  every ``plain_text`` object has ``emoji: false``. A smaller number of examples goes through the
  whole HTTP path (signed request → Bolt → desk → fake Slack).
* **Forged requests** beyond ``test_slack_e2e.py``'s table: clicks, shortcuts, type-ahead, event
  retries and url_verification, the 5-minute boundary — all 401 with no store request and
  nothing sent to Slack.
* **Edited button values**: another customer, another group, an action above the clicker's
  role — permissions and state are re-checked when the click runs (store effects asserted).
* **One click delivered 100 times at once** writes once and is answered once.

Default run: a few dozen examples per property. The long run (10 000 examples per property)::

    HYPOTHESIS_PROFILE=fuzz .venv/bin/python -m pytest tests/test_adversarial.py tests/test_intents.py
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot import intents
from bot.config import load_settings
from bot.guard import Actor
from bot.state.applications import draft
from bot.reply import Reply
from bot.runtime import Runtime, build_runtime
from bot.slack.blocks import parse_pick, render, render_options, render_text
from bot.slack.listeners import NO_EMAIL, OUT_OF_DATE, PICK_RE
from bot.sandbox.threedcart import SandboxStore

try:
    from fake_slack import FakeSlack
    from slack_helpers import (
        ADMIN, AGENT, BOT_TOKEN, VIEWER, BotServer, Slack, action_for, action_ts, all_text, assert_valid_message,
        block_actions, block_suggestion, check_everything_sent, find_element, message_action, sign,
        slash_command, walk,
    )
except ImportError:  # pragma: no cover - run as a package
    from tests.fake_slack import FakeSlack
    from tests.slack_helpers import (
        ADMIN, AGENT, BOT_TOKEN, VIEWER, BotServer, Slack, action_for, action_ts, all_text, assert_valid_message,
        block_actions, block_suggestion, check_everything_sent, find_element, message_action, sign,
        slash_command, walk,
    )

FUZZING = bool(os.environ.get("HYPOTHESIS_PROFILE"))
"""A profile was chosen (``fuzz``: 10 000 examples per property): properties run its count."""

pytestmark = pytest.mark.timeout(0 if FUZZING else 60)

JANE, BOB, CAROL, DAVE, GRACE = 1, 2, 3, 4, 7
VIP, WHOLESALE = 1, 2
INTERNAL_ERROR = "Something went wrong"


def examples(default_run: int) -> settings:
    """``default_run`` examples normally; under ``HYPOTHESIS_PROFILE`` the profile's count."""
    slow = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
    if FUZZING:
        return settings(deadline=None, suppress_health_check=slow)
    return settings(max_examples=default_run, deadline=None, suppress_health_check=slow)


# ------------------------------------------------------------------------------ hostile data

HOSTILE = [
    "<!channel>", "<!here>", "<!everyone>", "<@U123>", "<@U123|boss>", "<#C123|general>",
    "<!subteam^S123|@team>", "*bold*", "_x_", "~y~", "`code`", "```pre```", "&amp;", "&lt;b&gt;",
    "<https://evil.example|click>", "<mailto:jane@example.com|support>", "> quoted", ":rotating_light:",
    "&", "<", ">", "<<>>", "\u202eevil", "𝕏",
]
"""Slack markup and formatting that must be shown literally, never interpreted."""

EVIL_GROUP = 100
EVIL_GROUP_NAME = "<!here> *Evil* & _Co_ <https://evil.example|click>"
EVIL, APPLICANT = 100, 101
EVIL_EMAIL, APPLICANT_EMAIL = "evil@example.com", "applicant@example.com"
EVIL_FIRST, EVIL_LAST = "<!channel>", "<@U123> *bold*"
EVIL_COMPANY = "<https://evil.example|click> & _x_ ~y~ `code` &amp;"
APPLICANT_FIRST, APPLICANT_LAST = "&lt;b&gt;", "<@U999|ceo>"
APPLICANT_COMPANY = "<!subteam^S123|@team> ```rm -rf```"


def seed_hostile(store: SandboxStore) -> None:
    """A customer and a pending applicant (in a group) whose every text is Slack markup."""
    store.add_group(CustomerGroupID=EVIL_GROUP, Name=EVIL_GROUP_NAME, Description="`code` ~y~", AutoApprove=False)
    store.add_customer(CustomerID=EVIL, Email=EVIL_EMAIL, BillingFirstName=EVIL_FIRST, BillingLastName=EVIL_LAST,
                       BillingCompany=EVIL_COMPANY, BillingPhoneNumber="<tel:1|&lt;call&gt;>",
                       Comments="<!everyone>", CustomerGroupID=VIP)
    store.add_customer(CustomerID=APPLICANT, Email=APPLICANT_EMAIL, BillingFirstName=APPLICANT_FIRST,
                       BillingLastName=APPLICANT_LAST, BillingCompany=APPLICANT_COMPANY,
                       CustomerGroupID=EVIL_GROUP, Enabled=False)


# ------------------------------------------------------------------------------ the checks

UNESCAPED = re.compile(r"[<>]|&(?!(?:amp|lt|gt);)")


def injection_problems(message: dict) -> list[str]:
    """Ways ``message`` would let text become Slack markup: unescaped ``<`` ``>`` ``&`` in mrkdwn
    (the top-level ``text`` is mrkdwn too), or plain_text that renders ``:emoji:`` codes."""
    problems = []
    mrkdwn = [message.get("text") or ""]
    mrkdwn += [n["text"] for n in walk(message.get("blocks") or []) if n.get("type") == "mrkdwn"]
    for text in mrkdwn:
        if UNESCAPED.search(text):
            problems.append(f"unescaped markup in mrkdwn: {text[:200]!r}")
    for node in walk(message.get("blocks") or []):
        if node.get("type") == "plain_text" and node.get("emoji") is not False:
            problems.append(f"plain_text with emoji rendering: {node.get('text', '')[:80]!r}")
    return problems


def check_message(message: dict) -> None:
    assert_valid_message(message)
    problems = injection_problems(message)
    assert not problems, "\n".join(problems)


def check_options(options: list[dict]) -> None:
    """A type-ahead answer: ≤ 100 options Slack accepts, each value a decodable intent."""
    assert len(options) <= 100
    if options:
        check_message({"text": "options", "blocks": [{"type": "actions", "elements": [{
            "type": "static_select", "action_id": "a", "options": options,
            "placeholder": {"type": "plain_text", "text": "p", "emoji": False}}]}]})
    for option in options:
        assert intents.decode(option["value"]) is not None


# ------------------------------------------------------------------------------ strategies

CUSTOMER_REFS = [
    "jane@example.com", "JANE@example.com", "carol@example.com", "grace@example.com", EVIL_EMAIL,
    APPLICANT_EMAIL, "nobody@example.com", f"<mailto:{EVIL_EMAIL}|{EVIL_EMAIL}>", "#1", f"#{EVIL}",
    f"id:{APPLICANT}", "#999999", "#0", "<@U123|jane>",
]
GROUP_TEXTS = ["VIP", "wholesale", "dist", "2", "#4", "0", "retail", "none", EVIL_GROUP_NAME,
               str(EVIL_GROUP), "<!here>", "999", "Evil"]
KNOWN_IDS = [JANE, BOB, CAROL, 4, 5, 6, GRACE, 8, EVIL, APPLICANT, 999999]
KNOWN_EMAILS = CUSTOMER_REFS[:7]

WHO_TEXT = st.one_of(st.sampled_from(CUSTOMER_REFS), st.integers(1, 2**53).map(lambda n: f"#{n}"),
                     st.emails().filter(lambda e: len(e) < 80))
GROUP_TEXT = st.one_of(st.sampled_from(GROUP_TEXTS), st.text(max_size=30))
ONE_CUSTOMER_VERBS = ["lookup", "enable", "disable", "subscribe", "unsubscribe", "delete", "approve", "deny", "history"]
STRUCTURED_COMMAND = st.one_of(
    st.builds(lambda verb, who: f"{verb} {who}", st.sampled_from(ONE_CUSTOMER_VERBS), WHO_TEXT),
    st.builds(lambda who, group: f"move {who} to {group}", WHO_TEXT, GROUP_TEXT),
    st.builds(lambda group, page: f"members {group}" + (f" page {page}" if page else ""), GROUP_TEXT, st.integers(0, 30)),
    st.builds(lambda page: f"pending page {page}" if page else "pending", st.integers(0, 5)),
    st.sampled_from(["groups", "help", ""]),
    WHO_TEXT,
)


def _slack_escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


DECORATED_COMMAND = st.builds(
    lambda text, how, extra: {"as typed": text, "upper": text.upper(), "escaped": _slack_escaped(text),
                              "extra word": f"{text} {extra}", "tabs": text.replace(" ", "\t\u00a0 ")}[how],
    STRUCTURED_COMMAND, st.sampled_from(["as typed", "as typed", "upper", "escaped", "extra word", "tabs"]),
    st.sampled_from(HOSTILE),
)
WORDS = st.one_of(
    st.sampled_from(list(intents.COMMANDS) + ["remove", "find", "mvoe", "approve all"]),
    st.sampled_from(CUSTOMER_REFS), st.sampled_from(GROUP_TEXTS), st.sampled_from(HOSTILE),
    st.sampled_from(["to", "page", "1", "2", "10001", "all"]), st.text(max_size=12),
)
COMMAND_TEXT = st.one_of(STRUCTURED_COMMAND, DECORATED_COMMAND, DECORATED_COMMAND,
                         st.lists(WORDS, max_size=8).map(" ".join), st.text(max_size=300))
"""Mostly real commands (as typed, shouted, Slack-escaped, with junk), then word soup, then noise."""

WHO = st.one_of(st.sampled_from(KNOWN_IDS), st.integers(1, 2**53), st.sampled_from(KNOWN_EMAILS))
IDS = st.one_of(st.sampled_from(KNOWN_IDS), st.integers(1, 2**53))
GROUP = st.one_of(st.sampled_from(["0", "1", "2", "3", "4", str(EVIL_GROUP), "999", "", *GROUP_TEXTS]), st.text(max_size=20))
BUTTON_INTENTS = st.one_of(
    st.builds(intents.Lookup, WHO), st.builds(intents.Move, WHO, GROUP),
    st.builds(intents.SetFlag, WHO, st.sampled_from(["enabled", "mail_list"]), st.booleans()),
    st.builds(intents.Delete, WHO, st.booleans()), st.just(intents.ListGroups()),
    st.builds(intents.Members, GROUP, st.integers(1, 20)), st.builds(intents.Pending, st.integers(1, 5)),
    st.builds(intents.Approve, WHO), st.builds(intents.Deny, WHO),
    st.builds(intents.ApproveAll, st.lists(IDS, min_size=1, max_size=8).map(tuple)),
    st.builds(intents.History, WHO), st.builds(intents.Undo, st.integers(1, 300)), st.just(intents.Help()),
)


def _encoded(intent: intents.Intent) -> str | None:
    try:
        return intents.encode(intent)
    except ValueError:  # cannot travel on a button (e.g. Members with an empty group)
        return None


VALID_VALUE = BUTTON_INTENTS.map(_encoded).filter(lambda v: v is not None)
MUTATED_VALUE = st.builds(
    lambda value, at, junk, how: {"insert": value[:at] + junk + value[at:], "cut": value[:at],
                                  "replace": value[:at] + junk + value[at + 1:]}[how],
    VALID_VALUE, st.integers(0, 40), st.text(max_size=4), st.sampled_from(["insert", "cut", "replace"]),
)
TAGS = ["look", "move", "flag", "del", "groups", "mem", "pend", "appr", "deny", "all", "hist", "undo", "help"]
VALUE_FIELDS = st.one_of(
    st.sampled_from(["1", "2", "3", "7", str(EVIL), str(APPLICANT), "999", "0", "01", "-1", "enabled",
                     "mail_list", "", "1,3,7", f"3,7,{APPLICANT},{EVIL}", "jane%40example.com",
                     quote(EVIL_EMAIL, safe="@"), quote(EVIL_GROUP_NAME, safe=""), quote("<!here>", safe=""),
                     "VIP", "%", "%ZZ", "%C3%A9"]),
    st.integers(0, 2**62).map(str), st.text(max_size=10),
)
VALUE_LIKE = st.builds(lambda tag, fields: ":".join([tag, *fields]),
                       st.one_of(st.sampled_from(TAGS), st.text(max_size=5)), st.lists(VALUE_FIELDS, max_size=4))
ACTION_VALUE = st.one_of(VALID_VALUE, VALID_VALUE, MUTATED_VALUE, VALUE_LIKE, st.text(max_size=200))
"""Mostly values the bot could have put on a button (any ids and groups), then edits of them."""

TYPED = st.one_of(st.sampled_from(["", "v", "VIP", "who", "2", "#4", "retail", "Evil", "<!here>", "&", "*"]),
                  st.text(max_size=100))

EMBEDDED = st.sampled_from([" {} ", "<mailto:{}|{}>", "<mailto:{}>", "({}).", "&lt;{}&gt;", "*{}*", "\n{}\n"])
ADDRESS = st.one_of(st.sampled_from(CUSTOMER_REFS[:7]), st.emails().filter(lambda e: len(e) < 80))
SHORTCUT_TEXT = st.one_of(
    st.text(max_size=400),
    st.lists(st.one_of(st.builds(lambda t, a: t.format(a, a), EMBEDDED, ADDRESS), st.sampled_from(HOSTILE),
                       st.text(max_size=20),
                       st.sampled_from([" 217-555-0101 ", " +1 217 555 0101.", " (503) 555-0102,", " #2 ", " id:999 ",
                                        " #0 ", " 2026-11-23 ", "+1 (217) 555-0101x"])), max_size=30).map("".join),
)

ACTORS = st.builds(Actor, st.sampled_from([ADMIN, AGENT, VIEWER]),
                   st.one_of(st.just(""), st.sampled_from(["alice", "<!channel>", "*boss*", "a&b"]), st.text(max_size=20)))
"""Who asks; the name (``user.username`` in a payload, untrusted) shows up in messages."""

HOSTILE_TEXT = st.one_of(st.sampled_from(HOSTILE), st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=15)),
                                                            min_size=1, max_size=5).map(" ".join))


# ------------------------------------------------------------------------------ in-process world


@dataclass
class World:
    """The real runtime (desk, service, audit) on its embedded sandbox, reset before each example."""

    runtime: Runtime
    store: SandboxStore
    customers: list[dict]
    groups: list[dict]
    announced: list[str] = field(default_factory=list)
    decided: list[Reply] = field(default_factory=list)

    @property
    def desk(self) -> Any:
        return self.runtime.desk

    def reset(self) -> None:
        """Put every record back (fuzzed clicks approve, deny, delete…) and forget the cache."""
        for group in self.groups:
            self.store.add_group(**group)
        for customer in self.customers:
            self.store.add_customer(**customer)
        self.runtime.store.service.clear()
        self.announced.clear()
        self.decided.clear()

    def check(self, reply: Reply) -> dict:
        """``reply`` and everything announced while making it render as safe, valid messages."""
        assert INTERNAL_ERROR not in reply.text, reply.text
        message = render(reply)
        check_message(message)
        for line in self.announced:
            check_message(render_text(line))
        for decision in self.decided:
            check_message(render(decision))
        return message


def bot_settings(data_dir: Any, **extra: Any) -> Any:
    return load_settings(
        data_dir=data_dir, BOT_ADMINS=ADMIN, BOT_AGENTS=AGENT, cache_ttl_seconds=60.0, store_timeout_seconds=3.0,
        threedcart_secure_url=None, threedcart_private_key=None, threedcart_token=None,
        audit_channel=None, approvals_channel=None, **extra,
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    runtime = build_runtime(bot_settings(tmp_path_factory.mktemp("world")))
    store = runtime.store.sandbox
    seed_hostile(store)
    world = World(runtime, store, store.customers(), store.groups())
    runtime.desk.subscribe(world.announced.append)
    runtime.desk.on_decision(lambda customer, reply: world.decided.append(reply))
    try:
        yield world
    finally:
        runtime.close()


@pytest.mark.fuzz
@examples(200)
@given(text=COMMAND_TEXT, actor=ACTORS)
def test_fuzz_command_text(world: World, text: str, actor: Actor) -> None:
    world.reset()
    intent = intents.parse(text)
    event(type(intent).__name__)
    world.check(world.desk.handle(intent, actor))


@pytest.mark.fuzz
@examples(250)
@given(value=ACTION_VALUE, actor=ACTORS)
def test_fuzz_button_and_menu_values(world: World, value: str, actor: Actor) -> None:
    world.reset()
    intent = intents.decode(value)
    event(type(intent).__name__)
    reply = Reply.notice("warn", OUT_OF_DATE, replace=False) if intent is None else world.desk.handle(intent, actor)
    world.check(reply)


@pytest.mark.fuzz
@examples(150)
@given(value=ACTION_VALUE, pick=st.integers(0, 999), typed=TYPED)
def test_fuzz_type_ahead(world: World, value: str, pick: int, typed: str) -> None:
    world.reset()
    template = parse_pick(f"pick:{pick}:{value}")  # what the options listener reads from action_id
    choices = [] if template is None else world.desk.suggest(template, typed[:100])
    check_options(render_options(choices)["options"])


@pytest.mark.fuzz
@examples(100)
@given(text=SHORTCUT_TEXT, actor=ACTORS)
def test_fuzz_message_shortcut_text(world: World, text: str, actor: Actor) -> None:
    world.reset()
    emails = intents.find_customers_in(text)
    assert len(emails) <= intents.MAX_FOUND
    event(f"{min(len(emails), 11)} customers named")
    reply = world.desk.lookup_many(emails, actor) if emails else Reply.notice("info", NO_EMAIL)
    world.check(reply)


@pytest.mark.fuzz
@examples(60)
@given(first=HOSTILE_TEXT, last=HOSTILE_TEXT, company=HOSTILE_TEXT, group=HOSTILE_TEXT, actor=ACTORS)
def test_fuzz_store_data_is_never_markup(world: World, first: str, last: str, company: str, group: str,
                                         actor: Actor) -> None:
    """Whatever the store holds in names, companies and group names, every view of it is safe."""
    world.reset()
    world.store.add_group(CustomerGroupID=EVIL_GROUP, Name=group, AutoApprove=False)
    world.store.add_customer(CustomerID=APPLICANT, Email=APPLICANT_EMAIL, BillingFirstName=first,
                             BillingLastName=last, BillingCompany=company, CustomerGroupID=EVIL_GROUP, Enabled=False)
    desk = world.desk
    for text in (APPLICANT_EMAIL, f"members {EVIL_GROUP}", "groups", "pending", f"delete {APPLICANT_EMAIL}",
                 f"move {APPLICANT_EMAIL} to {EVIL_GROUP}", f"history {APPLICANT_EMAIL}"):
        world.check(desk.handle(intents.parse(text), actor))
    world.check(desk.applicant_reply(draft(world.runtime.store.service.get_fresh(APPLICANT))))
    world.check(desk.handle(intents.Approve(APPLICANT), Actor(ADMIN, actor.name)))  # announces and decides


@pytest.mark.parametrize("text", ["members ²", "move jane@example.com to ²", "move jane@example.com to #①"])
def test_a_non_ascii_digit_is_not_a_group_id(world: World, text: str) -> None:
    """Found by the command fuzzer: '²', '①' are str.isdigit() but not int()-able; they used to crash
    CustomerService.resolve_group / search_groups ("Something went wrong" + a traceback)."""
    world.reset()
    reply = world.desk.handle(intents.parse(text), Actor(ADMIN, "alice"))
    assert INTERNAL_ERROR not in reply.text and "no group called" in reply.text
    assert world.desk.suggest(intents.Move(JANE, ""), text.rsplit(" ", 1)[-1]) == []


def test_hostile_store_data_is_shown_literally_in_plain_text(world: World) -> None:
    world.reset()
    admin = Actor(ADMIN, "alice")
    views = [world.check(world.desk.handle(intents.parse(text), admin))
             for text in (EVIL_EMAIL, APPLICANT_EMAIL, "pending", "groups", f"members {EVIL_GROUP}")]
    plain = "\n".join(n["text"] for v in views for n in walk(v["blocks"]) if n.get("type") == "plain_text")
    for literal in (f"{EVIL_FIRST} {EVIL_LAST}", EVIL_COMPANY, f"{APPLICANT_FIRST} {APPLICANT_LAST}",
                    APPLICANT_COMPANY, EVIL_GROUP_NAME):
        assert literal in plain, literal
    fallback = views[0]["text"]
    assert "<!channel>" not in fallback and "&lt;!channel&gt;" in fallback
    assert not [n for v in views for n in walk(v["blocks"]) if n.get("type") == "mrkdwn"]


# ------------------------------------------------------------------------------ over HTTP


@dataclass
class Served:
    slack: Slack
    fake: FakeSlack
    bot: BotServer
    customers: list[dict]
    groups: list[dict]

    def reset(self) -> None:
        store = self.bot.sandbox
        for group in self.groups:
            store.add_group(**group)
        for customer in self.customers:
            store.add_customer(**customer)
        self.bot.runtime.store.service.clear()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with FakeSlack() as fake, BotServer(fake, tmp_path_factory.mktemp("served"), admins=ADMIN, agents=AGENT) as bot:
        seed_hostile(bot.sandbox)
        yield Served(Slack(bot, fake), fake, bot, bot.sandbox.customers(), bot.sandbox.groups())
        check_everything_sent(fake)


def answer_to(served: Served, body: bytes, url: str) -> dict:
    resp = served.bot.post(body)
    assert resp.status_code == 200 and resp.text == ""
    post = served.fake.wait_response(url, timeout=10)
    assert post.ok, post.payload
    check_message(post.payload)
    assert INTERNAL_ERROR not in all_text(post.payload)
    return post.payload


@pytest.mark.fuzz
@examples(30)
@given(text=COMMAND_TEXT, user=st.sampled_from([ADMIN, AGENT, VIEWER]))
def test_fuzz_http_command(served: Served, text: str, user: str) -> None:
    served.reset()
    url = served.fake.response_url(user=user)
    answer_to(served, slash_command(text, user_id=user, response_url=url), url)


@pytest.mark.fuzz
@examples(30)
@given(value=ACTION_VALUE, user=st.sampled_from([ADMIN, AGENT, VIEWER]))
def test_fuzz_http_click(served: Served, value: str, user: str) -> None:
    served.reset()
    url = served.fake.response_url(user=user)
    button = {"type": "button", "action_id": "btn:1:c1:1", "value": value, "text": {"type": "plain_text", "text": "x"}}
    answer_to(served, block_actions(action_for(button), user_id=user, response_url=url), url)


@pytest.mark.fuzz
@examples(30)
@given(action_id=st.one_of(VALUE_LIKE.map(lambda v: f"pick:1:{v}"), st.text(max_size=60)), typed=TYPED)
def test_fuzz_http_type_ahead(served: Served, action_id: str, typed: str) -> None:
    resp = served.bot.post(block_suggestion(action_id, typed, user_id=AGENT))
    if not PICK_RE.match(action_id):
        assert resp.status_code == 404  # no options listener for it: Bolt answers 404, runs nothing
        return
    assert resp.status_code == 200
    check_options(resp.json()["options"])


@pytest.mark.fuzz
@examples(20)
@given(text=SHORTCUT_TEXT)
def test_fuzz_http_message_shortcut(served: Served, text: str) -> None:
    served.reset()
    url = served.fake.response_url(user=AGENT)
    answer_to(served, message_action(text, user_id=AGENT, response_url=url), url)


@pytest.fixture
def hostile(tmp_path: Any) -> Iterator[Served]:
    """A bot of this test's own on the hostile store: the module's shared ``served`` bot keeps the
    decisions the fuzzed clicks made in its ledger (``reset`` restores only the store), so a test
    that needs the applicant still waiting must not share it."""
    with FakeSlack() as fake, BotServer(fake, tmp_path, admins=ADMIN, agents=AGENT) as bot:
        seed_hostile(bot.sandbox)
        yield Served(Slack(bot, fake), fake, bot, bot.sandbox.customers(), bot.sandbox.groups())
        check_everything_sent(fake)


def test_hostile_store_data_over_http(hostile: Served) -> None:
    served = hostile
    slack = served.slack
    card = slack.command(EVIL_EMAIL, ADMIN)
    pending = slack.command("pending", ADMIN)
    for payload in (card, pending, slack.command(f"members {EVIL_GROUP}", VIEWER), slack.command("groups", VIEWER)):
        check_message(payload)
    assert [b["text"]["text"] for b in card["blocks"] if b["type"] == "header"] == [f"{EVIL_FIRST} {EVIL_LAST}"]
    assert EVIL_COMPANY in all_text(card) and APPLICANT_COMPANY in all_text(pending)
    url = served.fake.response_url(user=AGENT)
    shortcut = answer_to(served, message_action(f"see <mailto:{EVIL_EMAIL}|{EVIL_EMAIL}> &amp; {APPLICANT_EMAIL}",
                                                user_id=AGENT, response_url=url), url)
    assert len([b for b in shortcut["blocks"] if b["type"] == "header"]) == 2
    approved = slack.click(pending, ADMIN, label="Approve all")
    check_message(approved)
    assert f"{APPLICANT_FIRST} {APPLICANT_LAST}" in all_text(approved)


# ------------------------------------------------------------------------------ forged requests


def _forgeries(bot: BotServer, fake: FakeSlack) -> list[tuple[str, bytes, dict[str, str]]]:
    """Requests that must all get 401 (``test_slack_e2e`` covers the slash-command basics)."""
    now = int(time.time())
    url = fake.response_url(user=VIEWER)
    button = {"type": "button", "action_id": "btn:1:c1:1", "value": "flag:1:enabled:0", "text": {"type": "plain_text", "text": "x"}}
    click = block_actions(action_for(button), user_id=VIEWER, response_url=url)
    edited = block_actions(action_for({**button, "value": f"del:{JANE}:1"}), user_id=ADMIN, response_url=url)
    command = slash_command("disable jane@example.com", user_id=ADMIN, response_url=url)
    shortcut = message_action("jane@example.com", user_id=ADMIN, response_url=url)
    suggestion = block_suggestion(f"pick:1:move:{JANE}:", "VIP", user_id=AGENT)
    event = json.dumps({"type": "event_callback", "event_id": "EvForged", "team_id": "T0TEST",
                        "event": {"type": "app_mention", "user": "U1", "text": "hi"}}).encode()
    challenge = json.dumps({"type": "url_verification", "challenge": "forged-challenge", "token": "x"}).encode()
    secret = bot.secret

    def changed(headers: dict[str, str], **kw: str) -> dict[str, str]:
        return {**headers, **kw}

    signed_click = sign(click, secret, now)
    as_json = {"Content-Type": "application/json"}
    return [
        ("click: value edited after signing", edited, signed_click),
        ("click: signed 5 min 1 s ago", click, sign(click, secret, now - 301)),
        ("click: timestamp header changed after signing", click,
         changed(signed_click, **{"X-Slack-Request-Timestamp": str(now - 1)})),
        ("click: v1= instead of v0=", click,
         changed(signed_click, **{"X-Slack-Signature": signed_click["X-Slack-Signature"].replace("v0=", "v1=", 1)})),
        ("click: signature of another request", click, sign(command, secret, now)),
        ("click: empty signature", click, changed(signed_click, **{"X-Slack-Signature": ""})),
        ("command: a trailing newline after signing", command + b"\n", sign(command, secret, now)),
        ("command: signed with the bot token", command, sign(command, BOT_TOKEN, now)),
        ("shortcut: bad secret", shortcut, sign(shortcut, "not-the-secret", now)),
        ("shortcut: no headers", shortcut, {"Content-Type": "application/x-www-form-urlencoded"}),
        ("type-ahead: bad secret", suggestion, sign(suggestion, "not-the-secret", now)),
        ("type-ahead: stale", suggestion, sign(suggestion, secret, now - 600)),
        ("event retry: bad secret", event,
         {**sign(event, "not-the-secret", now), **as_json, "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}),
        ("url_verification: bad secret", challenge, {**sign(challenge, "not-the-secret", now), **as_json}),
    ]


def test_forged_clicks_shortcuts_type_ahead_and_events_are_refused_and_do_nothing(slack: Slack) -> None:
    bot, fake = slack.bot, slack.fake
    slack.command("groups", VIEWER)  # warm up: anything after this is the forgeries' doing
    fake.reset()
    before = slack.store.request_count()
    for name, body, hdrs in _forgeries(bot, fake):
        resp = requests.post(bot.url + "/slack/events", data=body, headers=hdrs, timeout=10)
        assert resp.status_code == 401, name
        assert "options" not in resp.text and "forged-challenge" not in resp.text, name
        assert resp.headers.get("x-slack-no-retry") is None, name
    marker = slack.settle()  # a real request after the forgeries is answered: the bot is live
    assert slack.store.request_count() == before
    assert fake.calls() == [] and [r for r in fake.responses() if r.id != marker] == []
    assert slack.customer(JANE) is not None and slack.customer(JANE)["Enabled"] is True


def test_a_request_signed_just_inside_five_minutes_is_accepted(slack: Slack) -> None:
    """The boundary the forgery table relies on: 4 min 59 s old is still Slack's own request."""
    url = slack.fake.response_url(user=VIEWER)
    body = slash_command("jane@example.com", user_id=VIEWER, response_url=url)
    resp = requests.post(slack.bot.url + "/slack/events", data=body, timeout=10,
                         headers=sign(body, slack.bot.secret, int(time.time()) - 299))
    assert resp.status_code == 200
    assert "Jane Doe" in all_text(slack.fake.wait_response(url).payload)


MALFORMED_TIMESTAMPS = ["abc", "", "1700000000.5", "-"]


def _post_with_timestamp(slack: Slack, stamp: str) -> requests.Response:
    url = slack.fake.response_url(user=ADMIN)
    body = slash_command("disable jane@example.com", user_id=ADMIN, response_url=url)
    hdrs = {**sign(body, slack.bot.secret), "X-Slack-Request-Timestamp": stamp}
    return requests.post(slack.bot.url + "/slack/events", data=body, headers=hdrs, timeout=10)


def test_a_malformed_timestamp_does_nothing(slack: Slack) -> None:
    slack.command("groups", VIEWER)
    slack.fake.reset()
    before = slack.store.request_count()
    for stamp in MALFORMED_TIMESTAMPS:
        assert _post_with_timestamp(slack, stamp).status_code >= 400, stamp
    marker = slack.settle()
    assert slack.store.request_count() == before
    assert slack.fake.calls() == [] and [r for r in slack.fake.responses() if r.id != marker] == []
    assert slack.customer(JANE)["Enabled"] is True


def test_a_malformed_timestamp_is_refused_with_401_quietly(slack: Slack, caplog: pytest.LogCaptureFixture) -> None:
    """slack_sdk's verifier calls int() on the header unguarded: without the bot's own check a
    forged 'abc' timestamp was a 500 with an ERROR traceback per request."""
    caplog.set_level(logging.INFO)
    for stamp in MALFORMED_TIMESTAMPS:
        assert _post_with_timestamp(slack, stamp).status_code == 401, stamp
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# ------------------------------------------------------------------------------ edited button values


def click_value(slack: Slack, value: str, user: str) -> dict:
    """A click on a button whose ``value`` the client edited (any action_id the bot routes)."""
    url = slack.fake.response_url(user=user)
    button = {"type": "button", "action_id": "btn:1:c1:1", "value": value, "text": {"type": "plain_text", "text": "x"}}
    assert slack.bot.post(block_actions(action_for(button), user_id=user, response_url=url)).status_code == 200
    post = slack.fake.wait_response(url)
    assert post.ok
    check_message(post.payload)
    return post.payload


def writes(store: SandboxStore) -> list[str]:
    return [f"{r.method} {r.path.rsplit('/', 1)[-1]}" for r in store.requests if r.method in ("PUT", "POST", "DELETE")]


def test_an_edited_customer_id_acts_on_that_customer_only_after_a_fresh_read(slack: Slack) -> None:
    card = slack.command("jane@example.com", AGENT)
    disable = find_element(card, label="Disable")
    assert disable["value"] == f"flag:{JANE}:enabled:0"
    slack.store.reset_counts()
    # An agent may disable any customer: the edited id is just another customer, re-read fresh.
    assert "Bob Stone is now disabled" in all_text(click_value(slack, f"flag:{BOB}:enabled:0", AGENT))
    assert writes(slack.store) == [f"PUT {BOB}"]
    assert slack.customer(BOB)["Enabled"] is False and slack.customer(JANE)["Enabled"] is True
    # Replayed: the state is re-checked, so the second one is a no-op.
    assert "already disabled" in all_text(click_value(slack, f"flag:{BOB}:enabled:0", AGENT))
    # A customer that does not exist: nothing written.
    assert "no longer exists" in all_text(click_value(slack, "flag:999999:enabled:0", AGENT))
    assert writes(slack.store) == [f"PUT {BOB}"]


@pytest.mark.parametrize("value, says", [
    (f"move:{JANE}:999", "no group"),
    (f"move:{JANE}:", "no group"),  # the type-ahead template itself, clicked
    (f"move:{JANE}:{quote('<!here>', safe='')}", "no group"),
    (f"move:{JANE}:{VIP}", "already in VIP"),
])
def test_an_edited_group_is_resolved_and_checked(slack: Slack, value: str, says: str) -> None:
    slack.store.reset_counts()
    assert says in all_text(click_value(slack, value, AGENT))
    assert writes(slack.store) == []
    assert slack.customer(JANE)["CustomerGroupID"] == VIP


def test_an_edited_group_that_exists_moves_only_to_that_group(slack: Slack) -> None:
    slack.store.reset_counts()
    assert "Moved Jane Doe from VIP to No group (retail)" in all_text(click_value(slack, f"move:{JANE}:0", AGENT))
    assert writes(slack.store) == [f"PUT {JANE}"] and slack.customer(JANE)["CustomerGroupID"] == 0


@pytest.mark.parametrize("user, value, says", [
    (VIEWER, f"flag:{JANE}:enabled:0", "Only support agents"),
    (VIEWER, f"move:{JANE}:{WHOLESALE}", "Only support agents"),
    (VIEWER, f"del:{JANE}:1", "Only admins"),
    (AGENT, f"del:{JANE}:1", "Only admins"),
    (AGENT, f"appr:{CAROL}", "Only admins"),
    (AGENT, f"deny:{GRACE}", "Only admins"),
    (AGENT, f"all:{CAROL},{GRACE}", "Only admins"),
    (VIEWER, "undo:1", "Only support agents"),
    (VIEWER, f"hist:{JANE}", "Only support agents"),
])
def test_an_action_above_the_clickers_role_is_refused_and_writes_nothing(
        slack: Slack, user: str, value: str, says: str) -> None:
    before = {cid: slack.customer(cid) for cid in (JANE, CAROL, GRACE)}
    slack.store.reset_counts()
    assert says in all_text(click_value(slack, value, user))
    assert writes(slack.store) == []
    assert {cid: slack.customer(cid) for cid in (JANE, CAROL, GRACE)} == before


def test_edited_approvals_are_checked_against_the_store(slack: Slack) -> None:
    slack.store.reset_counts()
    # Jane is enabled in an auto-approve group: not an applicant. Neither approve nor deny touches her.
    assert "is not a wholesale applicant" in all_text(click_value(slack, f"appr:{JANE}", ADMIN))
    assert "is not a wholesale applicant" in all_text(click_value(slack, f"deny:{JANE}", ADMIN))
    assert writes(slack.store) == [] and slack.customer(JANE)["CustomerGroupID"] == VIP
    # Approve all with ids edited in: only the real applicant is written, in one bulk PUT.
    answer = all_text(click_value(slack, f"all:{JANE},{CAROL},999999", ADMIN))
    assert "Approved 1 applicant" in answer and "2 applicants were no longer pending" in answer
    puts = [r for r in slack.store.requests if r.method == "PUT"]
    assert len(puts) == 1 and puts[0].body == [{"CustomerID": CAROL, "Enabled": True}]
    assert slack.customer(CAROL)["Enabled"] is True and slack.customer(GRACE)["Enabled"] is False


def test_edited_undo_ids_are_checked(slack: Slack) -> None:
    moved = slack.command("move jane@example.com to Wholesale", AGENT)
    undo_value = find_element(moved, label="Undo")["value"]
    slack.click(slack.command("delete dave@example.com", ADMIN), ADMIN, label="Yes, delete")
    assert "Only admins" in all_text(slack.command("delete jane@example.com", AGENT))  # in the trail too
    audit = slack.bot.runtime.audit
    deleted = audit.history(customer_id=DAVE, limit=1)[0]
    refused = audit.history(email="jane@example.com", limit=1)[0]
    assert (deleted.action, deleted.outcome, refused.outcome) == ("delete", "done", "refused")
    slack.store.reset_counts()
    assert "nothing to undo" in all_text(click_value(slack, "undo:999999", AGENT))
    assert "nothing to undo" in all_text(click_value(slack, f"undo:{refused.id}", AGENT))
    assert "can't be undone" in all_text(click_value(slack, f"undo:{deleted.id}", AGENT))
    assert writes(slack.store) == []
    assert "Undone" in all_text(click_value(slack, undo_value, AGENT))
    assert "already undone" in all_text(click_value(slack, undo_value, AGENT))
    assert writes(slack.store) == [f"PUT {JANE}"] and slack.customer(JANE)["CustomerGroupID"] == VIP


# ------------------------------------------------------------------------------ one click, 100 times


def _together(n: int, send: Any) -> list[int]:
    barrier = threading.Barrier(n)
    statuses: list[int] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        status = send(i)
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return statuses


def test_the_same_click_delivered_100_times_at_once_writes_once_and_answers_once(slack: Slack) -> None:
    card = slack.command("jane@example.com", AGENT)
    url, body = slack.click_body(card, AGENT, label="Disable", ts=action_ts())
    headers = sign(body, slack.bot.secret)
    slack.store.reset_counts()
    statuses = _together(100, lambda i: requests.post(slack.bot.url + "/slack/events", data=body,
                                                      headers=headers, timeout=20).status_code)
    assert statuses == [200] * 100
    slack.fake.wait_response(url, timeout=10)
    slack.settle()  # delivered after the 100 copies and answered: a duplicate would have been too
    assert len(slack.fake.responses(url)) == 1
    assert "Jane Doe is now disabled" in all_text(slack.fake.responses(url)[0].payload)
    assert writes(slack.store) == [f"PUT {JANE}"]
    assert slack.customer(JANE)["Enabled"] is False


def test_100_separate_clicks_on_one_button_write_once(slack: Slack) -> None:
    """A double-click storm: 100 distinct deliveries (own action_ts), not duplicates of one."""
    card = slack.command("jane@example.com", AGENT)
    bodies = [slack.click_body(card, AGENT, label="Disable") for _ in range(100)]
    slack.store.reset_counts()
    statuses = _together(100, lambda i: slack.bot.post(bodies[i][1], timeout=20).status_code)
    assert statuses == [200] * 100
    answers = [all_text(slack.fake.wait_response(url, timeout=20).payload) for url, _ in bodies]
    assert sum("is now disabled" in a for a in answers) == 1
    assert sum("already disabled" in a for a in answers) == 99
    assert writes(slack.store) == [f"PUT {JANE}"]
