"""Issue 12 — what the support agent sees: never demo data by accident, notes on the card,
Slack-native text, confirmations where a misclick hurts, plain-English answers; the console's
small surprises; ``serve`` start-up; README and manifest agreeing with the code.

Slack checks go end to end (signed requests → the served bot on the sandbox store → the fake
Slack) and every message must pass ``assert_valid_message``; console checks drive a
``ConsoleSession`` or ``python -m bot`` in a subprocess.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from bot import intents as i
from bot.config import SANDBOX_STORES, STORE_CREDENTIALS, ConfigError, load_settings
from bot.console import ConsoleSession, is_comment, main as console_main
from bot.guard import Actor, Role
from bot.reply import DEMO_BANNER, Card, Notice, Reply
from bot.runtime import build_runtime
from bot.slack import app as slack_app
from bot.slack import listeners as slack_listeners
from bot.slack import web as slack_web
from bot.sandbox.threedcart import SandboxStore
from bot.slack.blocks import render
from bot.slack.text import markup_mrkdwn

try:
    from fake_slack import FakeSlack
    from slack_helpers import (
        ADMIN, AGENT, VIEWER, BotServer, Slack, action_for, all_text, assert_valid_message, block_actions,
        check_everything_sent, elements, find_element,
    )
except ImportError:  # pragma: no cover - run as a package
    from tests.fake_slack import FakeSlack
    from tests.slack_helpers import (
        ADMIN, AGENT, VIEWER, BotServer, Slack, action_for, all_text, assert_valid_message, block_actions,
        check_everything_sent, elements, find_element,
    )

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[1]
JANE, BOB, CAROL, DAVE, ERIN, HENRY = 1, 2, 3, 4, 5, 8
VIP, WHOLESALE, STAFF = 1, 2, 3


def texts_of(payload: dict, kind: str) -> list[str]:
    """The text of every ``kind`` (``plain_text`` / ``mrkdwn``) object in a message's blocks."""
    out = []
    stack: list[Any] = list(payload.get("blocks") or [])
    while stack:
        node = stack.pop(0)
        if isinstance(node, dict):
            if node.get("type") == kind and isinstance(node.get("text"), str):
                out.append(node["text"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return out


def has_banner(payload: dict) -> bool:
    first = payload["blocks"][0]
    return first["type"] == "context" and DEMO_BANNER in first["elements"][0]["text"]


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("THREEDCART_", "BOT_", "SLACK_", "SANDBOX")) and k not in ("DATA_DIR", "PORT")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ================================================================== 1. SANDBOX and the demo banner


@pytest.mark.parametrize("value, expected", [
    ("threedcart", "threedcart"), ("ThreeDCart", "threedcart"), ("1", "threedcart"), ("true", "threedcart"),
    ("YES", "threedcart"), ("", None), ("  ", None),
])
def test_sandbox_setting_values(value: str, expected: str | None) -> None:
    assert load_settings(sandbox=value).sandbox == expected


def test_sandbox_setting_refuses_other_values_naming_the_variable() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(sandbox="bigshop-secret-ish")
    assert "SANDBOX" in str(err.value) and "bigshop-secret-ish" not in str(err.value)
    assert set(SANDBOX_STORES.values()) == {"threedcart", "bigcommerce"}  # one entry per embedded store


def test_require_store_needs_credentials_or_sandbox() -> None:
    none = dict.fromkeys(("threedcart_secure_url", "threedcart_private_key", "threedcart_token"), "")
    with pytest.raises(ConfigError) as err:
        load_settings(**none, sandbox="").require_store()
    for name in (*STORE_CREDENTIALS, "SANDBOX"):
        assert name in str(err.value)
    load_settings(**none, sandbox="threedcart").require_store()  # explicit: fine
    real = load_settings(threedcart_secure_url="s", threedcart_private_key="k", threedcart_token="t", sandbox="")
    real.require_store()
    assert not real.sandbox_mode


@pytest.mark.parametrize("command", ["serve", "socket", "poll"])
def test_slack_surfaces_refuse_to_start_on_demo_data_by_accident(tmp_path: Path, command: str) -> None:
    env = subprocess_env(SLACK_BOT_TOKEN="xoxb-x", SLACK_SIGNING_SECRET="s", SLACK_APP_TOKEN="xapp-x",
                         APPROVALS_CHANNEL="C1", PORT=str(free_port()))
    done = subprocess.run([sys.executable, "-m", "bot", command], capture_output=True, text=True,
                          encoding="utf-8", cwd=tmp_path, env=env, timeout=30)
    assert done.returncode == 2, done.stderr
    for name in (*STORE_CREDENTIALS, "SANDBOX"):
        assert name in done.stderr
    assert "Traceback" not in done.stderr


def test_gunicorn_entry_point_refuses_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in (*STORE_CREDENTIALS, "SANDBOX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    with pytest.raises(ConfigError, match="SANDBOX"):
        slack_web.create_wsgi_app()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, int]]:
    """``python -m bot serve`` with SANDBOX=1 on a free port, stopped with SIGTERM afterwards."""
    port = free_port()
    env = subprocess_env(SANDBOX="1", SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET="secret",
                         PORT=str(port), DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, encoding="utf-8", cwd=tmp_path, env=env)
    try:
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_healthy(proc: subprocess.Popen, port: int, deadline: float = 20.0) -> dict:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError("serve did not come up")


