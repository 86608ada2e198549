"""The poller across crashes, pollers and hosts (issue 9 item 4), on SQLite and PostgreSQL.

A poller that dies between claiming an applicant and posting the message leaves a claim with
no message: the next poll after the claim timeout posts that applicant — once.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from bot.approvals import Poller
from bot.audit import AuditLog
from bot.desk import Desk
from bot.guard import Guard
from bot.state.applications import Ledger
from bot.state.engine import Database

try:
    from test_approvals import CAROL, GRACE, Channel
except ImportError:  # pragma: no cover
    from tests.test_approvals import CAROL, GRACE, Channel


def make_poller(service: Any, url: str, channel: Channel, claim_timeout: timedelta = timedelta(minutes=5)) -> Poller:
    db = Database(url=url)  # a process of its own: its own engine and connections
    desk = Desk(service, Guard({"UADMIN"}, set()), AuditLog(db), ledger=Ledger(db, claim_timeout=claim_timeout))
    return Poller(desk, channel)


def test_a_claim_left_by_a_dead_poller_is_posted_after_the_timeout(service, state_url):
    channel = Channel()
    dead = make_poller(service, state_url, channel)
    dead.desk.feed.refresh()  # the ledger has both applications ...
    claimed = dead.ledger.claim_unposted(limit=1)
    assert [a.customer_id for a, _ in claimed] == [CAROL]  # ... Carol's post claimed, and the process died

    make_poller(service, state_url, channel).poll_once()  # within the timeout: left alone
    assert channel.emails() == ["grace@example.com"]  # positive control: Grace was posted

    later = make_poller(service, state_url, channel, claim_timeout=timedelta(0))
    result = later.poll_once()  # the stale claim is taken over
    assert [a.customer_id for a in result.posted] == [CAROL]
    assert channel.emails() == ["carol@example.com", "grace@example.com"]
    later.poll_once()
    make_poller(service, state_url, channel).poll_once()  # a restart
    assert channel.emails() == ["carol@example.com", "grace@example.com"]  # still once each


def test_three_pollers_at_once_post_each_applicant_once(service, state_url):
    channel = Channel()
    pollers = [make_poller(service, state_url, channel) for _ in range(3)]
    barrier = threading.Barrier(len(pollers))
    errors: list[BaseException] = []

    def run(p: Poller) -> None:
        barrier.wait()
        try:
            for _ in range(3):
                p.poll_once()
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(p,)) for p in pollers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert channel.emails() == ["carol@example.com", "grace@example.com"]
    assert {pollers[0].ledger.waiting_for(cid).ts != "" for cid in (CAROL, GRACE)} == {True}


def test_everything_restarted_on_an_empty_data_dir_keeps_history_and_posts_nobody_again(sandbox, pg_url, tmp_path):
    """A host whose disk is new at every restart, with DATABASE_URL: nothing is lost."""
    from bot import intents as i
    from bot.config import load_settings
    from bot.guard import Actor
    from bot.runtime import build_runtime

    def runtime(data_dir: str) -> Any:
        return build_runtime(load_settings(
            data_dir=tmp_path / data_dir, database_url=pg_url, BOT_ADMINS="UADMIN", BOT_AGENTS="",
            threedcart_api_url=sandbox.url, threedcart_secure_url=sandbox.secure_url,
            threedcart_private_key=sandbox.private_key, threedcart_token=sandbox.token,
            store_requests_per_second=1000.0, store_timeout_seconds=3.0,
        ))

    channel = Channel()
    first = runtime("disk-1")
    Poller(first.desk, channel).poll_once()
    assert "now disabled" in first.desk.handle(i.parse("disable jane@example.com"), Actor("UADMIN", "alice")).text
    first.close()

    again = runtime("disk-2")  # a new, empty DATA_DIR
    try:
        assert not (tmp_path / "disk-2" / "customer-bot.sqlite3").exists()
        Poller(again.desk, channel).poll_once()
        assert channel.emails() == ["carol@example.com", "grace@example.com"]  # nobody posted again
        history = again.desk.handle(i.parse("history jane@example.com"), Actor("UADMIN", "alice"))
        assert any("@alice · disabled the account" in line for line in history.cards[0].lines)
    finally:
        again.close()
