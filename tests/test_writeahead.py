"""A write is recorded before it is sent (issue 9 item 3), against the real sandbox over HTTP.

The trail is real too: a SQLite file locked by another process, and the same flows on
PostgreSQL. Faults are aimed at the store's write request itself (``HookedStore.on_write``),
not at the reads before it.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import intents as i
from bot.audit import AuditLog
from bot.desk import Desk
from bot.guard import Actor, Guard
from bot.reply import Reply
from bot.settle import Settler
from bot.state.engine import Database
from bot.sandbox.threedcart import CONTROL_PATH, SandboxStore
from bot.store.service import CustomerService

ADMIN, AGENT = Actor("UADMIN", "alice"), Actor("UAGENT", "bob")
JANE, CAROL = 1, 3  # sandbox demo data: Jane is enabled; Carol a pending wholesale applicant
NOTHING_CHANGED = "Nothing was changed"
WRITES = ("PUT", "POST", "DELETE")


class HookedStore(SandboxStore):
    """The sandbox, plus ``on_write(fn)``: ``fn()`` runs in the server right before each write
    request is served (the write applies when ``fn`` returns)."""

    def __init__(self) -> None:
        super().__init__(port=0)
        self.hook: Callable[[], None] | None = None

    def on_write(self, hook: Callable[[], None] | None) -> None:
        self.hook = hook

    def handle(self, method: str, path: str, query: dict[str, str], headers: Any, body: bytes) -> Any:
        if method in WRITES and path.rstrip("/").lower() != CONTROL_PATH and self.hook is not None:
            self.hook()
        return super().handle(method, path, query, headers, body)

    def writes(self) -> int:
        return sum(self.request_count(method=m) for m in WRITES)


@pytest.fixture
def store() -> Iterator[HookedStore]:
    s = HookedStore().start()
    yield s
    s.on_write(None)
    s.stop()


def make_desk(store: HookedStore, make_client: Callable[..., Any], db: Database, **client: Any) -> Desk:
    service = CustomerService(make_client(store, **client))
    return Desk(service, Guard({"UADMIN"}, {"UAGENT"}), AuditLog(db), undo_window=timedelta(minutes=15))


def settler(desk: Desk) -> Settler:
    return Settler(desk.service, desk.audit, grace=timedelta(0))


def text(reply: Reply) -> str:
    return "\n".join([reply.text, *(n.text for n in reply.notices), *(l for c in reply.cards for l in c.lines)])


def undo_button(reply: Reply) -> i.Intent:
    return next(b.intent for c in reply.cards for b in c.actions if getattr(b, "label", "") == "Undo")


def wait_until(check: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


LOCKER = (
    "import sqlite3, sys\n"
    "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
    "conn.execute('BEGIN EXCLUSIVE')\n"
    "print('locked', flush=True)\n"
    "sys.stdin.readline()\n"
)


@contextmanager
def locked_by_another_process(path: Path) -> Iterator[None]:
    """Another process holds the SQLite file's write lock until the block ends."""
    proc = subprocess.Popen([sys.executable, "-c", LOCKER, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield
    finally:
        proc.stdin.close()
        proc.wait(30)


# ------------------------------------------------------------------------------------------


def test_a_trail_that_cannot_be_written_means_the_write_is_not_sent(store, make_client, tmp_path):
    db = Database(tmp_path, busy_seconds=0.3)
    desk = make_desk(store, make_client, db)
    with locked_by_another_process(db.path):
        reply = desk.handle(i.SetFlag(JANE, "enabled", False), AGENT)
    assert "audit trail" in reply.text and NOTHING_CHANGED in reply.text
    assert store.writes() == 0 and store.customer(JANE)["Enabled"] is True
    # positive control: the same click with the trail writable goes through, once
    assert "now disabled" in desk.handle(i.SetFlag(JANE, "enabled", False), AGENT).text
    assert store.writes() == 1 and store.customer(JANE)["Enabled"] is False
    assert [e.outcome for e in desk.audit.history(customer_id=JANE)] == ["done"]
    db.close()


def test_a_trail_that_cannot_be_settled_after_the_write_still_says_it_was_made(store, make_client, tmp_path):
    db = Database(tmp_path, busy_seconds=0.3)
    desk = make_desk(store, make_client, db)
    with ExitStackOnce() as lock:
        store.on_write(lambda: lock.enter(locked_by_another_process(db.path)))  # locks before the PUT applies
        reply = desk.handle(i.SetFlag(JANE, "enabled", False), AGENT)
        store.on_write(None)
        assert "is now disabled" in reply.text and NOTHING_CHANGED not in text(reply)
        assert store.customer(JANE)["Enabled"] is False and store.writes() == 1
    [row] = desk.audit.history(customer_id=JANE)
    assert row.outcome == "sending"  # the "done" could not be written
    history = text(desk.handle(i.History(JANE), AGENT))
    assert "disable (being checked)" in history
    assert settler(desk).settle_once() == {row.id: "done"}
    assert "· disabled the account" in text(desk.handle(i.History(JANE), AGENT))
    assert "Undone" in desk.handle(undo_button(reply), AGENT).text and store.customer(JANE)["Enabled"] is True
    db.close()


class ExitStackOnce:
    """Holds at most one context (entered from another thread) until the ``with`` block ends."""

    def __init__(self) -> None:
        self._cm: Any = None
        self._lock = threading.Lock()

    def enter(self, cm: Any) -> None:
        with self._lock:
            if self._cm is None:
                cm.__enter__()
                self._cm = cm

    def __enter__(self) -> "ExitStackOnce":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._cm is not None:
            self._cm.__exit__(None, None, None)


def test_a_write_whose_answer_was_lost_is_in_doubt_until_the_store_shows_it(store, make_client, state_db):
    desk = make_desk(store, make_client, state_db, timeout=0.4, total_budget=0.6)
    store.on_write(lambda: time.sleep(1.0))  # the store applies the PUT after the bot stopped waiting
    reply = desk.handle(i.SetFlag(JANE, "enabled", False), AGENT)
    assert "can't tell whether the change was saved" in reply.text and NOTHING_CHANGED not in reply.text
    [row] = desk.audit.history(customer_id=JANE)
    assert row.outcome == "in doubt" and "(not confirmed yet" in text(desk.handle(i.History(JANE), AGENT))
    store.on_write(None)
    wait_until(lambda: store.customer(JANE)["Enabled"] is False)
    assert settler(desk).settle_once() == {row.id: "done"}
    assert desk.audit.get(row.id).outcome == "done"
    undone = desk.handle(i.Undo(row.id), AGENT)
    assert "Undone" in undone.text and store.customer(JANE)["Enabled"] is True


def test_a_write_in_doubt_the_store_does_not_show_settles_as_failed(store, make_client, state_db):
    desk = make_desk(store, make_client, state_db, retries=0)
    store.on_write(lambda: store.fail_next(1, 503))  # refused before it applied, but a 5xx can't say so
    reply = desk.handle(i.parse("move jane@example.com to staff"), AGENT)
    assert "may not have been saved" in reply.text
    [row] = desk.audit.history(customer_id=JANE)
    assert row.outcome == "in doubt" and store.customer(JANE)["CustomerGroupID"] == 1
    store.on_write(None)
    assert settler(desk).settle_once() == {row.id: "failed"}
    assert "There is nothing to undo" in desk.handle(i.Undo(row.id), AGENT).text


def test_young_unsettled_rows_are_left_to_their_writer(store, make_client, state_db):
    desk = make_desk(store, make_client, state_db)
    row = desk.audit.begin(user_id="U1", action="disable", customer_id=JANE, after={"enabled": False})
    assert Settler(desk.service, desk.audit, grace=timedelta(minutes=1)).settle_once() == {}
    assert settler(desk).settle_once() == {row: "failed"}  # older than the grace: Jane is still enabled


def test_delete_is_recorded_first_and_a_lost_answer_settles_by_404(store, make_client, state_db):
    desk = make_desk(store, make_client, state_db, timeout=0.4, total_budget=0.6, retries=0)
    store.on_write(lambda: time.sleep(1.0))
    reply = desk.handle(i.Delete(JANE, confirmed=True), ADMIN)
    assert "can't tell" in reply.text and NOTHING_CHANGED not in reply.text
    store.on_write(None)
    wait_until(lambda: store.customer(JANE) is None)
    [row] = desk.audit.history(customer_id=JANE)
    assert row.action == "delete" and row.before["group_id"] == 1
    assert settler(desk).settle_once() == {row.id: "done"}


def test_a_customer_deleted_between_reread_and_delete_is_a_no_op(store, make_client, state_db):
    desk = make_desk(store, make_client, state_db)
    store.on_write(lambda: store._delete_customer(JANE))  # someone else deletes Jane first
    reply = desk.handle(i.Delete(JANE, confirmed=True), ADMIN)
    assert "already deleted" in reply.text
    assert [(e.action, e.outcome, e.detail) for e in desk.audit.history(customer_id=JANE)] == [
        ("delete", "no-op", "no longer exists")]


def test_approve_all_records_every_applicant_before_the_bulk_write(store, make_client, state_db):
    desk = make_desk(store, make_client, state_db)
    ids = [c.id for c in desk.service.pending_applicants(fresh=True)]
    seen_during_write: list[set[str]] = []
    store.on_write(lambda: seen_during_write.append({e.outcome for cid in ids for e in desk.audit.history(customer_id=cid)}))
    reply = desk.handle(i.ApproveAll(tuple(ids)), ADMIN)
    assert "Approved" in reply.text and len(ids) >= 2
    assert seen_during_write == [{"sending"}]
    assert [e.outcome for cid in ids for e in desk.audit.history(customer_id=cid)] == ["done"] * len(ids)


def test_history_pages_through_changes_and_leaves_refusals_and_no_ops_out(store, make_client, state_db):
    desk = make_desk(store, make_client, state_db)
    for n in range(20):
        desk.audit.record(user_id="U1", user_name="alice", action="subscribe", outcome="done", customer_id=JANE,
                          email="jane@example.com", before={"mail_list": n % 2 == 0}, after={"mail_list": n % 2 == 1})
        desk.audit.record(user_id="UVIEW", action="delete", outcome="refused", customer_id=JANE, detail="needs admin role")
        desk.audit.record(user_id="U1", action="enable", outcome="no-op", customer_id=JANE, detail="already enabled")
    first = desk.handle(i.parse("history jane@example.com"), AGENT)
    card = first.cards[0]
    assert len(card.lines) == 15 and all("subscribe" in line for line in card.lines)
    assert "page 1 of 2" in card.footer
    [next_page] = [b for b in card.actions if b.label.startswith("Next")]
    assert i.decode(i.encode(next_page.intent)) == i.History("jane@example.com", 2)
    second = desk.handle(next_page.intent, AGENT).cards[0]
    assert len(second.lines) == 5 and "page 2 of 2" in second.footer
    assert [b.label for b in second.actions] == ["◀ Previous"]
    typed = desk.handle(i.parse("history jane@example.com page 2"), AGENT).cards[0]
    assert typed.lines == second.lines
    assert desk.handle(i.parse("history jane@example.com page 9"), AGENT).cards[0].lines == second.lines  # clamped