def test_serve_with_sandbox_starts_says_so_and_has_no_bolt_warning(served: tuple[subprocess.Popen, int]) -> None:
    proc, port = served
    assert wait_healthy(proc, port) == {"ok": True, "store": "sandbox", "backend": "threedcart"}
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert "listening on" in err  # positive control: the log was captured
    assert "will be unused" not in err and "Traceback" not in err


def test_serve_on_a_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = subprocess_env(SANDBOX="1", SLACK_BOT_TOKEN="xoxb-x", SLACK_SIGNING_SECRET="s", PORT=str(port),
                             DATA_DIR=str(tmp_path / "data"), LOG_LEVEL="ERROR")
        done = subprocess.run([sys.executable, "-m", "bot", "serve"], capture_output=True, text=True,
                              encoding="utf-8", cwd=tmp_path, env=env, timeout=30)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [f"Cannot serve: port {port} is already in use (stop the other server, or set PORT)."]


def test_every_slack_message_on_the_demo_store_carries_the_banner(slack: Slack, fake: FakeSlack) -> None:
    card = slack.command("jane@example.com", AGENT)
    assert has_banner(card) and DEMO_BANNER in all_text(card)
    moved = slack.click(card, AGENT, type="static_select", option_value="move:1:2")
    assert has_banner(moved)
    refused = slack.command("delete jane@example.com", AGENT)
    assert has_banner(refused)
    for text in ("help", "flibbertigibbet", "pending", "members VIP", "history jane@example.com"):
        assert has_banner(slack.command(text, ADMIN)), text
    # the listeners' own messages (an edited button value) too
    edited = dict(find_element(card, label="Subscribe"), value="nonsense")
    url = fake.response_url(user=AGENT)
    slack.bot.post(block_actions(action_for(edited), user_id=AGENT, response_url=url, message=card))
    post = fake.wait_response(url)
    assert_valid_message(post.payload)
    assert has_banner(post.payload) and "out of date" in all_text(post.payload)
    assert all(has_banner(p) for p in fake.sent() if p.get("blocks"))


def test_a_real_store_has_no_banner(fake: FakeSlack, tmp_path: Path) -> None:
    """Positive control: the same bot on a store reached with credentials says nothing of demos."""
    with SandboxStore(port=0) as store, BotServer(
        fake, tmp_path, admins=ADMIN, agents=AGENT, threedcart_api_url=store.url,
        threedcart_secure_url=store.secure_url, threedcart_private_key=store.private_key,
        threedcart_token=store.token,
    ) as bot:
        assert bot.runtime.store.sandbox is None
        payload = Slack(bot, fake).command("jane@example.com", AGENT)
        assert payload["blocks"][0]["type"] == "header"
        assert DEMO_BANNER not in all_text(payload)
        assert bot.get("/healthz").json() == {"ok": True, "store": "3dcart", "backend": "threedcart"}
    check_everything_sent(fake)


def test_console_replies_carry_the_banner(session: ConsoleSession) -> None:
    out = session.run_line("jane@example.com")
    assert out.splitlines()[-1] == f"({DEMO_BANNER})"


