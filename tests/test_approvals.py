"""Wholesale approvals: who is an applicant (the ledger), posted once, decided in place, on every path."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot import intents as i
from bot.approvals import Poller, PostedMessage
from bot.audit import AuditLog
from bot.db import Database
from bot.desk import Desk
from bot.guard import Actor, Guard
from bot.applicants import CURSOR
from bot.intents import Approve, Pending
from bot.reply import Reply
from bot.state.applications import Application, Ledger

try:
    from test_desk import edit_in_store as _edit
except ImportError:  # pragma: no cover
    from tests.test_desk import edit_in_store as _edit

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

JANE, BOB, CAROL, GRACE = 1, 2, 3, 7
ADMIN, AGENT = Actor("UADMIN", "alice"), Actor("UAGENT", "bob")


class Channel:
    """Stands in for Slack's chat.postMessage / chat.update: records what would be posted."""

    def __init__(self, fail: int = 0) -> None:
        self.posted: list[Reply] = []
        self.updated: list[tuple[str, Reply]] = []
        self.fail = fail
        self._lock = threading.Lock()

    def __call__(self, reply: Reply) -> PostedMessage | None:
        with self._lock:
            if self.fail:
                self.fail -= 1
                return None
            self.posted.append(reply)
            return PostedMessage("CAPPROVALS", f"1700000000.{len(self.posted):06d}")

    def update(self, application: Application, reply: Reply) -> None:
        with self._lock:
            self.updated.append((application.ts, reply))

    def emails(self) -> list[str]:
        return sorted(f.value for r in self.posted for c in r.cards for f in c.fields if f.label == "Email")


def make_poller(service: Any, data_dir: Any, channel: Channel) -> Poller:
    db = Database(data_dir)
    desk = Desk(service, Guard({"UADMIN"}, {"UAGENT"}), AuditLog(db))
    return Poller(desk, channel, update=channel.update)


def fields_of(reply: Reply, title: str) -> dict[str, str]:
    return {f.label: f.value for c in reply.cards if c.title == title for f in c.fields}


def pending_emails(desk: Desk) -> list[str]:
    reply = desk.handle(Pending(), ADMIN)
    return sorted(f.value for c in reply.cards for f in c.fields if f.label == "Email")


def test_first_poll_posts_exactly_the_waiting_applicants_found_at_first_start(service, tmp_path):
    channel = Channel()
    result = make_poller(service, tmp_path, channel).poll_once()
    assert channel.emails() == ["carol@example.com", "grace@example.com"]  # not Erin: auto-approve group
    assert [b.label for b in channel.posted[0].cards[0].actions] == ["Approve", "Deny", "Dismiss"]
    assert channel.posted[0].public and len(result.posted) == 2
    carol = next(r for r in channel.posted if "Carol" in r.text)
    assert "found waiting when the bot first looked" in carol.text
    fields = fields_of(carol, "Carol Reyes")
    assert fields["Applied"].endswith("(first seen by the bot) · found at first start")
    assert fields["Store notes"] == "Wholesale application: 3 shops in Texas."  # the applicant's own words


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
    ivy = Ledger(Database(tmp_path)).waiting_for(new)
    assert ivy is not None and ivy.origin == "poll" and ivy.ts  # arrived after the first start, posted


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


def test_an_account_disabled_through_the_bot_or_seen_enabled_is_never_an_applicant(service, sandbox, tmp_path):
    channel = Channel()
    poller = make_poller(service, tmp_path, channel)
    poller.poll_once()  # first start: Bob is seen enabled in Wholesale, Frank in Distributors
    desk = poller.desk
    assert "now disabled" in desk.handle(i.parse("disable bob@example.com"), AGENT).text  # e.g. for fraud
    _edit(sandbox, 6, Enabled=False)  # Frank, seen enabled at first start, disabled in the store admin
    desk.handle(i.Lookup("jane@example.com"), AGENT)  # seen enabled on a lookup ...
    desk.handle(i.parse("move jane@example.com to Wholesale"), AGENT)
    _edit(sandbox, JANE, Enabled=False)  # ... then disabled in Wholesale in the store admin
    ivy = sandbox.add_customer(Email="ivy@example.com", BillingFirstName="Ivy", CustomerGroupID=2, Enabled=False)
    poller.poll_once()
    assert channel.emails() == ["carol@example.com", "grace@example.com", "ivy@example.com"]  # Ivy: positive control
    assert pending_emails(desk) == ["carol@example.com", "grace@example.com", "ivy@example.com"]
    assert "bob@example.com is not a wholesale applicant" in desk.handle(Approve(BOB), ADMIN).text
    assert sandbox.customer(BOB)["Enabled"] is False
    assert ivy


