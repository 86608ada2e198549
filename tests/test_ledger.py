"""The application ledger on SQLite and PostgreSQL: one waiting row per customer, the rules of
"seen enabled" and Dismiss, decisions that happen once, and the migration that keeps old rows."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

from sqlalchemy import text

from bot.state import migrate
from bot.state.applications import Ledger
from bot.state.engine import Database
from bot.state.posted import PostedMessage
from bot.store.models import Customer

try:
    from test_state import write_old_file
except ImportError:  # pragma: no cover
    from tests.test_state import write_old_file

WHOLESALE = 2


def applies(c: Customer) -> bool:
    """The Enabled rule for these tests: disabled in Wholesale."""
    return c.group_id == WHOLESALE and not c.enabled


def person(cid: int, *, enabled: bool = False, group: int = WHOLESALE, comments: str = "") -> Customer:
    return Customer(cid, f"c{cid}@example.com", "Cus", f"Tomer {cid}", group_id=group, enabled=enabled,
                    comments=comments)


def test_observe_opens_updates_and_withdraws(state_db):
    ledger = Ledger(state_db)
    opened = ledger.observe([person(1, comments="3 shops"), person(2, enabled=True)], applies, track_enabled=True,
                            origin="first start").opened
    assert [(a.customer_id, a.origin, a.customer.comments) for a in opened] == [(1, "first start", "3 shops")]
    again = ledger.observe([person(1, comments="4 shops now")], applies, track_enabled=True)
    assert again.opened == [] and ledger.waiting_for(1).customer.comments == "4 shops now"
    withdrawn = ledger.observe([person(1, enabled=True)], applies, track_enabled=True).withdrawn
    assert [(a.customer_id, a.state, a.detail) for a in withdrawn] == [(1, "withdrawn", "enabled in the store")]
    assert ledger.waiting() == []


def test_a_customer_seen_enabled_never_opens_an_application(state_db):
    ledger = Ledger(state_db)
    ledger.seen_enabled([person(3, enabled=True, group=0)], "lookup")
    ledger.observe([person(2, enabled=True)], applies, track_enabled=True)
    found = ledger.observe([person(2), person(3), person(4)], applies, track_enabled=True).opened
    assert [a.customer_id for a in found] == [4]  # 4: positive control
    assert Ledger(state_db).was_seen_enabled(3)  # shared by every handle on the database


def test_without_tracking_enabled_membership_alone_decides(state_db):
    ledger = Ledger(state_db)
    found = ledger.observe([person(5, enabled=True)], lambda c: c.group_id == WHOLESALE, track_enabled=False).opened
    assert [a.customer_id for a in found] == [5]


def test_a_dismissed_application_stays_dismissed_while_nothing_changes(state_db):
    ledger = Ledger(state_db)
    app = ledger.observe([person(6)], applies, track_enabled=True).opened[0]
    assert ledger.decide(app.id, "dismissed", user_id="U1", user_name="@ann").state == "dismissed"
    assert ledger.observe([person(6)], applies, track_enabled=True).opened == []
    assert ledger.latest_for(6).decided_by_name == "@ann"


def test_many_handles_observing_at_once_open_one_application(state_url):
    ledgers = [Ledger(Database(url=state_url)) for _ in range(4)]
    barrier = threading.Barrier(len(ledgers))
    opened: list[int] = []

    def run(ledger: Ledger) -> None:
        barrier.wait()
        opened.extend(a.customer_id for a in ledger.observe([person(7), person(8)], applies, track_enabled=True).opened)

    threads = [threading.Thread(target=run, args=(ledger,)) for ledger in ledgers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(opened) == [7, 8]
    assert [a.customer_id for a in ledgers[0].waiting()] == [7, 8]


def test_a_decision_happens_once_and_a_claim_posts_once(state_db):
    ledger = Ledger(state_db)
    app = ledger.observe([person(9)], applies, track_enabled=True).opened[0]
    claims = ledger.claim_unposted()
    assert [a.id for a, _ in claims] == [app.id] and ledger.claim_unposted() == []
    assert ledger.posted(app.id, PostedMessage("C1", "1.1")) and not ledger.posted(app.id, PostedMessage("C1", "2.2"))
    first = ledger.decide(app.id, "approved", user_id="U1", user_name="@ann")
    second = ledger.decide(app.id, "denied", user_id="U2", user_name="@bo")
    assert first is not None and first.state == "approved" and first.ts == "1.1" and second is None


def test_revision_0003_keeps_the_applications_already_posted(state_url):
    db = Database(url=state_url, migrate=False)
    migrate.upgrade(db, "0002")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO applications (customer_id, group_id, email, state, channel, ts, posted_at, "
                          "claim_token) VALUES (5, 2, 'a@x.com', 'open', 'C1', '1.2', '2026-11-30T10:00:00+00:00', '')"))
        conn.execute(text("INSERT INTO applications (customer_id, group_id, email, state, posted_at, claim_token) "
                          "VALUES (6, 2, 'b@x.com', 'closed', '2026-11-30T11:00:00+00:00', '')"))
        conn.execute(text("INSERT INTO applicants_seen VALUES (5, 2, '2026-11-29T08:00:00+00:00')"))
    migrate.upgrade(db)
    ledger = Ledger(db)
    waiting = ledger.waiting_for(5)
    assert (waiting.ts, waiting.origin, waiting.first_seen) == ("1.2", "before ledger",
                                                                 datetime(2026, 11, 29, 8, 0, tzinfo=timezone.utc))
    assert ledger.latest_for(6).state == "withdrawn" and ledger.waiting_for(6) is None
    assert ledger.claim_unposted() == []  # posted already: never again
    db.close()


def test_a_first_version_file_upgrades_into_the_ledger(tmp_path):
    write_old_file(tmp_path)
    db = Database(tmp_path)
    ledger = Ledger(db)
    assert ledger.waiting_for(5).ts == "1.2" and ledger.latest_for(6).state == "withdrawn"
    db.close()


def test_a_withdrawal_that_was_the_bots_approval_in_doubt_is_that_approval(state_db):
    """fix-appr 3 on both databases: the trail's approve row (in doubt) decides, not "withdrawn"."""
    from bot.state.trail import AuditLog

    ledger, audit = Ledger(state_db), AuditLog(state_db)
    ledger.observe([person(11), person(12), person(13)], applies, track_enabled=True)
    audit.record(user_id="UADMIN", user_name="alice", action="approve", outcome="in doubt", customer_id=11,
                 email="c11@example.com", before={"enabled": False}, after={"enabled": True})
    audit.record(user_id="UADMIN", user_name="alice", action="approve", outcome="failed", customer_id=12,
                 email="c12@example.com", before={"enabled": False}, after={"enabled": True})
    seen = ledger.observe([person(11, enabled=True), person(12, enabled=True)], applies, track_enabled=True)
    assert [(a.customer_id, a.state, a.decided_by_name) for a in seen.decided] == [(11, "approved", "@alice")]
    assert [(a.customer_id, a.state) for a in seen.withdrawn] == [(12, "withdrawn")]  # a failed row: not ours
    # the settle loop's path: a row settled done closes a waiting (or just withdrawn) application
    row = audit.record(user_id="UADMIN", user_name="alice", action="deny", outcome="done", customer_id=13,
                       email="c13@example.com", after={"group_id": 0, "enabled": True})
    decided = ledger.decided_by_trail(row)
    assert (decided.customer_id, decided.state, decided.decided_by) == (13, "denied", "UADMIN")
    assert ledger.decided_by_trail(row) is None and ledger.waiting() == []
