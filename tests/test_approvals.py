"""Wholesale approvals: who is pending, posted once (across pollers and restarts), decided in place."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.approvals import ApplicationBook, Poller, PostedMessage
from bot.audit import AuditLog
from bot.db import Database
from bot.desk import Desk
from bot.guard import Actor, Guard
from bot.intents import Approve, Pending
from bot.reply import Reply

try:
    from fake_slack import FakeSlack
    from slack_helpers import (
        BotServer, Slack, action_for, all_text, assert_valid_message, block_actions, find_element, slash_command,
    )
except ImportError:  # pragma: no cover
    from tests.fake_slack import FakeSlack
    from tests.slack_helpers import (
        BotServer, Slack, action_for, all_text, assert_valid_message, block_actions, find_element, slash_command,
    )

CAROL, GRACE = 3, 7


class Channel:
    """Stands in for Slack's chat.postMessage: records what would be posted."""

    def __init__(self, fail: int = 0) -> None:
        self.posted: list[Reply] = []
        self.fail = fail
        self._lock = threading.Lock()

    def __call__(self, reply: Reply) -> PostedMessage | None:
        with self._lock:
            if self.fail:
                self.fail -= 1
                return None
            self.posted.append(reply)
            return PostedMessage("CAPPROVALS", f"1700000000.{len(self.posted):06d}")

    def emails(self) -> list[str]:
        return sorted(f.value for r in self.posted for c in r.cards for f in c.fields if f.label == "Email")


def make_poller(service: Any, data_dir: Any, channel: Channel) -> Poller:
    db = Database(data_dir)
    desk = Desk(service, Guard({"UADMIN"}, set()), AuditLog(db))
    return Poller(desk, ApplicationBook(db), channel)


def test_first_poll_posts_exactly_the_pending_applicants(service, tmp_path):
    channel = Channel()
    result = make_poller(service, tmp_path, channel).poll_once()
    assert channel.emails() == ["carol@example.com", "grace@example.com"]  # not Erin: auto-approve group
    assert [b.label for b in channel.posted[0].cards[0].actions] == ["Approve", "Deny"]
    assert channel.posted[0].public and len(result.posted) == 2