def test_a_decided_applicant_disabled_again_is_not_a_new_application(service, sandbox, tmp_path):
    channel = Channel()
    poller = make_poller(service, tmp_path, channel)
    poller.poll_once()
    poller.desk.handle(Approve(CAROL), ADMIN)
    service.set_flags(CAROL, enabled=False)  # disabled again in the store: a blocked account, not an application
    sandbox.add_customer(Email="ivy@example.com", BillingFirstName="Ivy", CustomerGroupID=2, Enabled=False)
    poller.poll_once()
    assert channel.emails() == ["carol@example.com", "grace@example.com", "ivy@example.com"]
    again = poller.desk.handle(Approve(CAROL), ADMIN)
    assert "already approved by @alice at" in again.text and sandbox.customer(CAROL)["Enabled"] is False


def test_an_application_withdrawn_in_the_store_leaves_the_queue_and_its_message_says_so(service, sandbox, tmp_path):
    channel = Channel()
    poller = make_poller(service, tmp_path, channel)
    poller.poll_once()
    _edit(sandbox, GRACE, Enabled=True)  # approved by hand in the store admin
    result = poller.poll_once()
    assert [a.customer_id for a in result.closed] == [GRACE]
    assert [ts for ts, _ in channel.updated] == [result.closed[0].ts]
    assert "no longer waiting for approval (enabled in the store)" in channel.updated[0][1].text
    assert not channel.updated[0][1].cards[0].actions  # no stale Approve button
    assert pending_emails(poller.desk) == ["carol@example.com"]


def test_dismiss_takes_an_application_out_of_the_queue_without_touching_the_store(service, sandbox, tmp_path):
    channel = Channel()
    poller = make_poller(service, tmp_path, channel)
    poller.poll_once()
    desk = poller.desk
    assert "Only admins" in desk.handle(i.Dismiss(CAROL), AGENT).text
    sandbox.reset_counts()
    reply = desk.handle(i.parse("dismiss carol@example.com"), ADMIN)
    assert "Dismissed by @alice" in reply.text and "not changed" in reply.text
    assert sandbox.request_count(method="PUT") == 0 and sandbox.customer(CAROL)["Enabled"] is False
    assert pending_emails(desk) == ["grace@example.com"]
    poller.poll_once()
    assert channel.emails() == ["carol@example.com", "grace@example.com"]  # not posted again
    entry = desk.audit.history(customer_id=CAROL)[0]
    assert (entry.action, entry.outcome, entry.who) == ("dismiss", "done", "@alice")
    assert "already dismissed by @alice" in desk.handle(Approve(CAROL), ADMIN).text


def test_enabling_a_waiting_applicant_is_an_approval_by_command_button_or_undo(service, sandbox, tmp_path):
    channel = Channel()
    poller = make_poller(service, tmp_path, channel)
    poller.poll_once()
    desk = poller.desk
    told: list[tuple[int, str]] = []
    desk.on_decision(lambda c, r: told.append((c.id, r.text)))

    refused = desk.handle(i.parse("enable carol@example.com"), AGENT)
    assert "Only admins" in refused.text and sandbox.customer(CAROL)["Enabled"] is False
    card = desk.handle(i.Lookup(GRACE), AGENT)
    enable = next(b for c in card.cards for b in c.actions if getattr(b, "label", "") == "Enable")
    assert "Only admins" in desk.handle(enable.intent, AGENT).text  # the card's button, same rule

    approved = desk.handle(i.parse("enable carol@example.com"), ADMIN)
    assert "Approved by @alice" in approved.text and sandbox.customer(CAROL)["Enabled"] is True
    assert told == [(CAROL, told[0][1])] and "Approved by @alice" in told[0][1]
    assert desk.ledger.latest_for(CAROL).state == "approved"

    # an Undo that would enable a waiting applicant (a disable recorded before the ledger existed)
    old = desk.audit.record(user_id="UAGENT", user_name="bob", action="disable", outcome="done", customer_id=GRACE,
                            email="grace@example.com", before={"enabled": True}, after={"enabled": False})
    assert "Only admins" in desk.handle(i.Undo(old), AGENT).text and sandbox.customer(GRACE)["Enabled"] is False
    undone = desk.handle(i.Undo(old), ADMIN)
    assert "Approved by @alice (by Undo)" in undone.text and sandbox.customer(GRACE)["Enabled"] is True
    assert desk.ledger.latest_for(GRACE).state == "approved" and len(told) == 2
    assert pending_emails(desk) == []


