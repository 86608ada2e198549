"""The desk on stores with and without Enabled / MailList, over the in-memory ``FakeBackend``
(so each test counts backend calls, not HTTP requests)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import intents as i
from bot.audit import AuditLog
from bot.db import Database
from bot.desk import Desk
from bot.guard import Actor, Guard
from bot.reply import Button, Menu, Reply
from bot.store.errors import AuthFailed
from bot.store.service import CustomerService

try:
    from fake_backend import BIGCOMMERCE_LIKE, THREEDCART_LIKE, FakeBackend
except ImportError:  # pragma: no cover - imported as the tests package
    from tests.fake_backend import BIGCOMMERCE_LIKE, THREEDCART_LIKE, FakeBackend

ADMIN, AGENT, VIEWER = Actor("UADMIN", "alice"), Actor("UAGENT", "bob"), Actor("UVIEW", "vic")
JANE, DAVE, HENRY = 1, 4, 8
WRITES = ("update_customer", "update_customers", "delete_customer")


@pytest.fixture
def bc_fake() -> FakeBackend:
    return FakeBackend(capabilities=BIGCOMMERCE_LIKE)


def make_desk(backend: FakeBackend, tmp_path) -> Desk:
    return Desk(CustomerService(backend), Guard({"UADMIN"}, {"UAGENT"}), AuditLog(Database(tmp_path)),
                undo_window=timedelta(minutes=15))


def fields(reply: Reply) -> dict[str, str]:
    return {f.label: f.value for f in reply.cards[0].fields}


def buttons(reply: Reply) -> dict[str, Button]:
    return {a.label: a for c in reply.cards for a in c.actions if isinstance(a, Button)}


def writes(backend: FakeBackend) -> int:
    return sum(backend.calls[name] for name in WRITES)


def test_cards_show_flags_only_where_the_store_has_them(tmp_path) -> None:
    threedcart, bigcommerce = FakeBackend(capabilities=THREEDCART_LIKE), FakeBackend(capabilities=BIGCOMMERCE_LIKE)
    with_flags = make_desk(threedcart, tmp_path / "a").handle(i.Lookup("jane@example.com"), ADMIN)
    without = make_desk(bigcommerce, tmp_path / "b").handle(i.Lookup("jane@example.com"), ADMIN)
    assert {"Account", "Mailing list"} <= fields(with_flags).keys()
    assert {"Disable", "Subscribe"} <= buttons(with_flags).keys()
    assert not {"Account", "Mailing list"} & fields(without).keys()
    assert list(buttons(without)) == ["Delete…"]
    assert isinstance(without.cards[0].actions[0], Menu)  # moving still works
    assert fields(without)["Group"] == "VIP" and fields(without)["Store credit"] == "25.00"


@pytest.mark.parametrize("command, word", [("enable", "account enabled/disabled"), ("disable", "account enabled/disabled"),
                                           ("subscribe", "mailing list"), ("unsubscribe", "mailing list")])
def test_flag_commands_say_the_store_has_no_such_setting_without_a_store_call(bc_fake, tmp_path, command, word) -> None:
    desk = make_desk(bc_fake, tmp_path)
    bc_fake.calls.clear()
    reply = desk.handle(i.parse(f"{command} jane@example.com"), ADMIN)
    assert f"Fake store has no {word} setting" in reply.text and "Nothing was changed" in reply.text
    assert sum(bc_fake.calls.values()) == 0
    # a forged button value for the same thing gets the same answer
    assert "no " + word in desk.handle(i.SetFlag(JANE, "enabled" if "account" in word else "mail_list", True), ADMIN).text
    assert sum(bc_fake.calls.values()) == 0


def test_move_undo_history_and_delete_work_without_flags(bc_fake, tmp_path) -> None:
    desk = make_desk(bc_fake, tmp_path)
    moved = desk.handle(i.parse("move jane@example.com to wholesale"), AGENT)
    assert "Moved Jane Doe from VIP to Wholesale" in moved.text and bc_fake.customers[JANE].group_id == 2
    assert bc_fake.calls["update_customer"] == 1 and bc_fake.calls["get_customer"] == 1  # one fresh read, one write
    undone = desk.handle(buttons(moved)["Undo"].intent, AGENT)
    assert "back to group VIP" in undone.text and bc_fake.customers[JANE].group_id == 1
    history = desk.handle(i.History("jane@example.com"), AGENT)
    assert len(history.cards[0].lines) == 2
    ask = desk.handle(i.parse("delete henry@example.com"), ADMIN)
    assert writes(bc_fake) == 2 and HENRY in bc_fake.customers  # asking writes nothing
    assert "Deleted Henry Park" in desk.handle(buttons(ask)["Yes, delete"].intent, ADMIN).text
    assert HENRY not in bc_fake.customers and bc_fake.calls["delete_customer"] == 1


def test_groups_and_members_without_approval_words(bc_fake, tmp_path) -> None:
    desk = make_desk(bc_fake, tmp_path)
    lines = "\n".join(desk.handle(i.ListGroups(), VIEWER).cards[0].lines)
    assert "VIP (#1) · 2 members" in lines and "approve" not in lines
    members = desk.handle(i.parse("members vip"), VIEWER)
    assert members.cards[0].title == "VIP: 2 customers"
    assert bc_fake.calls["count_group_members"] == 4  # one per group for the list; `members vip` reused VIP's
    assert all("disabled" not in line for line in members.cards[0].lines)


def test_lookups_are_cached_and_writes_invalidate(bc_fake, tmp_path) -> None:
    desk = make_desk(bc_fake, tmp_path)
    for _ in range(3):
        desk.handle(i.Lookup("jane@example.com"), VIEWER)
    assert bc_fake.calls["all_customers"] == 1 and bc_fake.calls["list_groups"] == 1
    desk.handle(i.parse("move jane@example.com to staff"), AGENT)
    assert fields(desk.handle(i.Lookup("jane@example.com"), VIEWER))["Group"] == "Staff"
    assert bc_fake.calls["all_customers"] == 2  # the write dropped the cached address


def test_bad_credentials_name_the_backends_own_settings(bc_fake, tmp_path) -> None:
    desk = make_desk(bc_fake, tmp_path)
    bc_fake.fail(AuthFailed("401", status=401))
    reply = desk.handle(i.Lookup("dave@example.com"), VIEWER)
    assert "rejected the bot's credentials" in reply.text and "FAKE_TOKEN" in reply.text
    assert "THREEDCART" not in reply.text