# ================================================================== 2. the card


def field(payload: dict, label: str) -> str:
    for block in payload["blocks"]:
        for f in block.get("fields") or []:
            if f["text"].startswith(label + "\n"):
                return f["text"].split("\n", 1)[1]
    raise AssertionError(f"no field {label!r}")


def test_card_shows_store_notes_literally_and_clipped(slack: Slack) -> None:
    erin = slack.command("erin@example.com", VIEWER)
    assert field(erin, "Notes") == "Left the company; account disabled."
    odd = slack.store.add_customer(Email="odd@example.com", BillingFirstName="Odd",
                                   Comments="<!channel> *bold* :tada: " + "x" * 1000)
    payload = slack.command("odd@example.com", VIEWER)
    notes = field(payload, "Notes")
    assert notes.startswith("<!channel> *bold* :tada: ") and len(notes) <= 300 and notes.endswith("…")
    block = next(b for b in payload["blocks"] if any("Notes" in f["text"] for f in b.get("fields") or []))
    assert all(f["type"] == "plain_text" for f in block["fields"])  # shown literally
    assert odd


def test_disabled_account_is_marked(slack: Slack) -> None:
    erin = slack.command("erin@example.com", VIEWER)
    assert erin["blocks"][2]["type"] == "section"  # banner, header, then the mark
    assert erin["blocks"][2]["text"]["text"].startswith("⛔ Account disabled")
    jane = slack.command("jane@example.com", VIEWER)
    assert "Account disabled" not in all_text(jane)


def test_history_button_for_those_who_may_see_history(slack: Slack) -> None:
    assert not [e for e in elements(slack.command("jane@example.com", VIEWER)) if e.get("value", "").startswith("hist:")]
    slack.command("subscribe jane@example.com", AGENT)
    card = slack.command("jane@example.com", AGENT)
    history = slack.click(card, AGENT, label="History")
    text = all_text(history)
    assert "History of jane@example.com" in text
    assert "subscribed them to the mailing list" in text


def test_delete_confirmation_mentions_store_credit_and_notes(slack: Slack) -> None:
    henry = slack.command("delete henry@example.com", ADMIN)
    assert "store credit of 100.00" in all_text(henry)
    jane = slack.command("delete jane@example.com", ADMIN)
    assert "store credit of 25.00" in all_text(jane) and "Store notes: Prefers email contact." in all_text(jane)
    dave = slack.command("delete dave@example.com", ADMIN)
    assert "store credit" not in all_text(dave) and "Store notes" not in all_text(dave)


# ================================================================== 3. mrkdwn help, refusals, errors


def test_markup_becomes_mrkdwn_with_code_spans_escaped() -> None:
    assert markup_mrkdwn("Try `a <b> & c` now & <then>") == "Try `a &lt;b&gt; &amp; c` now &amp; &lt;then&gt;"
    assert markup_mrkdwn("unclosed `tick") == "unclosed tick"
    message = render(Reply.notice("warn", "Type `help`", markup=True))
    assert message["blocks"][0]["text"] == {"type": "mrkdwn", "text": "⚠️ Type `help`", "verbatim": True}
    plain_one = render(Reply.notice("warn", "Jane *x*"))
    assert plain_one["blocks"][0]["text"]["type"] == "plain_text"  # not marked: stays plain
    assert_valid_message(message)
    long_card = render(Reply(text="x", cards=(Card("T", lines=tuple(f"`l{n}` & more" for n in range(900)), markup=True),)))
    assert_valid_message(long_card)


def test_help_is_mrkdwn_and_shows_what_your_role_can_do(slack: Slack) -> None:
    viewer = slack.command("help", VIEWER)
    mrkdwn = "\n".join(texts_of(viewer, "mrkdwn"))
    assert "`jane@example.com`" in mrkdwn and "`pending`" in mrkdwn
    assert "`move " not in mrkdwn and "`delete " not in mrkdwn and "`approve " not in mrkdwn
    assert "Support agents (`BOT_AGENTS`) can also" in mrkdwn
    agent = "\n".join(texts_of(slack.command("help", AGENT), "mrkdwn"))
    assert "`move jane@example.com to Wholesale`" in agent and "`undo`" in agent and "`delete " not in agent
    assert "Admins (`BOT_ADMINS`) can also delete" in agent
    admin = "\n".join(texts_of(slack.command("help", ADMIN), "mrkdwn"))
    assert "`delete jane@example.com`" in admin and "`approve jane@example.com`" in admin