def test_moving_an_enabled_customer_into_a_group_needing_approval_says_so(service, sandbox, tmp_path):
    desk = make_poller(service, tmp_path, Channel()).desk
    reply = desk.handle(i.parse("move jane@example.com to Wholesale"), AGENT)  # an agent's move
    assert "Moved Jane Doe" in reply.text and "Wholesale needs approval" in reply.text
    assert sandbox.customer(JANE)["CustomerGroupID"] == 2 and sandbox.customer(JANE)["Enabled"] is True
    plain = desk.handle(i.parse("move jane@example.com to Staff"), AGENT)
    assert "needs approval" not in plain.text  # positive control: an auto-approve group
    assert pending_emails(desk) == ["carol@example.com", "grace@example.com"]


def test_clear_answers_for_never_applied_unknown_and_decided_elsewhere(service, sandbox, tmp_path):
    desk = make_poller(service, tmp_path, Channel()).desk
    assert desk.handle(i.parse("approve bob@example.com"), ADMIN).text == \
        "bob@example.com is not a wholesale applicant. Nothing changed."
    unknown = desk.handle(i.parse("deny nobody@example.com"), ADMIN).text
    assert unknown.startswith("No customer with the address nobody@example.com")
    other = Desk(service, Guard({"UOTHER"}, set()), desk.audit, ledger=desk.ledger)  # another process
    other.handle(Approve(GRACE), Actor("UOTHER", "olga"))
    late = desk.handle(i.parse("approve grace@example.com"), ADMIN).text
    assert late.startswith("Grace Lin's application was already approved by @olga at ") and "UTC" in late
    assert sandbox.request_count(method="PUT") == 1


def test_approve_all_never_enables_an_account_that_is_not_a_waiting_application(service, sandbox, tmp_path):
    desk = make_poller(service, tmp_path, Channel()).desk
    desk.handle(i.parse("disable bob@example.com"), AGENT)
    reply = desk.handle(i.ApproveAll((BOB, CAROL, GRACE, 5)), ADMIN)  # a forged or stale button
    assert "Approved 2 applicants" in reply.text and "2 applicants were no longer pending" in " ".join(
        n.text for n in reply.notices)
    assert sandbox.customer(BOB)["Enabled"] is False and sandbox.customer(5)["Enabled"] is False
    assert sandbox.customer(CAROL)["Enabled"] is True and sandbox.customer(GRACE)["Enabled"] is True


def test_pending_costs_one_store_request_whatever_the_group_size(service, sandbox, tmp_path):
    old = datetime.now() - timedelta(days=30)
    for cid in sandbox.add_customers(1200, group_id=2, enabled=True):
        sandbox.touch(cid, old)  # a big Wholesale group, quiet lately
    now = [datetime.now().astimezone()]
    desk = Desk(service, Guard({"UADMIN"}, set()), AuditLog(Database(tmp_path)), clock=lambda: now[0])
    desk.handle(Pending(), ADMIN)  # first start: reads the groups once
    sandbox.reset_counts()
    assert "2 wholesale applicants waiting" in desk.handle(Pending(), ADMIN).text
    assert sandbox.request_count() == 0  # the ledger was refreshed within the cache TTL
    now[0] += timedelta(seconds=service.ttl + 1)
    reply = desk.handle(Pending(), ADMIN)
    assert "2 wholesale applicants waiting" in reply.text
    assert sandbox.request_count() == 1 and "lastupdatestart" in sandbox.requests[0].query
    sandbox.reset_counts()
    approved = desk.handle(next(b for c in reply.cards for b in c.actions if b.label == "Approve all 2").intent, ADMIN)
    assert "Approved 2 applicants" in approved.text
    assert sandbox.request_count() <= 3 and sandbox.request_count(method="PUT") == 1


