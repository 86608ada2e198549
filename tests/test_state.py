"""The state layer on both engines (SQLite and real PostgreSQL): trail, click keys, posted
applicants, migrations — including a SQLite file written by the first version of the bot."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.state import migrate
from bot.state.engine import Database, database_url
from bot.state.applications import Ledger
from bot.state.schema import metadata
from bot.state.seen import SeenKeys
from bot.state.trail import CHANGES, AuditLog

ROOT = Path(__file__).resolve().parents[1]


def in_threads(n: int, work) -> list:
    """Run ``work()`` in ``n`` threads released together; their results (re-raises a failure)."""
    barrier = threading.Barrier(n)
    results: list = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            value = work()
        except BaseException as exc:  # noqa: BLE001 — handed to the test below
            errors.append(exc)
            return
        with lock:
            results.append(value)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors:
        raise errors[0]
    assert len(results) == n
    return results


# ---------------------------------------------------------------------------- URLs


@pytest.mark.parametrize("given, expected", [
    ("postgres://u:p@db.example.com:5432/d1", "postgresql+psycopg://u:p@db.example.com:5432/d1"),
    ("postgresql://u:p@h/d", "postgresql+psycopg://u:p@h/d"),
    ("  postgresql+psycopg://h/d ", "postgresql+psycopg://h/d"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
])
def test_database_urls_as_hosts_hand_them_out(given, expected):
    assert database_url(given, None) == expected


@pytest.mark.parametrize("bad", ["mysql://u:secretpw@h/d", "just-a-word", "postgres://u:secretpw@h:notaport/d"])
def test_bad_database_urls_are_refused_without_echoing_them(bad):
    with pytest.raises(ValueError) as caught:
        database_url(bad, None)
    assert "DATABASE_URL" in str(caught.value) and "secretpw" not in str(caught.value)


def test_default_is_sqlite_in_data_dir(tmp_path):
    db = Database(tmp_path / "data")
    assert db.dialect == "sqlite" and db.path == tmp_path / "data" / "customer-bot.sqlite3" and db.path.exists()
    db.close()


# ---------------------------------------------------------------------------- migrations


def test_schema_matches_migrations(state_db):
    """schema.py (what the code uses) and the Alembic revisions (what databases get) agree."""
    with state_db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    assert migrate.current(state_db) == migrate.head()


def test_opening_twice_and_concurrently_migrates_once(state_url):
    dbs = in_threads(4, lambda: Database(url=state_url))
    assert {migrate.current(db) for db in dbs} == {migrate.head()}
    for db in dbs:
        db.close()


# Today's exact DDL (bot/db.py, bot/audit.py, bot/approvals.py before bot/state existed).
OLD_DDL = """
CREATE TABLE IF NOT EXISTS seen_keys (key TEXT PRIMARY KEY, at TEXT NOT NULL DEFAULT (datetime('now')));
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    user_id TEXT NOT NULL,
    user_name TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    customer_id INTEGER,
    email TEXT NOT NULL DEFAULT '',
    before TEXT NOT NULL DEFAULT '{}',
    after TEXT NOT NULL DEFAULT '{}',
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    undoes INTEGER
);
CREATE INDEX IF NOT EXISTS audit_customer ON audit (customer_id, id);
CREATE INDEX IF NOT EXISTS audit_email ON audit (email, id);
CREATE TABLE IF NOT EXISTS applications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'open',
    channel TEXT NOT NULL DEFAULT '',
    ts TEXT NOT NULL DEFAULT '',
    posted_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE UNIQUE INDEX IF NOT EXISTS one_open_application
    ON applications (customer_id) WHERE state = 'open';