def test_refusals_and_not_understood_are_mrkdwn_with_user_text_escaped(slack: Slack) -> None:
    refused = slack.command("disable jane@example.com", VIEWER)
    assert any("`BOT_AGENTS`" in t for t in texts_of(refused, "mrkdwn"))
    assert slack.customer(JANE)["Enabled"] is True
    nonsense = slack.command("@boo* &lt;!channel&gt; `x`", ADMIN)  # not an address, not a search
    warning = texts_of(nonsense, "mrkdwn")[0]
    assert "`@boo* &lt;!channel&gt; 'x'`" in warning  # the user's text: one literal code span
    assert "<!channel>" not in json.dumps(nonsense["blocks"])
    searched = slack.command("*boo* &lt;!channel&gt; `x`", ADMIN)  # any other text is a search
    assert "boo" in all_text(searched)
    assert not any("<!channel>" in t for t in texts_of(searched, "mrkdwn"))  # literal: plain_text only
    assert "<!channel>" not in searched["text"]  # the notification text is escaped
    groups = slack.command("move jane@example.com to Platinum", AGENT)
    assert any("There is no group called `Platinum`" in t for t in texts_of(groups, "mrkdwn"))


def test_console_shows_markup_as_typed(session: ConsoleSession) -> None:
    out = session.run_line("move jane@example.com to Platinum")
    assert out.startswith("! There is no group called `Platinum`.")


# ================================================================== 4. buttons only for what you may do


def test_pending_buttons_only_for_admins(slack: Slack) -> None:
    for user in (VIEWER, AGENT):
        payload = slack.command("pending", user)
        assert "Carol Reyes" in all_text(payload)
        assert elements(payload) == [], user
    admin = slack.command("pending", ADMIN)
    labels = [e["text"]["text"] for e in elements(admin)]
    assert labels.count("Approve") == 2 and "Approve all 2" in labels
    # a click is still checked: an admin's button pressed by an agent is refused
    refused = slack.click(admin, AGENT, label="Approve")
    assert "Only admins" in all_text(refused)
    assert slack.customer(CAROL)["Enabled"] is False


def test_approvals_channel_post_keeps_its_buttons(bot: BotServer) -> None:
    desk = bot.runtime.desk
    desk.feed.refresh()
    message = render(desk.applicant_reply(desk.ledger.waiting_for(CAROL)))
    assert_valid_message(message)
    assert [e["text"]["text"] for e in elements(message)] == ["Approve", "Deny", "Dismiss"]


# ================================================================== 5. Disable asks first


def test_disable_button_is_danger_and_asks_first(slack: Slack) -> None:
    card = slack.command("jane@example.com", AGENT)
    disable = find_element(card, label="Disable")
    assert disable["style"] == "danger"
    assert disable["confirm"]["title"]["text"] == "Disable this account?"
    assert "Jane Doe will no longer be able to sign in" in disable["confirm"]["text"]["text"]
    assert disable["confirm"]["style"] == "danger"
    disabled = slack.click(card, AGENT, label="Disable")  # Slack asked; the user said yes
    assert slack.customer(JANE)["Enabled"] is False
    enable = find_element(disabled, label="Enable")
    assert "confirm" not in enable and "style" not in enable


# ================================================================== 6. typed undo, retail members, short prefixes, wording


def test_typed_undo_undoes_your_own_latest_change(slack: Slack) -> None:
    slack.command("move jane@example.com to Wholesale", AGENT)
    slack.command("disable bob@example.com", ADMIN)  # someone else's change: never mine to undo
    assert slack.customer(JANE)["CustomerGroupID"] == WHOLESALE
    undone = slack.command("undo", AGENT)
    assert "Undone: Jane Doe is back in VIP." in all_text(undone)
    assert slack.customer(JANE)["CustomerGroupID"] == VIP
    assert slack.customer(BOB)["Enabled"] is False
    again = slack.command("undo", AGENT)
    assert "no change left to undo" in all_text(again)
    assert "Approve, deny and delete are final" in all_text(again)
    assert slack.customer(JANE)["CustomerGroupID"] == VIP
    refused = slack.command("undo", VIEWER)
    assert "Only support agents" in all_text(refused)
    assert slack.customer(BOB)["Enabled"] is False
    assert "takes nothing else" in all_text(slack.command("undo 12", AGENT))


