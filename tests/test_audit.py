"""The audit trail and the other local state: SQLite under DATA_DIR, shared across processes."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from bot.audit import AuditLog
from bot.db import Database, SeenKeys
from bot.state.schema import seen_keys


def test_rows_round_trip_and_survive_reopening(tmp_path):
    db = Database(tmp_path)
    audit = AuditLog(db)
    first = audit.record(user_id="U1", user_name="alice", action="move", outcome="done", customer_id=7,
                         email="Jane@Example.com", before={"group_id": 1}, after={"group_id": 2})
    audit.record(user_id="U2", action="delete", outcome="refused", customer_id=7, detail="needs admin role")
    db.close()

    again = AuditLog(Database(tmp_path))
    entries = again.history(customer_id=7)
    assert [e.action for e in entries] == ["delete", "move"]
    move = again.get(first)
    assert move is not None
    assert move.email == "jane@example.com" and move.before == {"group_id": 1} and move.after == {"group_id": 2}
    assert move.who == "@alice" and entries[0].who == "U2"
    assert move.at.tzinfo is not None and abs((datetime.now(timezone.utc) - move.at).total_seconds()) < 60


def test_history_finds_deleted_customers_by_email(tmp_path):
    audit = AuditLog(Database(tmp_path))
    audit.record(user_id="U1", action="delete", outcome="done", customer_id=9, email="gone@example.com")
    assert [e.customer_id for e in audit.history(email="GONE@example.com")] == [9]
    assert audit.history() == []


def test_latest_done_and_undo_of(tmp_path):
    audit = AuditLog(Database(tmp_path))
    approve = audit.record(user_id="U1", action="approve", outcome="done", customer_id=3)
    audit.record(user_id="U1", action="approve", outcome="no-op", customer_id=3)
    assert audit.latest_done(3, ("approve", "deny")).id == approve
    move = audit.record(user_id="U1", action="move", outcome="done", customer_id=3)
    assert audit.undo_of(move) is None
    undo = audit.record(user_id="U1", action="undo", outcome="done", customer_id=3, undoes=move)
    assert audit.undo_of(move).id == undo


def test_seen_keys_first_only_once_even_concurrently(tmp_path):
    seen = SeenKeys(Database(tmp_path))
    results: list[bool] = []
    barrier = threading.Barrier(20)

    def click() -> None:
        barrier.wait()
        results.append(seen.first("U1:1700000000.123:flag:7:enabled:0"))

    threads = [threading.Thread(target=click) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1 and len(results) == 20
    assert seen.first("another") is True


def test_seen_keys_are_shared_between_processes(tmp_path):
    assert SeenKeys(Database(tmp_path)).first("shared-key") is True
    code = (
        "import sys; from bot.db import Database, SeenKeys; "
        f"sys.exit(0 if SeenKeys(Database({str(tmp_path)!r})).first('shared-key') else 3)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 3


def test_old_seen_keys_are_forgotten_at_start_up(tmp_path):
    db = Database(tmp_path)
    seen = SeenKeys(db)
    seen.first("old-click")
    seen.first("new-click")
    with db.begin() as conn:
        conn.execute(update(seen_keys).where(seen_keys.c.key == "old-click")
                     .values(at=datetime.now(timezone.utc) - timedelta(days=3)))
    again = SeenKeys(Database(tmp_path))  # a restart
    assert again.first("old-click") is True and again.first("new-click") is False