def clocked_poller(service: Any, data_dir: Any, channel: Channel) -> tuple[Poller, list[datetime]]:
    """A poller whose desk runs on a clock the test moves (``now[0]``)."""
    now = [datetime.now().astimezone()]
    desk = Desk(service, Guard({"UADMIN"}, set()), AuditLog(Database(data_dir)), clock=lambda: now[0])
    return Poller(desk, channel, update=channel.update), now


def test_pending_with_a_refresh_due_reads_one_page_and_leaves_the_cursor_to_the_poller(service, sandbox, tmp_path):
    channel = Channel()
    poller, now = clocked_poller(service, tmp_path, channel)
    poller.poll_once()  # first start: Carol and Grace; the poller's cursor is set
    cursor = poller.desk.ledger.get_state(CURSOR)
    new = sandbox.add_customers(120, group_id=2, enabled=False)  # more changes than a short page proves
    now[0] += timedelta(seconds=service.ttl + 1)  # a refresh is due
    sandbox.reset_counts()
    reply = poller.desk.handle(Pending(), ADMIN)
    assert sandbox.request_count() == 1  # one page, not the scan that confirms its end
    (asked,) = sandbox.requests
    assert "lastupdatestart" in asked.query and asked.query["limit"] == "300" and "offset" not in asked.query
    assert reply.text == "122 wholesale applicants waiting for approval"
    assert {a.customer_id for a in poller.desk.ledger.waiting()} == {CAROL, GRACE, *new}
    assert poller.desk.ledger.get_state(CURSOR) == cursor  # the quick page never moves the cursor

    sandbox.reset_counts()
    assert poller.desk.handle(Pending(), ADMIN).text == reply.text
    assert sandbox.request_count() == 0  # its own stamp: within the cache TTL

    # positive control: the poller's refresh still reads every change to the end and moves the cursor
    poller.poll_once()
    assert sandbox.request_count() >= 2 and "offset" in sandbox.requests[-1].query
    assert all("lastupdatestart" in r.query for r in sandbox.requests)
    assert poller.desk.ledger.get_state(CURSOR) == now[0].isoformat() != cursor
    poller.poll_once(), poller.poll_once()  # posts go out 50 a poll
    emails = channel.emails()
    assert len(emails) == len(set(emails)) == 122  # each posted once: the page's applicants and the first two


def test_what_the_quick_page_misses_the_next_full_refresh_finds(service, sandbox, tmp_path):
    channel = Channel()
    poller, now = clocked_poller(service, tmp_path, channel)
    poller.poll_once()
    sandbox.add_customers(310, group_id=0, enabled=True)  # a busy day: more changes than one page
    late = sandbox.add_customer(Email="ivy@example.com", BillingFirstName="Ivy", CustomerGroupID=2, Enabled=False)
    now[0] += timedelta(seconds=service.ttl + 1)
    sandbox.reset_counts()
    assert pending_emails(poller.desk) == ["carol@example.com", "grace@example.com"]  # Ivy is past the page
    assert sandbox.request_count() == 1
    poller.poll_once()  # the full refresh reads from the cursor, which the quick page left alone
    assert poller.desk.ledger.waiting_for(late) is not None and "ivy@example.com" in channel.emails()
    now[0] += timedelta(seconds=service.ttl + 1)
    assert pending_emails(poller.desk) == ["carol@example.com", "grace@example.com", "ivy@example.com"]


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
    desk = Desk(service, Guard({"UADMIN"}, set()), AuditLog(Database(tmp_path)))

    def applied(reply: Reply) -> dict[str, str]:
        return {c.title: f.value for c in reply.cards for f in c.fields if f.label == "Applied"}

    first = applied(desk.handle(Pending(), ADMIN))
    assert set(first) == {"Carol Reyes", "Grace Lin"} and all("first seen by the bot" in v for v in first.values())
    time.sleep(1.1)
    assert applied(desk.handle(Pending(), ADMIN)) == first
    assert applied(desk.applicant_reply(desk.ledger.waiting_for(CAROL)))["Carol Reyes"] == first["Carol Reyes"]

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