def test_each_applicant_is_posted_once_across_polls_restarts_and_processes(service, sandbox, tmp_path):
    channel = Channel()
    make_poller(service, tmp_path, channel).poll_once()
    make_poller(service, tmp_path, channel).poll_once()  # a restart: new connections, same DATA_DIR
    new = sandbox.add_customer(Email="ivy@example.com", BillingFirstName="Ivy", CustomerGroupID=2, Enabled=False)
    pollers = [make_poller(service, tmp_path, channel) for _ in range(4)]
    barrier = threading.Barrier(len(pollers))

    def run(p: Poller) -> None:
        barrier.wait()
        p.poll_once()

    threads = [threading.Thread(target=run, args=(p,)) for p in pollers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert channel.emails() == ["carol@example.com", "grace@example.com", "ivy@example.com"]
    assert ApplicationBook(Database(tmp_path)).open_for(new) is not None


def test_later_polls_ask_the_store_only_for_recent_changes(service, sandbox, tmp_path):
    poller = make_poller(service, tmp_path, Channel())
    poller.poll_once()
    sandbox.reset_counts()
    poller.poll_once()
    assert sandbox.request_count() == 1
    assert "lastupdatestart" in sandbox.requests[0].query


def test_a_failed_post_is_tried_again_on_the_next_poll(service, tmp_path):
    channel = Channel(fail=2)
    poller = make_poller(service, tmp_path, channel)
    assert len(poller.poll_once().failed) == 2 and channel.posted == []
    poller.poll_once()
    assert channel.emails() == ["carol@example.com", "grace@example.com"]


def test_a_decided_applicant_who_applies_again_is_posted_again(service, sandbox, tmp_path):
    channel = Channel()
    poller = make_poller(service, tmp_path, channel)
    poller.poll_once()
    poller.desk.handle(Approve(CAROL), Actor("UADMIN"))
    assert CAROL in poller.poll_once().closed
    service.set_flags(CAROL, enabled=False)  # disabled again in the store: a new application
    poller.poll_once()
    assert channel.emails().count("carol@example.com") == 2


# ------------------------------------------------------------------ in the approvals channel


@pytest.fixture
def approvals_bot(tmp_path) -> Iterator[tuple[BotServer, FakeSlack]]:
    with FakeSlack() as fake, BotServer(fake, tmp_path, admins="UADMIN", agents="UAGENT",
                                        approvals_channel="CAPPROVALS", audit_channel="CAUDIT") as bot:
        yield bot, fake
        for payload in fake.sent():
            assert_valid_message(payload)


def post_applicants(bot: BotServer) -> None:
    poller = bot.wsgi.app.poller  # the web process's own poller (RUN_POLLER runs it in a thread)
    assert poller is not None
    poller.poll_once()


def channel_messages(fake: FakeSlack, channel: str) -> dict[str, dict]:
    return {ts: msg for (ch, ts), msg in fake.messages.items() if ch == channel}


def click_in_channel(bot: BotServer, fake: FakeSlack, ts: str, label: str, user: str) -> str:
    message = fake.messages[("CAPPROVALS", ts)]
    url = fake.response_url(channel="CAPPROVALS", user=user, source_ts=ts)
    body = block_actions(action_for(find_element(message, label=label)), user_id=user, response_url=url,
                         message=message, channel_id="CAPPROVALS", message_ts=ts, ephemeral=False)
    assert bot.post(body).status_code == 200
    return url


def test_approve_in_the_channel_updates_the_message_in_place(approvals_bot):
    bot, fake = approvals_bot
    post_applicants(bot)
    posted = channel_messages(fake, "CAPPROVALS")
    assert len(posted) == 2
    ts = next(ts for ts, m in posted.items() if "carol@example.com" in all_text(m))

    # an agent is refused, privately, and nothing changes
    url = click_in_channel(bot, fake, ts, "Approve", "UAGENT")
    refusal = fake.wait_response(url)
    assert "Only admins" in all_text(refusal.payload) and refusal.payload.get("response_type") == "ephemeral"
    assert bot.sandbox.customer(CAROL)["Enabled"] is False

    click_in_channel(bot, fake, ts, "Approve", "UADMIN")
    fake.wait_for(lambda: "Approved by" in all_text(fake.messages[("CAPPROVALS", ts)]))
    message = fake.messages[("CAPPROVALS", ts)]
    assert "@uadmin" in all_text(message)
    assert not [e for b in message["blocks"] for e in b.get("elements", []) if e.get("type") == "button"]
    assert bot.sandbox.customer(CAROL)["Enabled"] is True
    # positive control: the decision listener queues channel updates on the one-thread notify
    # pool before the click is answered; a marker job run after them proves none is pending
    assert bot.wsgi.app.notify_pool.submit(lambda: "ran").result(timeout=10) == "ran"
    assert [c.params["ts"] for c in fake.calls("chat.update")] == [ts]  # updated once, in place

    # a second click on a stale copy (the original message, buttons and all): no second write
    bot.sandbox.reset_counts()
    stale = posted[ts]
    url = fake.response_url(channel="CAPPROVALS", user="UADMIN", source_ts=ts)
    body = block_actions(action_for(find_element(stale, label="Approve")), user_id="UADMIN", response_url=url,
                         message=stale, channel_id="CAPPROVALS", message_ts=ts, ephemeral=False)
    assert bot.post(body).status_code == 200
    fake.wait_for(lambda: "already approved by @uadmin" in all_text(fake.messages[("CAPPROVALS", ts)]))
    assert bot.sandbox.request_count(method="PUT") == 0
    audit_lines = [c.params.get("text", "") for c in fake.calls("chat.postMessage") if c.params.get("channel") == "CAUDIT"]
    assert any("approved carol@example.com" in line for line in audit_lines)


def test_a_decision_by_command_updates_the_channel_message(approvals_bot):
    bot, fake = approvals_bot
    post_applicants(bot)
    ts = next(ts for ts, m in channel_messages(fake, "CAPPROVALS").items() if "grace@example.com" in all_text(m))
    url = fake.response_url(user="UADMIN")
    assert bot.post(slash_command("deny grace@example.com", user_id="UADMIN", response_url=url)).status_code == 200
    answer = fake.wait_response(url)
    assert answer.payload["response_type"] == "ephemeral"  # the card shows personal data
    fake.wait_for(lambda: "Denied by" in all_text(fake.messages[("CAPPROVALS", ts)]))
    record = bot.sandbox.customer(GRACE)
    assert record["CustomerGroupID"] == 0 and record["Enabled"] is True


def test_rate_limited_channel_updates_do_not_hold_up_commands(approvals_bot):
    bot, fake = approvals_bot
    bot.sandbox.add_customers(20, group_id=2, enabled=False)  # more applicants than desk threads
    post_applicants(bot)
    fake.fail_next("chat.update", "ratelimited", times=100, retry_after=2)
    slack = Slack(bot, fake)
    pending = slack.command("pending", "UADMIN")
    approved = slack.click(pending, "UADMIN", label="Approve all 22")
    assert "Approved 22 applicants" in all_text(approved)
    # the channel updates now wait out Retry-After on their own thread; a lookup does not wait
    card = slack.command("jane@example.com", "UAGENT")
    assert "Jane Doe" in all_text(card)
    assert len(fake.calls("chat.update")) < 3  # still in the first Retry-After window


def test_applicants_show_since_when_they_wait_and_it_does_not_move(service, tmp_path):
    db = Database(tmp_path)
    desk = Desk(service, Guard({"UADMIN"}, set()), AuditLog(db), first_seen=ApplicationBook(db).first_seen)

    def waiting_since(reply: Reply) -> dict[str, str]:
        return {c.title: f.value for c in reply.cards for f in c.fields if f.label == "Waiting since"}

    first = waiting_since(desk.handle(Pending(), Actor("UADMIN")))
    assert set(first) == {"Carol Reyes", "Grace Lin"} and all("first seen by the bot" in v for v in first.values())
    time.sleep(1.1)
    assert waiting_since(desk.handle(Pending(), Actor("UADMIN"))) == first
    assert waiting_since(desk.applicant_reply(service.get(CAROL)))["Carol Reyes"] == first["Carol Reyes"]


def test_a_forged_look_click_on_the_channel_post_never_replaces_it(approvals_bot):
    """Reproducer (issue 11, item 5): a viewer's forged ``look:1`` click on Carol's applicant post
    replaced it with Jane's card (email, phone, credit) for the whole channel."""
    bot, fake = approvals_bot
    post_applicants(bot)
    posted = channel_messages(fake, "CAPPROVALS")
    ts = next(ts for ts, m in posted.items() if "carol@example.com" in all_text(m))
    before = fake.messages[("CAPPROVALS", ts)]
    element = find_element(before, label="Approve")
    forged = {**action_for(element), "value": "look:1"}
    url = fake.response_url(channel="CAPPROVALS", user="UVIEWER", source_ts=ts)
    body = block_actions(forged, user_id="UVIEWER", response_url=url, message=before,
                         channel_id="CAPPROVALS", message_ts=ts, ephemeral=False)
    assert bot.post(body).status_code == 200
    answer = fake.wait_response(url)  # positive control: the click was served...
    assert "Jane" in all_text(answer.payload) and answer.payload.get("response_type") == "ephemeral"
    assert not answer.payload.get("replace_original")
    # ...and the channel post is untouched: no chat.update, no replace through response_url
    assert fake.calls("chat.update") == []
    assert fake.messages[("CAPPROVALS", ts)] == before
    assert "jane@example.com" not in all_text(fake.messages[("CAPPROVALS", ts)])
