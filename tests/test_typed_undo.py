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