def test_store_notes_are_clipped_and_shown_literally(service, sandbox, tmp_path):
    sandbox.add_customer(Email="zed@example.com", BillingFirstName="Zed", CustomerGroupID=2, Enabled=False,
                         Comments="<!channel> *Wholesale* please " + "x" * 400)
    desk = Desk(service, Guard({"UADMIN"}, set()), AuditLog(Database(tmp_path)))
    notes = fields_of(desk.handle(Pending(), ADMIN), "Zed")["Store notes"]
    assert notes.startswith("<!channel> *Wholesale* please xxx") and len(notes) == 300 and notes.endswith("…")


# ------------------------------------------------------------------ approvals by group (APPLICANT_GROUP)

try:
    from fake_backend import BIGCOMMERCE_LIKE, FakeBackend
except ImportError:  # pragma: no cover
    from tests.fake_backend import BIGCOMMERCE_LIKE, FakeBackend

from bot.store.models import CustomerChange  # noqa: E402
from bot.store.service import CustomerService  # noqa: E402


def test_by_group_on_a_store_with_enabled_approve_moves_and_enables(service, sandbox, tmp_path):
    desk = Desk(service, Guard({"UADMIN"}, {"UAGENT"}), AuditLog(Database(tmp_path)),
                applicant_group="Distributors", approved_group="1")  # a name and an id
    assert pending_emails(desk) == ["frank@example.com", "grace@example.com"]  # every member, enabled or not
    approved = desk.handle(Approve(GRACE), ADMIN)
    assert "Approved by @alice" in approved.text and "VIP" in approved.text
    record = sandbox.customer(GRACE)
    assert record["CustomerGroupID"] == 1 and record["Enabled"] is True
    denied = desk.handle(i.Deny(6), ADMIN)
    assert "Denied by @alice" in denied.text and sandbox.customer(6)["CustomerGroupID"] == 0
    assert "carol@example.com is not a wholesale applicant" in desk.handle(Approve(CAROL), ADMIN).text
    assert sandbox.customer(CAROL)["Enabled"] is False  # the Enabled rule is off while APPLICANT_GROUP is set


def test_by_group_on_a_store_without_enabled(tmp_path):
    backend = FakeBackend(capabilities=BIGCOMMERCE_LIKE)
    off = Desk(CustomerService(backend), Guard({"UADMIN"}, set()), AuditLog(Database(tmp_path / "off")))
    answer = off.handle(Pending(), ADMIN).text
    assert "no Enabled setting" in answer and "APPLICANT_GROUP" in answer and "APPROVED_GROUP" in answer
    assert backend.calls["all_customers"] == 0 and backend.calls["all_group_members"] == 0
    assert "APPLICANT_GROUP" in off.handle(Approve(CAROL), ADMIN).text

    desk = Desk(CustomerService(backend), Guard({"UADMIN"}, set()), AuditLog(Database(tmp_path / "on")),
                applicant_group="Wholesale", approved_group="VIP")
    reply = desk.handle(Pending(), ADMIN)
    assert pending_emails(desk) == ["bob@example.com", "carol@example.com"]
    assert "Account" not in {f.label for c in reply.cards for f in c.fields}  # no Enabled on this store
    backend.calls.clear()
    desk.feed.refresh()  # what the poller (and Approve all) do: the changes since the last look
    assert sum(backend.calls.values()) == 1
    assert "Approved by @alice" in desk.handle(Approve(CAROL), ADMIN).text
    assert backend.customers[CAROL].group_id == 1
    assert "Denied by @alice" in desk.handle(i.Deny(BOB), ADMIN).text and backend.customers[BOB].group_id == 0
    assert pending_emails(desk) == []
    groups = desk.handle(i.ListGroups(), ADMIN).cards[0].lines
    assert any(line.startswith("Wholesale (#2)") and "applicants (APPLICANT_GROUP)" in line for line in groups)
    assert any(line.startswith("VIP (#1)") and "APPROVED_GROUP" in line for line in groups)


