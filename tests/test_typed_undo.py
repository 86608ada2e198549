"""Typed ``undo`` finds the user's latest change in the audit trail, not in one process's memory:
it works after a restart and from another process sharing the state database (SQLite file or
PostgreSQL), and it skips changes that were undone already (by their Undo button, anywhere)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot import intents as i
from bot.audit import AuditLog
from bot.desk import UNDOABLE, Desk
from bot.guard import Actor, Guard
from bot.store.service import CustomerService

AGENT, OTHER = Actor("UAGENT", "bob"), Actor("UOTHER", "olga")
JANE, VIP, WHOLESALE, STAFF = 1, 1, 2, 3  # sandbox demo data (see bot/sandbox/)


def make_desk(client, state_db) -> Desk:
    """A desk as one bot process builds it: its own service (cache) and locks, the shared database."""
    return Desk(CustomerService(client), Guard(set(), {"UAGENT", "UOTHER"}), AuditLog(state_db))


def test_typed_undo_takes_a_change_made_by_another_desk_on_the_same_database(client, sandbox, state_db):
    first, second = make_desk(client, state_db), make_desk(client, state_db)
    moved = first.handle(i.parse("move jane@example.com to Wholesale"), AGENT)
    assert "Moved Jane Doe from VIP to Wholesale" in moved.text
    assert sandbox.customer(JANE)["CustomerGroupID"] == WHOLESALE

    assert "no change left to undo" in second.handle(i.UndoLatest(), OTHER).text  # not theirs to undo
    undone = second.handle(i.UndoLatest(), AGENT)  # another process, or the same bot restarted
    assert "Undone: Jane Doe is back in VIP." in undone.text
    assert sandbox.customer(JANE)["CustomerGroupID"] == VIP

    again = first.handle(i.UndoLatest(), AGENT)  # the first desk sees that it was undone
    assert "no change left to undo" in again.text
    assert sandbox.customer(JANE)["CustomerGroupID"] == VIP


def test_typed_undo_skips_a_change_undone_by_its_button_elsewhere(client, sandbox, state_db):
    first, second = make_desk(client, state_db), make_desk(client, state_db)
    first.handle(i.parse("subscribe jane@example.com"), AGENT)
    moved = first.handle(i.parse("move jane@example.com to Staff"), AGENT)
    undo_button = next(a for a in moved.cards[0].actions if getattr(a, "label", "") == "Undo")
    assert "Undone" in second.handle(undo_button.intent, AGENT).text  # the move, by its button
    assert sandbox.customer(JANE)["CustomerGroupID"] == VIP and sandbox.customer(JANE)["MailList"] is True

    undone = first.handle(i.UndoLatest(), AGENT)  # so `undo` takes the subscribe
    assert "Undone: Jane Doe is unsubscribed from the mailing list again." in undone.text
    assert sandbox.customer(JANE)["MailList"] is False and sandbox.customer(JANE)["CustomerGroupID"] == VIP


def test_latest_undoable_filters_by_user_action_window_and_undo(state_db):
    trail = AuditLog(state_db)
    now = datetime.now(timezone.utc)
    since = now - timedelta(minutes=15)

    def change(action: str = "move", *, user: str = "U1", outcome: str = "done", at: datetime | None = None,
               customer_id: int | None = 7, undoes: int | None = None) -> int:
        return trail.record(user_id=user, action=action, outcome=outcome, customer_id=customer_id,  # type: ignore[arg-type]
                            before={"group_id": 1}, after={"group_id": 2}, undoes=undoes, at=at or now)

    assert trail.latest_undoable("U1", UNDOABLE, since) == []
    old = change(at=now - timedelta(minutes=16))  # outside the window
    kept = change("subscribe")
    change(user="U2")  # someone else's
    change("delete")  # final
    change("approve")  # final
    change(outcome="failed")  # never applied
    change(outcome="no-op")
    change(customer_id=None)
    assert [e.id for e in trail.latest_undoable("U1", UNDOABLE, since)] == [kept]

    newest = change("disable")
    assert [e.id for e in trail.latest_undoable("U1", UNDOABLE, since)] == [newest]
    change("undo", outcome="failed", undoes=newest)  # a failed undo leaves it undoable
    assert [e.id for e in trail.latest_undoable("U1", UNDOABLE, since)] == [newest]
    change("undo", user="U2", undoes=newest)  # undone, by anyone: skipped
    assert [e.id for e in trail.latest_undoable("U1", UNDOABLE, since)] == [kept]
    assert [e.id for e in trail.latest_undoable("U1", UNDOABLE, since, limit=5)] == [kept]
    assert [e.id for e in trail.latest_undoable("U1", UNDOABLE, now - timedelta(hours=1), limit=5)] == [kept, old]


# ------------------------------------------------------------------------------ changes that can't be undone


DAVE, STAFF_NAME = 4, "Staff"


def test_typed_undo_gets_past_a_change_that_was_changed_since(client, sandbox, state_db):
    from bot.store.models import CustomerChange

    desk = make_desk(client, state_db)
    desk.handle(i.parse("move jane@example.com to Wholesale"), AGENT)
    desk.handle(i.parse("subscribe jane@example.com"), AGENT)
    client.update_customer(CustomerChange(JANE, mail_list=False))  # someone else, in the store's admin

    refused = desk.handle(i.UndoLatest(), AGENT)  # the newest change: refused, and says what is next
    assert "Can't undo" in refused.text and "changed since" in refused.text
    assert 'Type "undo" again' in refused.text
    assert sandbox.customer(JANE)["CustomerGroupID"] == WHOLESALE

    sandbox.reset_counts()
    undone = desk.handle(i.UndoLatest(), AGENT)  # not stuck: the move before it
    assert "Undone: Jane Doe is back in VIP." in undone.text
    assert "That was your move of jane@example.com" in undone.text and "1 newer change can't be undone" in undone.text
    assert sandbox.customer(JANE)["CustomerGroupID"] == VIP and sandbox.customer(JANE)["MailList"] is False
    assert sandbox.request_count("GET") == 1  # one fresh read, for the move only; none for the skipped subscribe

    sandbox.reset_counts()
    rows_before = len(AuditLog(state_db).history(customer_id=JANE, limit=100))
    nothing = desk.handle(i.UndoLatest(), AGENT)
    assert "no change left to undo (your newest change can't be undone" in nothing.text
    assert sandbox.request_count() == 0  # no store read and…
    assert len(AuditLog(state_db).history(customer_id=JANE, limit=100)) == rows_before  # …no no-op row


def test_typed_undo_skips_a_customer_the_bot_deleted_since(client, sandbox, state_db):
    desk = Desk(CustomerService(client), Guard({"UAGENT"}, set()), AuditLog(state_db))
    desk.handle(i.parse("move jane@example.com to Wholesale"), AGENT)
    desk.handle(i.parse(f"move dave@example.com to {STAFF_NAME}"), AGENT)
    assert "Deleted" in desk.handle(i.Delete(DAVE, confirmed=True), AGENT).text
    sandbox.reset_counts()
    undone = desk.handle(i.UndoLatest(), AGENT)
    assert "Undone: Jane Doe is back in VIP." in undone.text and "That was your move of jane@example.com" in undone.text
    assert sandbox.customer(JANE)["CustomerGroupID"] == VIP
    assert sandbox.request_count("GET") == 1  # the delete is in the trail: Dave's change is skipped unread


def test_typed_undo_skips_a_customer_deleted_outside_the_bot(client, sandbox, state_db):
    desk = make_desk(client, state_db)
    desk.handle(i.parse("move jane@example.com to Wholesale"), AGENT)
    desk.handle(i.parse(f"move dave@example.com to {STAFF_NAME}"), AGENT)
    client.delete_customer(DAVE)
    undone = desk.handle(i.UndoLatest(), AGENT)  # Dave is found gone, then Jane's move is undone
    assert "Undone: Jane Doe is back in VIP." in undone.text and "1 newer change can't be undone" in undone.text
    assert sandbox.customer(JANE)["CustomerGroupID"] == VIP and sandbox.customer(DAVE) is None
    trail = AuditLog(state_db)
    gone = [e for e in trail.history(customer_id=DAVE, limit=10) if e.action == "undo"]
    assert [e.detail for e in gone] == ["no longer exists"]
    assert "no change left to undo" in desk.handle(i.UndoLatest(), AGENT).text
    assert len([e for e in trail.history(customer_id=DAVE, limit=10) if e.action == "undo"]) == 1  # not tried again


def test_impossible_undos_are_per_user_and_by_detail(state_db):
    trail = AuditLog(state_db)
    change = trail.record(user_id="U1", action="move", outcome="done", customer_id=7, before={"group_id": 1},
                          after={"group_id": 2})
    other = trail.record(user_id="U1", action="move", outcome="done", customer_id=8, before={"group_id": 1},
                         after={"group_id": 2})
    entries = trail.latest_undoable("U1", UNDOABLE, datetime.now(timezone.utc) - timedelta(minutes=5), limit=5)
    assert trail.impossible_undos("U1", entries) == set()
    trail.record(user_id="U2", action="undo", outcome="no-op", customer_id=7, detail="changed since", undoes=change)
    trail.record(user_id="U1", action="undo", outcome="no-op", customer_id=8, detail="already undone", undoes=other)
    assert trail.impossible_undos("U1", entries) == set()  # another user's refusal; another reason
    trail.record(user_id="U1", action="undo", outcome="no-op", customer_id=7, detail="changed since", undoes=change)
    assert trail.impossible_undos("U1", entries) == {change}
    trail.record(user_id="U3", action="delete", outcome="done", customer_id=8)
    assert trail.impossible_undos("U1", entries) == {change, other}