def test_typed_undo_skips_changes_already_undone_by_button(slack: Slack) -> None:
    slack.command("subscribe jane@example.com", AGENT)
    moved = slack.command("move jane@example.com to Staff", AGENT)
    slack.click(moved, AGENT, label="Undo")  # the move, by its button
    assert slack.customer(JANE)["CustomerGroupID"] == VIP
    slack.command("undo", AGENT)  # so `undo` takes the subscribe
    assert slack.customer(JANE)["MailList"] is False and slack.customer(JANE)["CustomerGroupID"] == VIP


@pytest.mark.parametrize("text", ["members retail", "members 0"])
def test_members_of_no_group_says_the_store_cannot_list_them(slack: Slack, text: str) -> None:
    payload = slack.command(text, VIEWER)
    assert "can't list customers who are in no group" in all_text(payload)
    assert "0 customers" not in all_text(payload)


def test_one_letter_group_prefix_is_not_enough(slack: Slack) -> None:
    payload = slack.command("move jane@example.com to s", AGENT)
    assert "too short" in all_text(payload) and "`Staff (#3)`" in "\n".join(texts_of(payload, "mrkdwn"))
    assert slack.customer(JANE)["CustomerGroupID"] == VIP
    slack.command("move jane@example.com to st", AGENT)
    assert slack.customer(JANE)["CustomerGroupID"] == STAFF
    slack.command(f"move jane@example.com to {VIP}", AGENT)  # a one-digit id is fine
    assert slack.customer(JANE)["CustomerGroupID"] == VIP


def test_answers_and_history_in_plain_english(slack: Slack) -> None:
    gone = slack.command("unsubscribe dave@example.com", AGENT)
    assert "Dave Kim is no longer subscribed to the mailing list." in all_text(gone)
    already = slack.command("unsubscribe dave@example.com", AGENT)
    assert "Dave Kim isn't subscribed to the mailing list. Nothing changed." in all_text(already)
    slack.command("move dave@example.com to VIP", AGENT)
    slack.command("move dave@example.com to retail", AGENT)
    history = all_text(slack.command("history dave@example.com", AGENT))
    assert "moved from VIP to No group (retail)" in history
    assert "moved from No group (retail) to VIP" in history
    assert "unsubscribed them from the mailing list" in history
    assert "→" not in history and "group_id" not in history


# ================================================================== 7. the console


@pytest.fixture
def session(tmp_path: Path) -> Iterator[ConsoleSession]:
    from bot.console import console_settings

    settings = console_settings("UTESTER", Role.ADMIN, data_dir=tmp_path / "data", bot_admins_raw="", bot_agents_raw="",
                                threedcart_secure_url="", threedcart_private_key="", threedcart_token="", sandbox="")
    runtime = build_runtime(settings)
    try:
        yield ConsoleSession(runtime, Actor("UTESTER", "tester"))
    finally:
        runtime.close()
        shutil.rmtree(settings.data_dir, ignore_errors=True)  # the console's temporary state folder


def test_console_hash_id_looks_up_and_comments_need_a_space(session: ConsoleSession) -> None:
    assert "Carol Reyes\n═══════════" in session.run_line("#3")
    assert "Carol Reyes" in session.run_line("id:3")
    assert session.run_line("# a comment") == "" and session.run_line("#") == ""
    assert is_comment("#\tnote") and not is_comment("#12")


def test_console_user_takes_the_role_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    for name in (*STORE_CREDENTIALS, "DATA_DIR", "BOT_ADMINS", "SANDBOX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOT_AGENTS", "U123")
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO("delete jane@example.com\n"))
    assert console_main(["--user", "U123"]) == 0
    out = capsys.readouterr().out
    assert "(U123), role agent" in out and "Only admins" in out
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO(""))
    assert console_main(["--user", "U123", "--as", "admin"]) == 0
    assert "(U123), role admin" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO(""))
    assert console_main(["--user", "U999"]) == 0
    assert "(U999), role viewer" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO(""))
    assert console_main([]) == 0  # the default console user is still admin
    assert "role admin" in capsys.readouterr().out


