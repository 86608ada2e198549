"""End to end over real local HTTP: signed Slack requests → the WSGI app → desk → sandbox store,
answers caught by a fake Slack (Web API + response URLs).

Checks are made against store effects (the sandbox's records and request log), not only text,
and every message the bot sends must pass ``assert_valid_message``.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import requests

try:
    from fake_slack import FakeSlack
    from slack_helpers import (
        ADMIN, AGENT, VIEWER, BotServer, Slack, action_for, all_text, assert_valid_message, block_actions,
        check_everything_sent, elements, find_element, interactive, message_action, sign, slash_command,
    )
except ImportError:  # pragma: no cover - run as a package
    from tests.fake_slack import FakeSlack
    from tests.slack_helpers import (
        ADMIN, AGENT, VIEWER, BotServer, Slack, action_for, all_text, assert_valid_message, block_actions,
        check_everything_sent, elements, find_element, interactive, message_action, sign, slash_command,
    )

pytestmark = pytest.mark.timeout(60)

JANE, BOB, CAROL, DAVE, HENRY = 1, 2, 3, 4, 8
BOTH_STORES = pytest.mark.parametrize("bot", ["threedcart", "bigcommerce"], indirect=True)
"""The main rows run on both demo stores (same people, same ids, same groups 1–4)."""
VIP, WHOLESALE, STAFF, DISTRIBUTORS = 1, 2, 3, 4


def headers(payload: dict) -> list[str]:
    return [b["text"]["text"] for b in payload["blocks"] if b["type"] == "header"]


def field(payload: dict, label: str) -> str:
    for block in payload["blocks"]:
        for f in block.get("fields") or []:
            if f["text"].startswith(label + "\n"):
                return f["text"].split("\n", 1)[1]
    raise AssertionError(f"no field {label!r} in {all_text(payload)}")


# ------------------------------------------------------------------------------ the intent table


@BOTH_STORES
@pytest.mark.parametrize("text", [
    "jane@example.com",
    "lookup jane@example.com",
    "<mailto:jane@example.com|jane@example.com>",
    "lookup <mailto:jane@example.com|jane@example.com>",
    "JANE@EXAMPLE.COM",
    "LOOKUP Jane@Example.com",
    "#1",
])
def test_lookup(slack: Slack, text: str) -> None:
    payload = slack.command(text, VIEWER)
    assert headers(payload) == ["Jane Doe"]
    assert field(payload, "Email") == "jane@example.com"
    assert field(payload, "Group").startswith("VIP")
    assert payload["response_type"] == "ephemeral"
    assert elements(payload) == []  # a viewer gets no buttons


@BOTH_STORES
def test_lookup_unknown_customer(slack: Slack) -> None:
    payload = slack.command("lookup nobody@example.com", VIEWER)
    assert "No customer with the address nobody@example.com" in all_text(payload)


@BOTH_STORES
@pytest.mark.parametrize("group_text, group_id", [
    ("Wholesale", WHOLESALE), ("wholesale", WHOLESALE), ("dist", DISTRIBUTORS), ("3", STAFF),
])
def test_move_by_name_prefix_and_id(slack: Slack, group_text: str, group_id: int) -> None:
    payload = slack.command(f"move jane@example.com to {group_text}", AGENT)
    assert slack.group_of(JANE) == group_id
    assert "Moved Jane Doe from VIP to" in all_text(payload)
    assert headers(payload) == ["Jane Doe"]


@BOTH_STORES
def test_move_to_the_group_it_is_in_is_a_noop(slack: Slack) -> None:
    slack.store.reset_counts()
    payload = slack.command("move jane@example.com to VIP", AGENT)
    assert "already in VIP" in all_text(payload)
    assert slack.store.request_count("PUT") == 0


@BOTH_STORES
def test_move_to_unknown_group(slack: Slack) -> None:
    payload = slack.command("move jane@example.com to Nowhere", AGENT)
    assert "no group called" in all_text(payload)
    assert slack.group_of(JANE) == VIP


def test_enable_disable_subscribe_unsubscribe(slack: Slack) -> None:
    slack.command("disable jane@example.com", AGENT)
    assert slack.customer(JANE)["Enabled"] is False
    slack.command("enable jane@example.com", AGENT)
    assert slack.customer(JANE)["Enabled"] is True
    payload = slack.command("subscribe jane@example.com", AGENT)
    assert slack.customer(JANE)["MailList"] is True
    assert field(payload, "Mailing list") == "Subscribed"
    slack.command("unsubscribe jane@example.com", AGENT)
    assert slack.customer(JANE)["MailList"] is False


@BOTH_STORES
def test_delete_command_asks_for_confirmation_first(slack: Slack) -> None:
    slack.store.reset_counts()
    payload = slack.command("delete dave@example.com", ADMIN)
    assert headers(payload) == ["Delete Dave Kim?"]
    yes = find_element(payload, label="Yes, delete")
    assert yes["style"] == "danger"
    assert slack.customer(DAVE) is not None
    assert slack.store.request_count("DELETE") == 0


@BOTH_STORES
def test_groups_members_help(slack: Slack) -> None:
    groups = slack.command("groups", VIEWER)
    text = all_text(groups)
    for name in ("VIP", "Wholesale", "Staff", "Distributors"):
        assert name in text
    members = slack.command("members VIP", VIEWER)
    assert "jane@example.com" in all_text(members) and "henry@example.com" in all_text(members)
    help_ = slack.command("help", AGENT)
    assert "move jane@example.com to Wholesale" in all_text(help_)


def test_garbage_is_not_understood_with_a_suggestion(slack: Slack) -> None:
    payload = slack.command("remove jane@example.com", ADMIN)
    text = all_text(payload)
    assert "didn't understand" in text
    assert "delete jane@example.com" in text
    assert slack.customer(JANE) is not None
    payload = slack.command("<#C1|general>", ADMIN)
    assert "didn't understand" in all_text(payload)
    payload = slack.command("flibbertigibbet", ADMIN)  # any other text is a search (issue 15)
    assert "No customer matches “flibbertigibbet”" in all_text(payload)


def test_store_data_is_shown_literally(slack: Slack) -> None:
    cid = slack.store.add_customer(Email="evil@example.com", BillingFirstName="<!channel>",
                                   BillingLastName="*bold* & <@U1>", BillingCompany="_x_ `y`")
    payload = slack.command("evil@example.com", VIEWER)
    assert headers(payload) == ["<!channel> *bold* & <@U1>"]
    assert "&lt;!channel&gt;" in payload["text"] and "<!channel>" not in payload["text"]
    assert field(payload, "Company") == "_x_ `y`"
    assert cid


# ------------------------------------------------------------------------------ clicking cards


def test_card_actions_update_the_card_in_place(slack: Slack) -> None:
    card = slack.command("jane@example.com", AGENT)
    ids = [e["action_id"] for e in elements(card)]
    assert len(ids) == len(set(ids)) == 4  # group menu, Disable, Subscribe, History — no Delete for an agent

    moved = slack.click(card, AGENT, type="static_select", option_value="move:1:2")
    assert moved["replace_original"] is True
    assert slack.group_of(JANE) == WHOLESALE
    assert field(moved, "Group").startswith("Wholesale")
    select = find_element(moved, type="static_select")
    assert select["initial_option"]["value"] == "move:1:2"

    disabled = slack.click(moved, AGENT, label="Disable")
    assert disabled["replace_original"] is True
    assert slack.customer(JANE)["Enabled"] is False
    assert field(disabled, "Account") == "Disabled"

    subscribed = slack.click(disabled, AGENT, label="Subscribe")
    assert slack.customer(JANE)["MailList"] is True

    undone = slack.click(subscribed, AGENT, label="Undo")
    assert slack.customer(JANE)["MailList"] is False
    assert "Undone" in all_text(undone)


def test_out_of_date_or_forged_value(slack: Slack) -> None:
    card = slack.command("jane@example.com", AGENT)
    element = dict(find_element(card, label="Disable"))
    element["value"] = "flag:1:enabled:maybe"
    url = slack.fake.response_url()
    assert slack.bot.post(block_actions(action_for(element), user_id=AGENT, response_url=url)).status_code == 200
    post = slack.fake.wait_response(url)
    assert "out of date" in all_text(post.payload)
    assert post.payload["replace_original"] is False
    assert slack.customer(JANE)["Enabled"] is True


@BOTH_STORES
def test_roles_by_command(slack: Slack) -> None:
    refused = slack.command("move jane@example.com to Wholesale", VIEWER)
    assert "Only support agents" in all_text(refused)
    refused = slack.command("delete jane@example.com", VIEWER)
    assert "Only admins" in all_text(refused)
    refused = slack.command("delete jane@example.com", AGENT)
    assert "Only admins" in all_text(refused)
    assert slack.group_of(JANE) == VIP and slack.customer(JANE) is not None

    slack.command("move jane@example.com to Wholesale", AGENT)
    assert slack.group_of(JANE) == WHOLESALE


@BOTH_STORES
def test_roles_by_click_are_checked_for_the_clicking_user(slack: Slack) -> None:
    admin_card = slack.command("jane@example.com", ADMIN)
    assert find_element(admin_card, label="Delete…")

    # A viewer replaying the admin's buttons (values can be forged): refused, nothing written.
    slack.store.reset_counts()
    refused = slack.click(admin_card, VIEWER, type="static_select", option_value="move:1:2")
    assert "Only support agents" in all_text(refused)
    refused = slack.click(admin_card, VIEWER, label="Delete…")
    assert "Only admins" in all_text(refused)
    # An agent may move but not delete.
    refused = slack.click(admin_card, AGENT, label="Delete…")
    assert "Only admins" in all_text(refused)
    assert slack.store.request_count("PUT") == 0 and slack.store.request_count("DELETE") == 0
    assert slack.group_of(JANE) == VIP

    slack.click(admin_card, AGENT, type="static_select", option_value="move:1:2")
    assert slack.group_of(JANE) == WHOLESALE


@BOTH_STORES
def test_delete_confirm_then_confirm_again(slack: Slack) -> None:
    card = slack.command("henry@example.com", ADMIN)
    confirm = slack.click(card, ADMIN, label="Delete…")
    assert confirm["replace_original"] is True
    assert headers(confirm) == ["Delete Henry Park?"]
    assert slack.customer(HENRY) is not None

    slack.store.reset_counts()
    done = slack.click(confirm, ADMIN, label="Yes, delete")
    assert "Deleted Henry Park" in all_text(done)
    assert slack.customer(HENRY) is None
    again = slack.click(confirm, ADMIN, label="Yes, delete")  # a second click, a new action_ts
    assert "already deleted" in all_text(again)
    assert slack.store.request_count("DELETE") == 1


@BOTH_STORES
def test_cancel_on_the_delete_confirmation_shows_the_card_again(slack: Slack) -> None:
    confirm = slack.command("delete henry@example.com", ADMIN)
    card = slack.click(confirm, ADMIN, label="Cancel")
    assert headers(card) == ["Henry Park"]
    assert slack.customer(HENRY) is not None


def test_the_same_click_delivered_three_times_writes_once(slack: Slack) -> None:
    card = slack.command("jane@example.com", AGENT)
    slack.store.reset_counts()
    url, body = slack.click_body(card, AGENT, label="Disable", ts="1700000999.000001")
    for _ in range(3):
        assert slack.bot.post(body).status_code == 200
    slack.fake.wait_response(url)
    slack.settle()  # answered after the three copies: a duplicate would have run by now
    assert len(slack.fake.responses(url)) == 1
    assert slack.store.request_count("PUT") == 1
    assert slack.customer(JANE)["Enabled"] is False


def _applicant_in_channel(slack: Slack) -> tuple[dict, str]:
    """Carol's applicant card (Approve / Deny), as a message in C0TEST: a decision's home."""
    listing = slack.command("pending", ADMIN)
    ts = slack.fake.add_message("C0TEST", listing)
    return listing, ts


def _approve_carol_body(slack: Slack, listing: dict, ts: str) -> tuple[str, bytes]:
    element = next(e for b in listing["blocks"] for e in b.get("elements", [])
                   if e.get("type") == "button" and e.get("value") == f"appr:{CAROL}")
    url = slack.fake.response_url(channel="C0TEST", user=ADMIN, source_ts=ts)
    return url, block_actions(action_for(element), user_id=ADMIN, response_url=url, message=listing,
                              channel_id="C0TEST", message_ts=ts, ephemeral=False)


def test_a_decision_click_on_a_channel_message_updates_it_with_chat_update(slack: Slack) -> None:
    listing, ts = _applicant_in_channel(slack)
    url, body = _approve_carol_body(slack, listing, ts)
    assert slack.bot.post(body).status_code == 200
    update = slack.fake.wait_for(lambda: slack.fake.calls("chat.update"))[0]
    assert update.ok and update.params["channel"] == "C0TEST" and update.params["ts"] == ts
    assert_valid_message(update.params)
    assert "Approved" in all_text(slack.fake.messages[("C0TEST", ts)])
    assert slack.fake.responses(url) == []


def test_any_other_click_on_a_channel_message_answers_privately(slack: Slack) -> None:
    """Issue 11, item 5: only decision results update a channel post."""
    card = slack.command("jane@example.com", AGENT)
    ts = slack.fake.add_message("C0TEST", card)
    url, body = slack.click_body(card, AGENT, label="Disable", ephemeral=False, message_ts=ts)
    assert slack.bot.post(body).status_code == 200
    post = slack.fake.wait_response(url)
    assert "now disabled" in all_text(post.payload) and post.payload.get("response_type") == "ephemeral"
    assert not post.payload.get("replace_original")
    assert slack.fake.calls("chat.update") == []
    assert slack.fake.messages[("C0TEST", ts)] == card


@pytest.mark.parametrize("error", ["message_not_found", "invalid_blocks", "channel_not_found"])
def test_failed_chat_update_falls_back_to_respond(slack: Slack, error: str) -> None:
    listing, ts = _applicant_in_channel(slack)
    slack.fake.fail_next("chat.update", error)
    url, body = _approve_carol_body(slack, listing, ts)
    assert slack.bot.post(body).status_code == 200
    post = slack.fake.wait_response(url)
    assert post.payload["replace_original"] is True
    assert "Approved" in all_text(post.payload)
    assert [c.error for c in slack.fake.calls("chat.update")] == [error]


def test_rate_limited_chat_update_is_retried(slack: Slack) -> None:
    listing, ts = _applicant_in_channel(slack)
    slack.fake.fail_next("chat.update", "ratelimited", retry_after=1)
    _, body = _approve_carol_body(slack, listing, ts)
    assert slack.bot.post(body).status_code == 200
    calls = slack.fake.wait_for(lambda: (lambda c: c if len(c) == 2 else None)(slack.fake.calls("chat.update")))
    assert [c.error for c in calls] == ["ratelimited", None]
    assert "Approved" in all_text(slack.fake.messages[("C0TEST", ts)])


# ------------------------------------------------------------------------------ shortcut, big stores


@BOTH_STORES
def test_message_shortcut_looks_up_every_address(slack: Slack) -> None:
    text = ("Hi team, can you check <mailto:bob@example.com|bob@example.com> and JANE@example.com? "
            "Also nobody@example.com wrote in.")
    url = slack.fake.response_url()
    resp = slack.bot.post(message_action(text, user_id=AGENT, response_url=url))
    assert resp.status_code == 200 and resp.text == ""
    post = slack.fake.wait_response(url)
    assert_valid_message(post.payload)
    assert sorted(headers(post.payload)) == ["Bob Stone", "Jane Doe"]
    assert "No customer with the address nobody@example.com" in all_text(post.payload)
    assert post.payload["response_type"] == "ephemeral"
    ids = [e["action_id"] for e in elements(post.payload)]
    caps = slack.bot.runtime.store.backend.capabilities
    assert len(ids) == len(set(ids)) == 2 * (2 + caps.has_enabled + caps.has_mail_list)  # menu, History (+ flag buttons)


def test_message_shortcut_without_an_address(slack: Slack) -> None:
    url = slack.fake.response_url()
    assert slack.bot.post(message_action("no addresses here", user_id=AGENT, response_url=url)).status_code == 200
    post = slack.fake.wait_response(url)
    assert "No email address" in all_text(post.payload) or "no email address" in all_text(post.payload)


@BOTH_STORES
def test_more_than_100_groups_use_a_searched_menu(slack: Slack) -> None:
    slack.store.add_groups(150)
    card = slack.command("jane@example.com", AGENT)
    select = find_element(card, type="external_select")
    assert select["initial_option"]["text"]["text"].startswith("VIP")
    assert not [e for e in elements(card) if e["type"] == "static_select"]

    options = slack.suggest(select["action_id"], "Group 14")
    labels = [o["text"]["text"] for o in options]
    assert labels and all("Group 14" in label for label in labels)
    assert len(options) <= 100
    everything = slack.suggest(select["action_id"], "")
    assert 0 < len(everything) <= 100

    chosen = options[0]
    moved = slack.click(card, AGENT, type="external_select", option=chosen)
    group_id = int(chosen["value"].rsplit(":", 1)[1])
    assert slack.group_of(JANE) == group_id
    assert "Moved Jane Doe" in all_text(moved)


def test_options_for_a_bad_action_id_are_empty(slack: Slack) -> None:
    assert slack.suggest("pick:1:flag:zzz", "x") == []
    assert slack.suggest("pick:nonsense", "x") == []


# ------------------------------------------------------------------------------ faults


def test_store_failures_give_a_friendly_message_and_health_stays_ok(slack: Slack) -> None:
    slack.store.fail_next(20, status=503)
    payload = slack.command("lookup jane@example.com", AGENT)
    text = all_text(payload)
    assert "store is not answering" in text and "Traceback" not in text
    assert slack.bot.get("/healthz").status_code == 200

    slack.store.clear_faults()
    slack.store.fail_next(20, status=503)
    payload = slack.command("disable jane@example.com", AGENT)
    assert "store" in all_text(payload) and "Traceback" not in all_text(payload)
    assert slack.customer(JANE)["Enabled"] is True


@BOTH_STORES
def test_hanging_store_gives_a_friendly_message_and_health_still_answers(slack: Slack) -> None:
    slack.store.hang_next(10, seconds=10)  # longer than the store timeout (3 s in BotServer)
    url = slack.fake.response_url(user=AGENT)
    resp = slack.bot.post(slash_command("lookup bob@example.com", user_id=AGENT, response_url=url))
    assert resp.status_code == 200
    health = slack.bot.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"ok": True, "store": "sandbox", "backend": slack.bot.settings.backend}
    post = slack.fake.wait_response(url, timeout=30)
    assert_valid_message(post.payload)
    assert "store is not answering" in all_text(post.payload)
    assert "Traceback" not in all_text(post.payload)


def test_type_ahead_answers_in_time_even_when_the_store_hangs(fake: FakeSlack, tmp_path: Any) -> None:
    with BotServer(fake, tmp_path, admins=ADMIN, agents=AGENT, cache_ttl_seconds=0) as server:
        slack = Slack(server, fake)
        slack.store.add_groups(150)
        card = slack.command("jane@example.com", AGENT)
        select = find_element(card, type="external_select")
        assert slack.suggest(select["action_id"], "Group 15")  # answers from the store
        slack.store.hang_next(10, seconds=10)
        started = time.monotonic()
        assert slack.suggest(select["action_id"], "Group 15") == []  # no groups in time: none offered
        assert time.monotonic() - started < 3.0  # Slack's deadline for options
    check_everything_sent(fake)


def test_unexpected_error_says_something_went_wrong(slack: Slack) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    slack.bot.runtime.desk.handle = boom  # the desk instance the listeners hold
    url = slack.fake.response_url()
    assert slack.bot.post(slash_command("jane@example.com", user_id=AGENT, response_url=url)).status_code == 200
    post = slack.fake.wait_response(url)
    assert "Something went wrong" in all_text(post.payload)
    assert "secret internals" not in all_text(post.payload)


def test_ack_comes_before_the_store_answers(slack: Slack) -> None:
    slack.bot.get("/healthz")
    slack.command("groups", VIEWER)  # warm up (auth.test, group cache)
    slack.store.latency = 1.5
    url = slack.fake.response_url(user=AGENT)
    before = slack.store.request_count()
    resp = slack.bot.post(slash_command("disable jane@example.com", user_id=AGENT, response_url=url))
    # The ack is back; the store has not answered yet (every store request takes 1.5 s), so
    # neither the write nor the answer can have happened.
    assert resp.status_code == 200 and resp.text == ""
    assert slack.fake.responses(url) == []
    assert slack.customer(JANE)["Enabled"] is True
    slack.fake.wait_response(url, timeout=20)
    assert slack.store.request_count() > before
    assert slack.customer(JANE)["Enabled"] is False


def test_acks_do_not_wait_for_busy_workers(slack: Slack) -> None:
    """More slow commands at once than there are desk workers: every one is acked at once."""
    slack.command("groups", VIEWER)
    slack.store.latency = 1.0
    urls = [slack.fake.response_url(user=VIEWER) for _ in range(24)]
    results: list[int] = []

    def send(url: str) -> None:
        results.append(slack.bot.post(slash_command("bob@example.com", user_id=VIEWER, response_url=url)).status_code)

    threads = [threading.Thread(target=send, args=(u,)) for u in urls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert results == [200] * 24
    assert sum(len(slack.fake.responses(u)) for u in urls) < 24  # acked before answered
    slack.store.latency = 0
    for u in urls:
        slack.fake.wait_response(u, timeout=30)


# ------------------------------------------------------------------------------ audit channel


def test_changes_are_posted_to_the_audit_channel(fake: FakeSlack, tmp_path: Any) -> None:
    with BotServer(fake, tmp_path, admins=ADMIN, agents=AGENT, audit_channel="CAUDIT") as server:
        slack = Slack(server, fake)
        slack.command("move jane@example.com to Wholesale", AGENT)
        post = fake.wait_for(lambda: [c for c in fake.calls("chat.postMessage") if c.params.get("channel") == "CAUDIT"])[0]
        assert "jane@example.com" in all_text(post.params)
        assert_valid_message(post.params)

        fake.fail_next("chat.postMessage", "channel_not_found")
        payload = slack.command("disable jane@example.com", AGENT)  # the user still gets the answer
        assert "now disabled" in all_text(payload)
        fake.wait_for(lambda: [c for c in fake.calls("chat.postMessage") if c.error == "channel_not_found"])
    check_everything_sent(fake)


# ------------------------------------------------------------------------------ security


def _forged_requests(bot: BotServer, fake: FakeSlack) -> list[tuple[str, bytes, dict]]:
    url = fake.response_url()
    body = slash_command("delete jane@example.com", user_id=ADMIN, response_url=url)
    now = int(time.time())
    changed = body.replace(b"jane", b"bob!")
    valid = sign(body, bot.secret, now)
    only_ts = {"X-Slack-Request-Timestamp": str(now), "Content-Type": "application/x-www-form-urlencoded"}
    only_sig = {"X-Slack-Signature": valid["X-Slack-Signature"], "Content-Type": "application/x-www-form-urlencoded"}
    return [
        ("bad secret", body, sign(body, "not-the-secret", now)),
        ("stale timestamp", body, sign(body, bot.secret, now - 6 * 60)),
        ("future timestamp", body, sign(body, bot.secret, now + 6 * 60)),
        ("changed body", changed, valid),
        ("no headers", body, {"Content-Type": "application/x-www-form-urlencoded"}),
        ("no signature", body, only_ts),
        ("no timestamp", body, only_sig),
        ("click, bad secret", interactive({"type": "block_actions", "user": {"id": ADMIN}, "response_url": url,
                                           "actions": [{"action_id": "btn:1:c1:0", "value": "del:1:1",
                                                        "type": "button", "action_ts": "1.2"}]}),
         sign(b"x", "nope", now)),
    ]


def test_forged_requests_are_refused_and_do_nothing(slack: Slack) -> None:
    bot, fake = slack.bot, slack.fake
    slack.command("groups", VIEWER)
    fake.reset()
    before = slack.store.request_count()
    for name, body, hdrs in _forged_requests(bot, fake):
        resp = requests.post(bot.url + "/slack/events", data=body, headers=hdrs, timeout=10)
        assert resp.status_code == 401, name
    marker = slack.settle()
    assert slack.store.request_count() == before
    assert fake.calls() == [] and [r for r in fake.responses() if r.id != marker] == []
    assert slack.customer(JANE) is not None


def test_routes_health_and_404(slack: Slack) -> None:
    assert slack.bot.get("/healthz").json() == {"ok": True, "store": "sandbox", "backend": "threedcart"}
    assert slack.bot.get("/").status_code == 404
    assert slack.bot.get("/slack/events").status_code == 404
    assert requests.post(slack.bot.url + "/elsewhere", data=b"x", timeout=5).status_code == 404


def test_build_app_also_serves_socket_mode(slack: Slack) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.slack.app import build_app

    app = build_app(slack.bot.runtime)
    try:
        handler = SocketModeHandler(app, "xapp-1-test")  # builds the client; connects only on start()
        assert handler.app is app
        assert app.client.base_url == slack.fake.api_url
        assert app.client.retry_handlers and len(app.client.retry_handlers) == 2
    finally:
        app.close()


def test_events_api_url_verification_and_retries(slack: Slack) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "x"}).encode()
    resp = slack.bot.post(body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 200 and resp.json() == {"challenge": "c-123"}

    event = json.dumps({"type": "event_callback", "event_id": "Ev1", "team_id": "T0TEST",
                        "event": {"type": "app_mention", "user": "U1", "text": "hi"}}).encode()
    resp = slack.bot.post(event, headers={"Content-Type": "application/json", "X-Slack-Retry-Num": "1",
                                          "X-Slack-Retry-Reason": "http_timeout"})
    assert resp.status_code == 200
    assert resp.headers.get("x-slack-no-retry") == "1"
    # A first delivery of an event the bot does not act on is still acknowledged (no retries).
    first = json.dumps({"type": "event_callback", "event_id": "Ev2", "team_id": "T0TEST",
                        "event": {"type": "app_home_opened", "user": "U1"}}).encode()
    assert slack.bot.post(first, headers={"Content-Type": "application/json"}).status_code == 200
    again = slack.bot.post(first, headers={"Content-Type": "application/json"})  # same event_id
    assert again.status_code == 200 and again.headers.get("x-slack-no-retry") == "1"


# ------------------------------------------------------------------------------ the fakes themselves, the poster


def test_fake_slack_behaves_like_slack(fake: FakeSlack) -> None:
    api = fake.api_url
    good = {"Authorization": "Bearer xoxb-test-0000-token"}
    blocks = [{"type": "section", "text": {"type": "plain_text", "text": "hi"}}]
    # form-encoded, blocks as a JSON string (how many clients send it)
    r = requests.post(api + "chat.postMessage", data={"channel": "C1", "text": "hi", "blocks": json.dumps(blocks)},
                      headers=good, timeout=5).json()
    assert r["ok"] and r["ts"]
    assert requests.post(api + "chat.update", json={"channel": "C1", "ts": r["ts"], "text": "x", "blocks": blocks},
                         headers=good, timeout=5).json()["ok"]
    assert requests.post(api + "chat.update", json={"channel": "C1", "ts": "1.2", "text": "x"},
                         headers=good, timeout=5).json()["error"] == "message_not_found"
    bad_blocks = [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]
    assert requests.post(api + "chat.postMessage", json={"channel": "C1", "text": "x", "blocks": bad_blocks},
                         headers=good, timeout=5).json()["error"] == "invalid_blocks"
    assert requests.post(api + "auth.test", headers={"Authorization": "Bearer xoxb-other"},
                         timeout=5).json()["error"] == "invalid_auth"
    assert requests.post(api + "auth.test", timeout=5).json()["error"] == "not_authed"
    fake.fail_next("chat.postMessage", "ratelimited", retry_after=2)
    limited = requests.post(api + "chat.postMessage", json={"channel": "C1", "text": "x"}, headers=good, timeout=5)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    url = fake.response_url()
    for n in range(5):
        assert requests.post(url, json={"text": f"post {n}"}, timeout=5).status_code == 200
    assert requests.post(url, json={"text": "sixth"}, timeout=5).status_code == 404  # 5 posts per URL
    assert requests.post(fake.response_url(), json={"text": ""}, timeout=5).status_code == 400


def test_poster_posts_updates_and_survives_slack_errors(fake: FakeSlack) -> None:
    from bot.reply import Card, Field, Reply
    from bot.slack.app import web_client
    from bot.slack.poster import SlackPoster

    from bot.config import Settings

    settings = Settings(_env_file=None, slack_bot_token="xoxb-test-0000-token", slack_api_url=fake.api_url)
    poster = SlackPoster(web_client(settings))
    reply = Reply(text="New applicant <!channel>", cards=(Card(title="Carol", fields=(Field("Email", "c@x.com"),)),))
    ts = poster.post("CAPPROVALS", reply)
    assert ts and fake.messages[("CAPPROVALS", ts)]["text"] == "New applicant &lt;!channel&gt;"
    assert poster.update("CAPPROVALS", ts, Reply(text="Approved", cards=(Card(title="Carol"),)))
    assert poster.update("CAPPROVALS", "9.9", reply) is False  # message_not_found: logged, not raised
    fake.fail_next("chat.postMessage", "channel_not_found")
    assert poster.post("CNOPE", "a line") is None
    fake.fail_next("chat.postMessage", "ratelimited", retry_after=1)
    assert poster.post("CAUDIT", "after a 429") is not None  # retried by the client's handler
    for payload in fake.sent():
        assert_valid_message(payload)


# ------------------------------------------------------------------------------ a store without Enabled / MailList


@pytest.mark.parametrize("bot", ["bigcommerce"], indirect=True)
def test_bigcommerce_cards_have_no_flags_and_flag_commands_change_nothing(slack: Slack) -> None:
    card = slack.command("jane@example.com", AGENT)
    assert [e["type"] for e in elements(card)] == ["static_select", "button"]  # move and History: no Enable / Subscribe
    assert "Account" not in all_text(card) and "Mailing list" not in all_text(card)
    slack.store.reset_counts()
    for command in ("disable", "enable", "subscribe", "unsubscribe"):
        answer = slack.command(f"{command} jane@example.com", AGENT)
        assert "BigCommerce has no" in all_text(answer) and "Nothing was changed" in all_text(answer)
    assert slack.store.request_count() == 0  # answered without asking the store

    moved = slack.click(card, AGENT, type="static_select", option_value="move:1:2")
    assert slack.group_of(JANE) == WHOLESALE and field(moved, "Group").startswith("Wholesale")
    undone = slack.click(moved, AGENT, label="Undo")
    assert slack.group_of(JANE) == VIP and "Undone" in all_text(undone)
    history = slack.command("history jane@example.com", AGENT)
    assert "moved from VIP to Wholesale" in all_text(history) and "undid a change" in all_text(history)
    admin_card = slack.command("jane@example.com", ADMIN)
    assert [e["type"] for e in elements(admin_card)] == ["static_select", "button", "button"]  # + History, Delete…
    assert slack.bot.get("/healthz").json() == {"ok": True, "store": "sandbox", "backend": "bigcommerce"}


# ---------------------------------------------------------------------- approvals (issue 10, issue 13 item 6)

def _approvals_bot(fake: FakeSlack, tmp_path: Any, **settings: Any) -> BotServer:
    return BotServer(fake, tmp_path, admins=ADMIN, agents=AGENT, approvals_channel="CAPPROVALS", **settings)


def _posted(fake: FakeSlack, email: str) -> str:
    return next(ts for (ch, ts), m in fake.messages.items() if ch == "CAPPROVALS" and email in all_text(m))


def _click_in_channel(bot: BotServer, fake: FakeSlack, ts: str, label: str, user: str) -> str:
    message = fake.messages[("CAPPROVALS", ts)]
    url = fake.response_url(channel="CAPPROVALS", user=user, source_ts=ts)
    body = block_actions(action_for(find_element(message, label=label)), user_id=user, response_url=url,
                         message=message, channel_id="CAPPROVALS", message_ts=ts, ephemeral=False)
    assert bot.post(body).status_code == 200
    return url


def test_applicant_posts_show_their_words_and_dismiss_updates_them_in_place(fake: FakeSlack, tmp_path: Any) -> None:
    with _approvals_bot(fake, tmp_path) as bot:
        bot.wsgi.app.poller.poll_once()
        ts = _posted(fake, "carol@example.com")
        text = all_text(fake.messages[("CAPPROVALS", ts)])
        assert "Wholesale application: 3 shops in Texas." in text and "found at first start" in text
        refused = fake.wait_response(_click_in_channel(bot, fake, ts, "Dismiss", AGENT))
        assert "Only admins" in all_text(refused.payload)
        _click_in_channel(bot, fake, ts, "Dismiss", ADMIN)
        fake.wait_for(lambda: "Dismissed by" in all_text(fake.messages[("CAPPROVALS", ts)]))
        assert bot.sandbox.customer(CAROL)["Enabled"] is False  # the store was not changed
        slack = Slack(bot, fake)
        assert "carol@example.com" not in all_text(slack.command("pending", ADMIN))

        # enabling a waiting applicant from her card is an approval: an agent is refused, an admin approves
        grace = _posted(fake, "grace@example.com")
        card = slack.command("grace@example.com", AGENT)
        assert "Only admins" in all_text(slack.click(card, AGENT, label="Enable"))
        assert bot.sandbox.customer(7)["Enabled"] is False
        approved = slack.click(slack.command("grace@example.com", ADMIN), ADMIN, label="Enable")
        assert "Approved by" in all_text(approved) and bot.sandbox.customer(7)["Enabled"] is True
        fake.wait_for(lambda: "Approved by" in all_text(fake.messages[("CAPPROVALS", grace)]))
    check_everything_sent(fake)


def test_bigcommerce_approvals_by_group_in_the_channel(fake: FakeSlack, tmp_path: Any) -> None:
    with _approvals_bot(fake, tmp_path, backend="bigcommerce", applicant_group="Wholesale applicants",
                        approved_group="Wholesale") as bot:
        bot.wsgi.app.poller.poll_once()
        ts = _posted(fake, "carol@example.com")
        assert "Wholesale application: 3 shops in Texas." in all_text(fake.messages[("CAPPROVALS", ts)])
        _posted(fake, "grace@example.com")
        _click_in_channel(bot, fake, ts, "Approve", ADMIN)
        fake.wait_for(lambda: "Approved by" in all_text(fake.messages[("CAPPROVALS", ts)]))
        assert Slack(bot, fake).group_of(CAROL) == WHOLESALE
        denied = Slack(bot, fake).command("deny grace@example.com", ADMIN)
        assert "Denied by" in all_text(denied) and Slack(bot, fake).group_of(7) == 0
    check_everything_sent(fake)


@pytest.mark.parametrize("bot", ["bigcommerce"], indirect=True)
def test_bigcommerce_without_applicant_group_pending_says_how_to_turn_approvals_on(slack: Slack) -> None:
    slack.store.reset_counts()
    answer = all_text(slack.command("pending", ADMIN))
    assert "APPLICANT_GROUP" in answer and "APPROVED_GROUP" in answer
    assert slack.store.request_count() == 0


def test_bigcommerce_moves_of_waiting_applicants_decide_and_update_their_posts(fake: FakeSlack, tmp_path: Any) -> None:
    """Reproducer (fix-appr 2, over the BigCommerce sandbox): an agent's move to APPROVED_GROUP was
    a plain move, and a move elsewhere left the post with live buttons and her in ``pending``."""
    with _approvals_bot(fake, tmp_path, backend="bigcommerce", applicant_group="Wholesale applicants",
                        approved_group="Wholesale") as bot:
        bot.wsgi.app.poller.poll_once()
        carol, grace = _posted(fake, "carol@example.com"), _posted(fake, "grace@example.com")
        slack = Slack(bot, fake)
        refused = slack.command("move carol@example.com to Wholesale", AGENT)
        assert "Only admins" in all_text(refused) and slack.group_of(CAROL) != WHOLESALE
        approved = slack.command("move carol@example.com to Wholesale", ADMIN)
        assert "Approved by" in all_text(approved) and slack.group_of(CAROL) == WHOLESALE
        fake.wait_for(lambda: "Approved by" in all_text(fake.messages[("CAPPROVALS", carol)]))
        moved = slack.command("move grace@example.com to Staff", AGENT)
        assert "application left the queue (moved out of the group by" in all_text(moved)
        fake.wait_for(lambda: "no longer waiting for approval" in all_text(fake.messages[("CAPPROVALS", grace)]))
        for ts in (carol, grace):
            message = fake.messages[("CAPPROVALS", ts)]
            assert not [e for b in message["blocks"] for e in b.get("elements", []) if e.get("type") == "button"]
            assert message["text"].startswith("🧪 Demo store")  # the demo notice in the notification text too
        assert "carol@example.com" not in all_text(slack.command("pending", ADMIN))
        assert "grace@example.com" not in all_text(slack.command("pending", ADMIN))
    check_everything_sent(fake)