def test_approve_all_by_group_on_a_store_without_bulk_update(tmp_path):
    backend = FakeBackend(capabilities=BIGCOMMERCE_LIKE)
    backend.add_customers(5, group_id=2)
    desk = Desk(CustomerService(backend), Guard({"UADMIN"}, set()), AuditLog(Database(tmp_path)),
                applicant_group="Wholesale", approved_group="VIP")
    reply = desk.handle(Pending(), ADMIN)
    button = next(b for c in reply.cards for b in c.actions if b.label == "Approve all 7")
    backend.calls.clear()
    approved = desk.handle(button.intent, ADMIN)
    assert "Approved 7 applicants" in approved.text
    assert {c.group_id for c in backend.customers.values() if c.email.startswith("bulk")} == {1}
    # a fresh read of what changed, then the batch: one PUT per customer inside update_customers
    assert dict(backend.calls) == {"all_customers": 1, "update_customers": 1}


def test_pending_by_group_with_a_refresh_due_reads_one_page(tmp_path):
    backend = FakeBackend(capabilities=BIGCOMMERCE_LIKE)
    now = [datetime.now().astimezone()]
    desk = Desk(CustomerService(backend), Guard({"UADMIN"}, set()), AuditLog(Database(tmp_path)),
                applicant_group="Wholesale", approved_group="VIP", clock=lambda: now[0])
    desk.feed.refresh()  # first start, as the poller would
    new = backend.add_customers(3, group_id=2)
    for cid in new:  # signed up just now
        backend.customers[cid] = replace(backend.customers[cid], last_update=now[0])
    now[0] += timedelta(seconds=desk.service.ttl + 1)
    backend.calls.clear()
    assert pending_emails(desk) == sorted(["bob@example.com", "carol@example.com", *(f"bulk{c}@example.com" for c in new)])
    assert dict(backend.calls) == {"find_customers": 1}  # one page, not the scan
    backend.calls.clear()
    desk.feed.refresh()  # positive control: the poller's refresh is the full scan
    assert dict(backend.calls) == {"all_customers": 1}


# ------------------------------------------------------------------ applicants the bot has not recorded yet


def test_enable_and_dismiss_in_a_fresh_desk_see_the_applicant(service, sandbox, tmp_path):
    """Reproducer (fix-appr 1): ``enable`` and ``dismiss`` consulted only the ledger, which a fresh
    desk (no poll yet) has empty: an agent's enable approved Carol with no admin and no record."""
    desk = Desk(service, Guard({"UADMIN"}, {"UAGENT"}), AuditLog(Database(tmp_path)))
    assert not desk.feed.has_history()
    refused = desk.handle(i.parse("enable carol@example.com"), AGENT)
    assert "Only admins" in refused.text and sandbox.customer(CAROL)["Enabled"] is False
    assert desk.feed.has_history()  # the first-start refresh ran
    assert desk.ledger.waiting_for(CAROL).origin == "first start"
    approved = desk.handle(i.parse("enable carol@example.com"), ADMIN)
    assert "Approved by @alice" in approved.text and desk.ledger.latest_for(CAROL).state == "approved"

    other = Desk(service, Guard({"UADMIN"}, set()), AuditLog(Database(tmp_path / "other")))
    dismissed = other.handle(i.parse("dismiss grace@example.com"), ADMIN)
    assert "Dismissed by @alice" in dismissed.text and sandbox.customer(GRACE)["Enabled"] is False
    assert other.ledger.latest_for(GRACE).state == "dismissed"


def test_an_applicant_newer_than_the_last_poll_is_one_on_enable_and_dismiss(service, sandbox, tmp_path):
    channel = Channel()
    poller = make_poller(service, tmp_path, channel)
    poller.poll_once()
    desk = poller.desk
    ivy = sandbox.add_customer(Email="ivy@example.com", BillingFirstName="Ivy", CustomerGroupID=2, Enabled=False)
    una = sandbox.add_customer(Email="una@example.com", BillingFirstName="Una", CustomerGroupID=2, Enabled=False)
    assert "Only admins" in desk.handle(i.parse("enable ivy@example.com"), AGENT).text
    assert sandbox.customer(ivy)["Enabled"] is False and desk.ledger.waiting_for(ivy) is not None
    assert "Dismissed by @alice" in desk.handle(i.parse("dismiss una@example.com"), ADMIN).text
    assert desk.ledger.latest_for(una).state == "dismissed"
    # positive control: an enabled customer is still an agent's plain enable/disable
    assert "now disabled" in desk.handle(i.parse("disable jane@example.com"), AGENT).text
    assert "now enabled" in desk.handle(i.parse("enable jane@example.com"), AGENT).text