def test_console_store_retries_go_to_the_log_not_the_terminal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = subprocess_env(THREEDCART_API_URL=f"http://127.0.0.1:{free_port()}/", THREEDCART_SECURE_URL="shop.example.com",
                         THREEDCART_PRIVATE_KEY="key-0000", THREEDCART_TOKEN="tok-0000", STORE_TIMEOUT_SECONDS="2",
                         DATA_DIR=str(data))
    done = subprocess.run([sys.executable, "-m", "bot", "console"], input="jane@example.com\n", capture_output=True,
                          text=True, encoding="utf-8", cwd=tmp_path, env=env, timeout=40)
    assert done.returncode == 0, done.stderr
    assert "The store is not answering right now" in done.stdout
    assert "Retrying" not in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    log = (data / "console.log").read_text(encoding="utf-8")
    assert "Retrying" in log  # positive control: the warnings happened, in the log
    assert "tok-0000" not in log and "key-0000" not in log


# ================================================================== 9. manifest and README against the code


MANIFEST = yaml.safe_load((ROOT / "manifest.yaml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
WEB_API_SCOPES = {"chat_postMessage": "chat:write", "chat_update": "chat:write", "chat_postEphemeral": "chat:write"}


def test_manifest_matches_the_code() -> None:
    features, settings = MANIFEST["features"], MANIFEST["settings"]
    [command] = features["slash_commands"]
    assert command["command"] == slack_listeners.COMMAND
    assert command["should_escape"] is True  # the parser unescapes Slack markup
    [shortcut] = features["shortcuts"]
    assert shortcut["callback_id"] == slack_listeners.LOOKUP_SHORTCUT and shortcut["type"] == "message"
    urls = [command["url"], settings["interactivity"]["request_url"], settings["interactivity"]["message_menu_options_url"]]
    assert all(url.startswith("https://") and url.endswith(slack_web.EVENTS_PATH) for url in urls)
    assert settings["interactivity"]["is_enabled"] is True
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == set(slack_app.BOT_SCOPES)
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "bot" / "slack").glob("*.py"))
    used = set(re.findall(r"\.(chat_\w+|views_\w+|conversations_\w+|users_\w+)\(", source))
    assert used and used <= set(WEB_API_SCOPES), used  # every Web API method the bot calls…
    assert {WEB_API_SCOPES[m] for m in used} <= set(slack_app.BOT_SCOPES)  # …is covered by a scope


def test_readme_and_manifest_say_exactly_what_undo_covers() -> None:
    description = MANIFEST["display_information"]["long_description"]
    for text in (description, README):
        flat = " ".join(text.split())
        assert "can be undone for 15 minutes" not in flat.replace("(un)subscribe can be undone", "")
        assert "moves, enable/disable and (un)subscribe can be undone" in flat.lower()
        assert "approve, deny and delete are final" in flat
    from bot.desk import UNDOABLE

    assert set(UNDOABLE) == {"move", "enable", "disable", "subscribe", "unsubscribe"}


def test_readme_what_you_can_type_lists_every_form_the_parser_accepts() -> None:
    table = README.split("## What you can type", 1)[1].split("\n## ", 1)[0]
    for command in i.COMMANDS:
        assert f"`{command}" in table, command
    for form in ("`#123`", "`id:123`", "`members Wholesale page 2`", "`pending page 2`", "`undo`",
                 "`move jane@example.com to Wholesale` (or without `to`)"):
        assert form in table, form
    # and each form the table shows parses to what it says
    assert isinstance(i.parse("#123"), i.Lookup) and isinstance(i.parse("id:123"), i.Lookup)
    assert i.parse("members Wholesale page 2") == i.Members("Wholesale", 2)
    assert i.parse("pending page 2") == i.Pending(2)
    assert i.parse("move jane@example.com Wholesale") == i.Move("jane@example.com", "Wholesale")
    assert isinstance(i.parse("undo"), i.UndoLatest)
    assert "`SANDBOX`" in README and "pyyaml (checks `manifest.yaml`)" in README