CREATE TABLE IF NOT EXISTS poll_state (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS applicants_seen (
    customer_id INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (customer_id, group_id)
);
"""


def write_old_file(data_dir) -> None:
    """A SQLite file as the first version of the bot left it, with rows in every table."""
    data_dir.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(data_dir / "customer-bot.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(OLD_DDL)
    rows = [
        ("2026-11-30T10:00:00+00:00", "U1", "alice", "move", 7, "jane@example.com", '{"group_id": 1}',
         '{"group_id": 2}', "done", "", None),
        ("2026-11-30T10:05:00+00:00", "U2", "", "delete", 7, "jane@example.com", "{}", "{}", "refused",
         "needs admin role", None),
        ("2026-11-30T10:06:00+00:00", "U1", "alice", "undo", 7, "jane@example.com", '{"group_id": 2}',
         '{"group_id": 1}', "done", "", 1),
    ]
    conn.executemany("INSERT INTO audit (at, user_id, user_name, action, customer_id, email, before, after,"
                     " outcome, detail, undoes) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.execute("INSERT INTO seen_keys (key) VALUES ('U1:1700000000.1:flag:7:enabled:0')")
    conn.execute("INSERT INTO applications (customer_id, group_id, email, channel, ts) VALUES (5, 2, 'a@x.com', 'C1', '1.2')")
    conn.execute("INSERT INTO applications (customer_id, group_id, email, state) VALUES (6, 2, 'b@x.com', 'closed')")
    conn.execute("INSERT INTO poll_state (name, value) VALUES ('last_full_scan', '2026-11-30T09:00:00+00:00')")
    conn.execute("INSERT INTO applicants_seen VALUES (5, 2, '2026-11-29T08:00:00+00:00')")
    conn.close()


def test_a_file_written_by_the_first_version_upgrades_in_place(tmp_path):
    write_old_file(tmp_path)
    db = Database(tmp_path)  # adopts the tables, then applies every later revision
    assert migrate.current(db) == migrate.head()

    audit = AuditLog(db)
    entries = audit.history(customer_id=7)
    assert [(e.id, e.action, e.outcome) for e in entries] == [(3, "undo", "done"), (2, "delete", "refused"), (1, "move", "done")]
    assert entries[2].before == {"group_id": 1} and entries[2].after == {"group_id": 2} and entries[2].who == "@alice"
    assert entries[2].at == datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
    assert audit.undo_of(1).id == 3 and audit.latest_done(7, ("move",)).id == 1
    assert audit.record(user_id="U3", action="move", outcome="done", customer_id=7) == 4  # ids go on

    seen = SeenKeys(db)  # the old key (stamped now by SQLite) survives the start-up pruning
    assert seen.first("U1:1700000000.1:flag:7:enabled:0") is False
    ledger = Ledger(db)  # the posted applications, now in the ledger (revision 0003)
    waiting = ledger.waiting_for(5)
    assert waiting.ts == "1.2" and ledger.waiting_for(6) is None
    assert ledger.claim_unposted() == []  # posted already: never again
    assert ledger.get_state("last_full_scan") == "2026-11-30T09:00:00+00:00"
    assert waiting.first_seen == datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc)
    db.close()

    with sqlite3.connect(tmp_path / "customer-bot.sqlite3") as raw:  # ... and in the file itself
        assert raw.execute("SELECT count(*) FROM audit").fetchone() == (4,)
        assert raw.execute("SELECT at FROM seen_keys").fetchone()[0].endswith("+00:00")


# ---------------------------------------------------------------------------- the trail


def test_trail_round_trip(state_db):
    audit = AuditLog(state_db)
    first = audit.record(user_id="U1", user_name="alice", action="move", outcome="done", customer_id=7,
                         email="Jane@Example.com", before={"group_id": 1}, after={"group_id": 2})
    audit.record(user_id="U2", action="delete", outcome="refused", customer_id=7, detail="needs admin role")
    move = audit.get(first)
    assert move.email == "jane@example.com" and move.before == {"group_id": 1} and move.after == {"group_id": 2}
    assert move.at.tzinfo is not None and abs((datetime.now(timezone.utc) - move.at).total_seconds()) < 60
    assert [e.action for e in audit.history(customer_id=7)] == ["delete", "move"]
    assert [e.customer_id for e in audit.history(email="JANE@example.com")] == [7]
    assert audit.get(first + 100) is None and audit.history() == []


def test_history_pages_and_filters_outcomes(state_db):
    audit = AuditLog(state_db)
    for n in range(7):
        audit.record(user_id="U1", action="move", outcome="done", customer_id=1, after={"group_id": n})
        audit.record(user_id="U2", action="move", outcome="refused", customer_id=1)
        audit.record(user_id="U1", action="move", outcome="no-op", customer_id=1)
    assert audit.count(customer_id=1) == 21 and audit.count(customer_id=1, outcomes=CHANGES) == 7
    page1 = audit.history(customer_id=1, limit=3, outcomes=CHANGES)
    page3 = audit.history(customer_id=1, limit=3, offset=6, outcomes=CHANGES)
    assert [e.after["group_id"] for e in page1] == [6, 5, 4] and [e.after["group_id"] for e in page3] == [0]
    assert {e.outcome for e in audit.history(customer_id=1, limit=50)} == {"done", "refused", "no-op"}


def test_write_ahead_rows_settle(state_db):
    audit = AuditLog(state_db)
    old = datetime.now(timezone.utc) - timedelta(minutes=10)
    a = audit.begin(user_id="U1", action="enable", customer_id=3, before={"enabled": False}, after={"enabled": True}, at=old)
    b = audit.begin(user_id="U1", action="enable", customer_id=4)
    assert [e.id for e in audit.unsettled()] == [a, b]
    assert [e.id for e in audit.unsettled(older_than=datetime.now(timezone.utc) - timedelta(minutes=1))] == [a]
    assert audit.settle(a, "in doubt", detail="Unavailable: timed out") is True
    assert audit.get(a).outcome == "in doubt" and [e.id for e in audit.unsettled()] == [a, b]
    assert audit.settle(a, "done", only_unsettled=True) is True
    assert audit.settle(a, "failed", only_unsettled=True) is False  # settled rows stay settled
    assert audit.get(a).outcome == "done" and audit.get(a).detail == "Unavailable: timed out"
    assert [e.id for e in audit.unsettled()] == [b]


# ---------------------------------------------------------------------------- click keys


def test_seen_keys_first_only_once_even_concurrently(state_db):
    seen = SeenKeys(state_db)
    results = in_threads(20, lambda: seen.first("U1:1700000000.123:flag:7:enabled:0"))
    assert results.count(True) == 1 and len(results) == 20
    assert seen.first("another") is True and seen.first("x" * 2000) is True and seen.first("x" * 600) is False


def test_seen_keys_are_shared_between_database_handles(state_url):
    one, two = Database(url=state_url), Database(url=state_url)
    assert SeenKeys(one).first("shared") is True
    assert SeenKeys(two).first("shared") is False
    one.close()
    two.close()


# ---------------------------------------------------------------------------- posted applicants


def test_poll_state(state_db):
    ledger = Ledger(state_db)
    assert ledger.get_state("k") is None
    ledger.set_state("k", "1")
    ledger.set_state("k", "2")
    assert ledger.get_state("k") == "2"


# ---------------------------------------------------------------------------- the command line


def run_bot(*args: str, env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    keep = {k: v for k, v in os.environ.items() if not k.upper().startswith(("DATABASE_URL", "DATA_DIR", "THREEDCART_"))}
    return subprocess.run([sys.executable, "-m", "bot", *args], env={**keep, **env}, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_db_upgrade_migrates_an_old_file_and_says_where(tmp_path):
    write_old_file(tmp_path / "data")
    done = run_bot("db", "upgrade", env={"DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"sqlite database at revision {migrate.head()} (newest: {migrate.head()})"
    assert AuditLog(Database(tmp_path / "data", migrate=False)).get(1).action == "move"


def test_db_upgrade_on_postgresql_from_a_heroku_style_url(pg_url, tmp_path):
    heroku = pg_url.replace("postgresql://", "postgres://", 1)
    done = run_bot("db", "upgrade", env={"DATABASE_URL": heroku, "PYTHONPATH": str(ROOT)}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"postgresql database at revision {migrate.head()}")


def test_an_unreachable_database_is_one_line_naming_the_variable(tmp_path):
    url = "postgresql://bot:hunter2secret@127.0.0.1:1/nowhere"
    done = run_bot("db", "upgrade", env={"DATABASE_URL": url, "PYTHONPATH": str(ROOT)}, cwd=tmp_path)
    assert done.returncode == 2
    assert "DATABASE_URL" in done.stderr and "hunter2secret" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