def test_by_group_a_move_to_approved_group_is_an_approval_and_a_move_elsewhere_withdraws(tmp_path):
    """Reproducer (fix-appr 2): with APPLICANT_GROUP / APPROVED_GROUP an agent's ``move … to VIP``
    was a plain move: no admin, no approval recorded, still in ``pending``, the post kept its buttons."""
    backend = FakeBackend(capabilities=BIGCOMMERCE_LIKE)
    desk = Desk(CustomerService(backend), Guard({"UADMIN"}, {"UAGENT"}), AuditLog(Database(tmp_path)),
                applicant_group="Wholesale", approved_group="VIP")
    told: list[tuple[int, str]] = []
    desk.on_decision(lambda c, r: told.append((c.id, r.text)))
    assert pending_emails(desk) == ["bob@example.com", "carol@example.com"]

    refused = desk.handle(i.parse("move carol@example.com to VIP"), AGENT)
    assert "Only admins" in refused.text and backend.customers[CAROL].group_id == 2 and told == []
    approved = desk.handle(i.parse("move carol@example.com to VIP"), ADMIN)
    assert "Approved by @alice (by moving them to VIP)" in approved.text and backend.customers[CAROL].group_id == 1
    decided = desk.ledger.latest_for(CAROL)
    assert (decided.state, decided.decided_by) == ("approved", "UADMIN")
    assert told == [(CAROL, told[0][1])] and "Approved by @alice" in told[0][1]
    assert desk.audit.history(customer_id=CAROL)[0].action == "approve"

    moved = desk.handle(i.parse("move bob@example.com to Staff"), AGENT)  # an agent's move out of the queue
    assert "Moved Bob Stone from Wholesale to Staff." in moved.text and backend.customers[BOB].group_id == 3
    assert "application left the queue (moved out of the group by @bob)" in moved.text
    gone = desk.ledger.latest_for(BOB)
    assert gone.state == "withdrawn" and gone.detail == "moved out of the group by @bob"
    assert [cid for cid, _ in told] == [CAROL, BOB] and "no longer waiting for approval" in told[1][1]
    assert pending_emails(desk) == []

    plain = desk.handle(i.parse("move jane@example.com to Staff"), AGENT)  # positive control: not an applicant
    assert "Moved Jane Doe" in plain.text and "application" not in plain.text and len(told) == 2


# ------------------------------------------------------------------ an approval whose store answer was lost


def lost_approval(desk: Desk, sandbox: Any, customer_id: int, email: str, outcome: str = "in doubt") -> int:
    """What the trail keeps of an approve the store applied but whose answer never came back."""
    row = desk.audit.record(user_id="UADMIN", user_name="alice", action="approve", outcome=outcome,
                            customer_id=customer_id, email=email, before={"enabled": False}, after={"enabled": True})
    _edit(sandbox, customer_id, Enabled=True)  # the PUT applied in the store
    return row


def test_an_approval_in_doubt_is_recorded_as_approved_by_its_admin_not_withdrawn(service, sandbox, tmp_path):
    """Reproducer (fix-appr 3): the poller saw the enabled customer and closed the application as
    "withdrawn (enabled in the store)" with nobody as decider."""
    channel = Channel()
    poller = make_poller(service, tmp_path, channel)
    poller.poll_once()
    lost_approval(poller.desk, sandbox, CAROL, "carol@example.com")
    _edit(sandbox, GRACE, Enabled=True)  # positive control: enabled by hand in the store admin
    result = poller.poll_once()
    closed = {a.customer_id: a for a in result.closed}
    assert (closed[CAROL].state, closed[CAROL].decided_by, closed[CAROL].decided_by_name) == ("approved", "UADMIN", "@alice")
    assert closed[GRACE].state == "withdrawn" and closed[GRACE].detail == "enabled in the store"
    texts = {ts: r.text for ts, r in channel.updated}
    assert texts[closed[CAROL].ts].startswith("Approved by @alice: Carol Reyes")
    assert "already approved by @alice" in poller.desk.handle(Approve(CAROL), ADMIN).text


