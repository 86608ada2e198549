"""Use cases against the real sandbox store over HTTP: guard → fresh read → write → audit."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
import requests

from bot import intents as i
from bot.audit import AuditLog
from bot.db import Database
from bot.desk import Desk
from bot.guard import Actor, Guard
from bot.reply import Button, Menu, Reply

ADMIN, AGENT, VIEWER = Actor("UADMIN", "alice"), Actor("UAGENT", "bob"), Actor("UVIEW", "vic")
JANE, CAROL, GRACE, ERIN = 1, 3, 7, 5  # sandbox demo data (see bot/sandbox/threedcart_data.py)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def audit(tmp_path) -> AuditLog:
    return AuditLog(Database(tmp_path))


@pytest.fixture
def desk(service, audit, clock) -> Desk:
    return Desk(service, Guard({"UADMIN"}, {"UAGENT"}), audit, clock=clock)


def edit_in_store(sandbox, customer_id: int, **fields) -> None:
    """Someone changes the customer in the store's own admin, behind the bot's back."""
    headers = {"SecureURL": sandbox.secure_url, "PrivateKey": sandbox.private_key, "Token": sandbox.token}
    answer = requests.put(f"{sandbox.url}Customers/{customer_id}", json=fields, headers=headers, timeout=5)
    assert answer.status_code == 200, answer.text
    sandbox.reset_counts()  # count only what the bot does from here on


def texts(reply: Reply) -> str:
    parts = [reply.text, *(n.text for n in reply.notices)]
    for card in reply.cards:
        parts += [card.title, *card.lines, card.footer, *(f"{f.label}: {f.value}" for f in card.fields)]
    return "\n".join(parts)


def buttons(reply: Reply) -> dict[str, Button]:
    return {a.label: a for c in reply.cards for a in c.actions if isinstance(a, Button)}


def test_lookup_shows_the_card_with_group_name_and_flags(desk):
    reply = desk.handle(i.parse("JANE@example.com"), VIEWER)
    card = reply.cards[0]
    fields = {f.label: f.value for f in card.fields}
    assert card.title == "Jane Doe"
    assert fields["Group"] == "VIP" and fields["Account"] == "Enabled" and fields["Mailing list"] == "Not subscribed"
    assert fields["Company"] == "Acme Ltd"
    assert card.actions == ()  # a viewer may look, not change


def test_card_actions_follow_the_role(desk):
    agent_card = desk.handle(i.Lookup("jane@example.com"), AGENT).cards[0]
    admin_card = desk.handle(i.Lookup("jane@example.com"), ADMIN).cards[0]
    assert [type(a).__name__ for a in agent_card.actions] == ["Menu", "Button", "Button", "Button"]
    labels = [a.label for a in admin_card.actions if isinstance(a, Button)]
    assert labels == ["Disable", "Subscribe", "History", "Delete…"]
    menu = admin_card.actions[0]
    assert isinstance(menu, Menu) and menu.selected is not None and menu.selected.label == "VIP (#1)"
    assert any(c.label == "No group (retail)" for c in menu.choices)


def test_unknown_address_is_a_friendly_not_found(desk, sandbox):
    reply = desk.handle(i.Lookup("nobody@example.com"), VIEWER)
    assert "No customer with the address nobody@example.com" in reply.text
    assert reply.cards == ()


def test_move_writes_only_the_group_and_answers_with_the_new_state(desk, sandbox, audit):
    sandbox.reset_counts()
    reply = desk.handle(i.parse("move jane@example.com to whole"), AGENT)
    assert "Moved Jane Doe from VIP to Wholesale" in reply.text
    assert sandbox.customer(JANE)["CustomerGroupID"] == 2
    puts = [r for r in sandbox.requests if r.method == "PUT"]
    assert len(puts) == 1
    assert {f.label: f.value for f in reply.cards[0].fields}["Group"] == "Wholesale"
    entry = audit.history(customer_id=JANE)[0]
    assert (entry.action, entry.outcome, entry.before, entry.after) == ("move", "done", {"group_id": 1}, {"group_id": 2})
    assert "Undo" in buttons(reply)


def test_a_change_that_is_already_true_does_not_write(desk, sandbox, audit):
    sandbox.reset_counts()
    reply = desk.handle(i.parse("move jane@example.com to VIP"), AGENT)
    assert "already in VIP" in reply.text
    reply = desk.handle(i.parse("enable jane@example.com"), AGENT)
    assert "already enabled" in reply.text
    assert sandbox.request_count(method="PUT") == 0
    assert [e.outcome for e in audit.history(customer_id=JANE)] == ["no-op", "no-op"]


def test_writes_reread_the_customer_fresh_not_from_cache(desk, sandbox):
    desk.handle(i.Lookup("jane@example.com"), AGENT)  # now cached as enabled
    edit_in_store(sandbox, JANE, Enabled=False)  # someone changed it in the store admin
    reply = desk.handle(i.parse("disable jane@example.com"), AGENT)
    assert "already disabled" in reply.text
    assert sandbox.request_count(method="PUT") == 0


def test_flags_toggle_with_buttons_labelled_by_what_they_do(desk, sandbox):
    card = desk.handle(i.Lookup("jane@example.com"), AGENT)
    reply = desk.handle(buttons(card)["Subscribe"].intent, AGENT)
    assert sandbox.customer(JANE)["MailList"] is True
    assert "Unsubscribe" in buttons(reply) and "now subscribed" in reply.text
    reply = desk.handle(buttons(reply)["Disable"].intent, AGENT)
    assert sandbox.customer(JANE)["Enabled"] is False and "Enable" in buttons(reply)


def test_roles_are_checked_when_the_action_runs(desk, sandbox, audit):
    admin_card = desk.handle(i.Lookup("jane@example.com"), ADMIN)
    # a viewer presses the admin's buttons (or forges the value): refused, nothing written
    for label in ("Disable", "Delete…"):
        reply = desk.handle(buttons(admin_card)[label].intent, VIEWER)
        assert reply.replace is False and "Only" in reply.text
    assert "admins (`BOT_ADMINS`)" in desk.handle(i.Delete(JANE, confirmed=True), AGENT).text
    assert sandbox.customer(JANE) is not None and sandbox.customer(JANE)["Enabled"] is True
    assert sandbox.request_count(method="PUT") == 0 and sandbox.request_count(method="DELETE") == 0
    refused = [e for e in audit.history(customer_id=JANE) if e.outcome == "refused"]
    assert {e.action for e in refused} == {"disable", "delete"}


def test_delete_needs_confirmation_and_happens_once(desk, sandbox, audit):
    ask = desk.handle(i.parse("delete jane@example.com"), ADMIN)
    assert sandbox.customer(JANE) is not None
    yes = buttons(ask)["Yes, delete"]
    assert yes.style == "danger" and "Cancel" in buttons(ask)
    assert "Deleted Jane Doe" in desk.handle(yes.intent, ADMIN).text
    again = desk.handle(yes.intent, ADMIN)
    assert "already deleted" in again.text
    assert sandbox.customer(JANE) is None and sandbox.request_count(method="DELETE") == 1
    assert [e.outcome for e in audit.history(customer_id=JANE) if e.action == "delete"] == ["no-op", "done"]


def test_concurrent_identical_clicks_write_once(desk, sandbox):
    sandbox.latency = 0.05
    barrier = threading.Barrier(12)
    replies: list[Reply] = []

    def click() -> None:
        barrier.wait()
        replies.append(desk.handle(i.SetFlag(JANE, "enabled", False), AGENT))

    threads = [threading.Thread(target=click) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sandbox.request_count(method="PUT") == 1
    assert sum("already disabled" in r.text for r in replies) == 11


def test_unknown_and_ambiguous_groups_list_candidates(desk, sandbox):
    sandbox.add_group(Name="Wholesale EU", AutoApprove=False)
    unknown = desk.handle(i.parse("move jane@example.com to Platinum"), AGENT)
    assert "no group called `Platinum`" in unknown.text and "VIP" in unknown.text
    ambiguous = desk.handle(i.parse("move jane@example.com to whole"), AGENT)
    assert "matches several groups" in ambiguous.text and "Wholesale EU" in ambiguous.text
    empty = desk.handle(i.Move(JANE, ""), AGENT)
    assert empty.cards == () and sandbox.request_count(method="PUT") == 0


def test_groups_and_members(desk):
    groups = texts(desk.handle(i.ListGroups(), VIEWER))
    assert "Wholesale (#2) · 2 members · needs approval" in groups
    assert "VIP (#1) · 2 members · auto-approve" in groups
    members = desk.handle(i.parse("members vip"), VIEWER)
    assert members.cards[0].title == "VIP: 2 customers"
    assert any("jane@example.com" in line for line in members.cards[0].lines)


def test_members_pages(desk, sandbox):
    sandbox.add_customers(45, group_id=3)
    first = desk.handle(i.Members("Staff"), VIEWER)
    assert first.cards[0].title == "Staff: 46 customers" and len(first.cards[0].lines) == 20
    last = desk.handle(buttons(desk.handle(buttons(first)["Next ▶"].intent, VIEWER))["Next ▶"].intent, VIEWER)
    assert len(last.cards[0].lines) == 6 and last.cards[0].footer == "Page 3 of 3"
    seen = set(first.cards[0].lines) | set(last.cards[0].lines)
    assert len(seen) == 26


def test_store_outage_and_bad_credentials_are_friendly(desk, sandbox):
    sandbox.fail_next(10, status=503)
    reply = desk.handle(i.Lookup("henry@example.com"), VIEWER)
    assert "not answering" in reply.text and "try again" in reply.text
    sandbox.clear_faults()
    sandbox.token = "rotated"  # the store no longer accepts the bot's token
    reply = desk.handle(i.Lookup("dave@example.com"), VIEWER)
    assert "THREEDCART_TOKEN" in reply.text and "rejected" in reply.text


def test_pending_lists_only_disabled_customers_in_groups_needing_approval(desk):
    reply = desk.handle(i.Pending(), ADMIN)
    emails = [f.value for c in reply.cards for f in c.fields if f.label == "Email"]
    assert sorted(emails) == ["carol@example.com", "grace@example.com"]
    assert "Approve all 2" in buttons(reply)


def test_approve_and_deny(desk, sandbox, audit):
    approved = desk.handle(i.Approve(CAROL), ADMIN)
    assert "Approved by @alice" in approved.text and sandbox.customer(CAROL)["Enabled"] is True
    assert all(not c.actions for c in approved.cards)  # buttons removed
    again = desk.handle(i.Approve(CAROL), ADMIN)
    assert "already approved by @alice" in again.text
    denied = desk.handle(i.Deny(GRACE), ADMIN)
    record = sandbox.customer(GRACE)
    assert "Denied by @alice" in denied.text and record["CustomerGroupID"] == 0 and record["Enabled"] is True
    assert "erin@example.com is not a wholesale applicant" in desk.handle(i.Approve(ERIN), ADMIN).text  # auto-approve group
    assert sandbox.customer(ERIN)["Enabled"] is False
    assert "Only admins" in desk.handle(i.Approve(GRACE), AGENT).text


def test_approve_all_is_one_bulk_put_with_per_customer_results(desk, sandbox):
    ids = sandbox.add_customers(30, group_id=2, enabled=False)
    sandbox.fail_ids({ids[0], ids[1]})
    pending = desk.handle(i.Pending(), ADMIN)
    sandbox.reset_counts()
    reply = desk.handle(buttons(pending)["Approve all 32"].intent, ADMIN)
    assert sandbox.request_count(method="PUT") == 1
    # a fresh read of what changed since the last look (31 records: a page short of the 300 asked
    # but long enough to be a capped page, so one more request confirms the end), one bulk PUT
    assert sandbox.request_count() == 3
    assert "Approved 30 applicants" in reply.text
    assert "2 applicants could not be approved" in texts(reply)
    assert sandbox.customer(ids[0])["Enabled"] is False and sandbox.customer(ids[5])["Enabled"] is True


def test_history_and_undo(desk, sandbox, clock):
    moved = desk.handle(i.parse("move jane@example.com to staff"), AGENT)
    undo = buttons(moved)["Undo"]
    history = texts(desk.handle(i.History("jane@example.com"), AGENT))
    assert "@bob · moved from VIP to Staff" in history
    assert "Only" in desk.handle(i.History("jane@example.com"), VIEWER).text
    reply = desk.handle(undo.intent, AGENT)
    assert "Undone" in reply.text and sandbox.customer(JANE)["CustomerGroupID"] == 1
    assert "already undone" in desk.handle(undo.intent, AGENT).text


def test_undo_refuses_when_someone_changed_it_since_or_too_late(desk, sandbox, clock):
    reply = desk.handle(i.parse("disable jane@example.com"), AGENT)
    edit_in_store(sandbox, JANE, Enabled=True)  # changed in the store admin meanwhile
    refused = desk.handle(buttons(reply)["Undo"].intent, AGENT)
    assert "changed since" in refused.text and sandbox.request_count(method="PUT") == 0
    reply = desk.handle(i.parse("subscribe jane@example.com"), AGENT)
    clock.now += timedelta(minutes=16)
    assert "only possible for 15 minutes" in desk.handle(buttons(reply)["Undo"].intent, AGENT).text
    assert sandbox.customer(JANE)["MailList"] is True


def test_announcements_follow_completed_changes_only(desk):
    lines: list[str] = []
    desk.subscribe(lines.append)
    desk.handle(i.parse("unsubscribe jane@example.com"), AGENT)  # already: no announcement
    desk.handle(i.parse("move jane@example.com to staff"), AGENT)
    desk.handle(i.parse("delete jane@example.com"), VIEWER)  # refused
    assert lines == ["@bob moved jane@example.com from VIP to Staff"]


def test_store_data_is_returned_as_plain_text(desk, sandbox):
    edit_in_store(sandbox, JANE, BillingFirstName="<!channel>", BillingLastName="*bold*")
    reply = desk.handle(i.Lookup(JANE), VIEWER)
    assert reply.cards[0].title == "<!channel> *bold*"  # escaping is the renderer's job


def test_approve_all_in_one_group_is_one_read_and_one_bulk_put(desk, sandbox):
    edit_in_store(sandbox, GRACE, Enabled=True)  # only Wholesale applicants wait now
    sandbox.add_customers(100, group_id=2, enabled=False)
    pending = desk.handle(i.Pending(), ADMIN)
    sandbox.reset_counts()
    reply = desk.handle(buttons(pending)["Approve all 101"].intent, ADMIN)
    assert "Approved 101 applicants" in reply.text
    # what changed since the last look (Carol, Grace and the 100: a page of 102 may be a capped page:
    # one more request confirms its end), then one bulk PUT: the size of group 2 does not matter
    assert [(r.method, r.path, "lastupdatestart" in r.query) for r in sandbox.requests] == [
        ("GET", "/3dCartWebAPI/v1/Customers", True),
        ("GET", "/3dCartWebAPI/v1/Customers", True),
        ("PUT", "/3dCartWebAPI/v1/Customers", False)]


def test_approve_all_leaves_out_whoever_changed_since(desk, sandbox):
    pending = desk.handle(i.Pending(), ADMIN)
    edit_in_store(sandbox, CAROL, CustomerGroupID=1)  # moved to VIP by hand meanwhile
    reply = desk.handle(buttons(pending)["Approve all 2"].intent, ADMIN)
    assert "Approved 1 applicant" in reply.text and "no longer pending" in texts(reply)
    assert sandbox.customer(CAROL)["Enabled"] is False and sandbox.customer(GRACE)["Enabled"] is True