def test_help_lists_a_line_for_every_command() -> None:
    from bot.desk import help_reply

    lines = "\n".join(help_reply(Role.ADMIN).cards[0].lines)
    for command in i.COMMANDS:
        assert f"`{command}" in lines or (command == "lookup" and "`lookup " in lines), command
    assert isinstance(Notice("info", "x").markup, bool)


# ================================================================== the same items in the console


def test_console_card_notes_alert_and_history_button(session: ConsoleSession) -> None:
    out = session.run_line("erin@example.com")
    lines = out.splitlines()
    assert lines[2] == "  ⛔ Account disabled: this customer cannot sign in or place orders."
    assert "  Notes:        Left the company; account disabled." in lines
    assert "History" in out
    out = session.run_line("delete henry@example.com")
    assert "Their store credit of 100.00 goes with it." in out


def test_console_pending_as_viewer_has_no_buttons(session: ConsoleSession) -> None:
    session.run_line("as viewer")
    out = session.run_line("pending")
    assert "Carol Reyes" in out and "[1]" not in out
    session.run_line("as admin")
    assert "[1] Approve   [2] Deny" in session.run_line("pending")


def test_console_typed_undo_members_retail_and_short_prefix(session: ConsoleSession) -> None:
    sandbox = session.runtime.store.sandbox
    assert "too short" in session.run_line("move jane@example.com to w")
    assert sandbox.customer(JANE)["CustomerGroupID"] == VIP
    session.run_line("move jane@example.com to wh")
    assert sandbox.customer(JANE)["CustomerGroupID"] == WHOLESALE
    out = session.run_line("undo")
    assert out.startswith("✓ Undone: Jane Doe is back in VIP.")
    assert sandbox.customer(JANE)["CustomerGroupID"] == VIP
    assert "can't list customers who are in no group" in session.run_line("members retail")
    assert "Wholesale" in session.run_line("history jane@example.com").split("moved from VIP to ")[1]


# ================================================================== wording


def entry(action: str, outcome: str = "done", before: dict | None = None, after: dict | None = None,
          detail: str = "") -> Any:
    from datetime import datetime, timezone

    from bot.audit import AuditEntry

    return AuditEntry(id=1, at=datetime(2026, 12, 3, 16, 20, tzinfo=timezone.utc), user_id="U1", user_name="ana",
                      action=action, customer_id=1, email="jane@example.com", before=before or {},
                      after=after or {}, outcome=outcome, detail=detail, undoes=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("made, line", [
    (entry("move", before={"group_id": 1}, after={"group_id": 2}), "moved from VIP to Wholesale"),
    (entry("unsubscribe", before={"mail_list": True}, after={"mail_list": False}), "unsubscribed them from the mailing list"),
    (entry("disable", before={"enabled": True}, after={"enabled": False}), "disabled the account"),
    (entry("delete", before={"group_id": 1}), "deleted the account"),
    (entry("deny", before={"group_id": 2, "enabled": False}, after={"group_id": 0, "enabled": True}),
     "denied the wholesale application (moved to No group (retail))"),
    (entry("undo", before={"group_id": 2}, after={"group_id": 1}), "undid a change (moved from Wholesale to VIP)"),
    (entry("move", "no-op", detail="already in Wholesale"), "tried to move, nothing changed (already in Wholesale)"),
    (entry("delete", "refused", detail="needs admin role"), "was refused: may not delete (needs admin role)"),
])
def test_history_lines_are_plain_english(made: Any, line: str) -> None:
    from bot.desk import wording

    names = {0: "No group (retail)", 1: "VIP", 2: "Wholesale"}
    assert wording.history_line(made, names.__getitem__) == f"2026-12-03 16:20 UTC · @ana · {line}"


def test_undo_answers_say_what_is_back() -> None:
    from bot.desk import wording

    names = {1: "VIP"}.__getitem__
    assert wording.undone("Dave Kim", {"mail_list": True}, names) == "Undone: Dave Kim is subscribed to the mailing list again."
    assert wording.undone("Jane", {"group_id": 1, "enabled": False}, names) == "Undone: Jane is back in VIP and disabled again."