def test_the_settle_loop_closes_an_approval_whose_answer_was_lost(service, sandbox, tmp_path):
    from bot.settle import Settler

    channel = Channel()
    poller = make_poller(service, tmp_path, channel)
    poller.poll_once()
    desk = poller.desk
    told: list[tuple[int, str]] = []
    desk.on_decision(lambda c, r: told.append((c.id, r.text)))
    row = lost_approval(desk, sandbox, CAROL, "carol@example.com", outcome="sending")  # the writer died
    failed = desk.audit.record(user_id="UADMIN", user_name="alice", action="approve", outcome="in doubt",
                               customer_id=GRACE, email="grace@example.com", after={"enabled": True})
    settler = Settler(service, desk.audit, grace=timedelta(0), on_done=desk.approvals.settled)
    assert settler.settle_once() == {row: "done", failed: "failed"}  # Grace: the store does not show it
    assert desk.ledger.latest_for(CAROL).state == "approved" and desk.ledger.latest_for(CAROL).decided_by == "UADMIN"
    assert desk.ledger.latest_for(GRACE).state == "waiting"
    assert [cid for cid, _ in told] == [CAROL] and told[0][1].startswith("Approved by @alice")
    assert pending_emails(desk) == ["grace@example.com"]


# ------------------------------------------------------------------ why an application left the queue


def test_withdrawal_reasons_follow_the_rule_and_say_who_when_the_bot_moved_them(service, sandbox, tmp_path):
    """Reproducer (fix-appr 4): every withdrawal on a store without Enabled read "enabled in the
    store" (records there always read as enabled), and a move made through the bot said "in the store"."""
    backend = FakeBackend(capabilities=BIGCOMMERCE_LIKE)
    by_group = Desk(CustomerService(backend), Guard({"UADMIN"}, {"UAGENT"}), AuditLog(Database(tmp_path / "bc")),
                    applicant_group="Wholesale", approved_group="VIP")
    by_group.feed.refresh()
    backend.update_customer(CustomerChange(BOB, group_id=3))  # moved in the store's own admin
    [gone] = by_group.feed.refresh().withdrawn
    assert (gone.customer_id, gone.detail) == (BOB, "moved out of the group in the store")

    desk = make_poller(service, tmp_path, Channel()).desk  # the Enabled rule (3dcart)
    desk.feed.refresh()
    moved = desk.handle(i.parse("move grace@example.com to Staff"), AGENT)  # Staff auto-approves
    assert "application left the queue (moved out of the group by @bob)" in moved.text
    assert desk.ledger.latest_for(GRACE).state == "withdrawn"
    _edit(sandbox, CAROL, Enabled=True)  # positive control: Enabled decides on this store
    [enabled] = desk.feed.refresh().withdrawn
    assert (enabled.customer_id, enabled.detail) == (CAROL, "enabled in the store")


# ------------------------------------------------------------------ the demo banner on channel messages


def test_channel_updates_of_a_demo_desk_carry_the_banner_in_blocks_and_fallback_text(service, sandbox, tmp_path):
    """Reproducer (fix-appr 5): the poller's "no longer waiting" update and decided replies went
    out without the demo banner, and the fallback ``text`` of demo messages never had it."""
    from bot.reply import DEMO_BANNER
    from bot.slack.blocks import render

    channel = Channel()
    desk = Desk(service, Guard({"UADMIN"}, {"UAGENT"}), AuditLog(Database(tmp_path)), banner=DEMO_BANNER)
    poller = Poller(desk, channel, update=channel.update)
    poller.poll_once()
    assert all(r.banner == DEMO_BANNER for r in channel.posted)  # positive control: the posts had it
    lost_approval(desk, sandbox, CAROL, "carol@example.com")
    _edit(sandbox, GRACE, Enabled=True)
    poller.poll_once()
    assert len(channel.updated) == 2 and all(r.banner == DEMO_BANNER for _, r in channel.updated)
    decided = desk.approvals.closed_reply(desk.ledger.latest_for(CAROL))
    assert decided.banner == DEMO_BANNER
    payload = render(channel.updated[0][1])
    assert payload["text"].startswith(f"🧪 {DEMO_BANNER} · ")
    assert render(Reply(text="Jane Doe"))["text"] == "Jane Doe"  # no banner, no prefix
