"""New wholesale applicants come to the team: find them cheaply, post each one once.

A *pending applicant* is a customer with ``Enabled: false`` in a group whose ``AutoApprove`` is
false. The poller asks the store only for customers changed recently (``lastupdatestart``),
not for every customer, and remembers in SQLite which applications it has posted, so "once"
holds across restarts and across several poller processes: a post is *claimed* by inserting a
row under a unique index before anything is sent to Slack.

Why the look-back window is a day and not "since the last poll": 3dcart filters on its own
store-local clock, whose time zone the bot cannot know. A window that wide covers any zone,
and the posted-applications table makes the overlap harmless.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .db import Database
from .desk import Desk
from .reply import Reply
from .store.errors import StoreError
from .store.models import Customer

log = logging.getLogger(__name__)

LOOK_BACK = timedelta(hours=26)

Post = Callable[[Reply], "PostedMessage | None"]
"""Sends a Reply to the approvals channel; answers where it went, or None when it failed."""


@dataclass(frozen=True)
class PostedMessage:
    channel: str
    ts: str


@dataclass(frozen=True)
class Application:
    id: int
    customer_id: int
    group_id: int
    state: str
    channel: str
    ts: str


class ApplicationBook:
    """Which applications were posted where. One *open* application per customer at a time."""

    def __init__(self, db: Database) -> None:
        self._db = db
        with db.connection() as conn:
            conn.executescript(
                """
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
            )

    def first_seen(self, applicants: list[Customer]) -> dict[int, datetime]:
        """When each applicant was first seen waiting in their group (recorded now if never)."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._db.transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO applicants_seen (customer_id, group_id, first_seen) VALUES (?, ?, ?)",
                [(c.id, c.group_id, now) for c in applicants],
            )
            rows = [conn.execute("SELECT first_seen FROM applicants_seen WHERE customer_id = ? AND group_id = ?",
                                 (c.id, c.group_id)).fetchone() for c in applicants]
        return {c.id: datetime.fromisoformat(row["first_seen"]) for c, row in zip(applicants, rows) if row}

    def claim(self, customer: Customer) -> int | None:
        """Reserve the right to post this application; None when it is already open (posted)."""
        with self._db.connection() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO applications (customer_id, group_id, email) VALUES (?, ?, ?)",
                (customer.id, customer.group_id, customer.email),
            )
            return int(cur.lastrowid) if cur.rowcount == 1 else None

    def posted(self, application_id: int, message: PostedMessage) -> None:
        with self._db.connection() as conn:
            conn.execute("UPDATE applications SET channel = ?, ts = ? WHERE id = ?",
                         (message.channel, message.ts, application_id))

    def release(self, application_id: int) -> None:
        """Posting failed: drop the claim so the next poll tries again."""
        with self._db.connection() as conn:
            conn.execute("DELETE FROM applications WHERE id = ? AND ts = ''", (application_id,))

    def close(self, customer_id: int) -> Application | None:
        """The applicant is no longer pending: a later application gets a new post."""
        with self._db.transaction() as conn:
            row = conn.execute("SELECT * FROM applications WHERE customer_id = ? AND state = 'open'",
                               (customer_id,)).fetchone()
            if row is None:
                return None
            conn.execute("UPDATE applications SET state = 'closed' WHERE id = ?", (row["id"],))
        return _application(row)

    def open_for(self, customer_id: int) -> Application | None:
        with self._db.connection() as conn:
            row = conn.execute("SELECT * FROM applications WHERE customer_id = ? AND state = 'open'",
                               (customer_id,)).fetchone()
        return _application(row) if row else None

    def get_state(self, name: str) -> str | None:
        with self._db.connection() as conn:
            row = conn.execute("SELECT value FROM poll_state WHERE name = ?", (name,)).fetchone()
        return row["value"] if row else None

    def clear_state(self, name: str) -> None:
        with self._db.connection() as conn:
            conn.execute("DELETE FROM poll_state WHERE name = ?", (name,))

    def set_state(self, name: str, value: str) -> None:
        with self._db.connection() as conn:
            conn.execute("INSERT INTO poll_state (name, value) VALUES (?, ?) "
                         "ON CONFLICT(name) DO UPDATE SET value = excluded.value", (name, value))


def _application(row) -> Application:  # type: ignore[no-untyped-def]
    return Application(row["id"], row["customer_id"], row["group_id"], row["state"], row["channel"], row["ts"])


@dataclass
class PollResult:
    posted: list[Customer]
    closed: list[int]
    failed: list[Customer]


class Poller:
    """One poll = one cheap store query + one post per new applicant."""

    def __init__(self, desk: Desk, book: ApplicationBook, post: Post, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.desk = desk
        self.book = book
        self.post = post
        self._clock = clock

    def poll_once(self) -> PollResult:
        service = self.desk.service
        # A full scan of the pending groups on the first poll, and after any failed post (a
        # failed applicant may not show up among recent changes again); recent changes otherwise.
        full_scan = self.book.get_state("last_full_scan") is None
        started = self._clock()
        if full_scan:
            changed = service.pending_applicants(fresh=True)
        else:
            changed = service.changed_since(started - LOOK_BACK)
        result = PollResult([], [], [])
        for customer in changed:
            if self.desk.is_pending(customer):
                self._post_new(customer, result)
            elif self.book.close(customer.id) is not None:
                result.closed.append(customer.id)
        if result.failed:
            self.book.clear_state("last_full_scan")
        elif full_scan:
            self.book.set_state("last_full_scan", started.isoformat())
        return result

    def _post_new(self, customer: Customer, result: PollResult) -> None:
        application_id = self.book.claim(customer)
        if application_id is None:
            return
        reply = self.desk.applicant_reply(customer)
        try:
            message = self.post(reply)
        except Exception:  # noqa: BLE001 — a failed post is retried on the next poll
            log.exception("posting applicant %s failed", customer.id)
            message = None
        if message is None:
            self.book.release(application_id)
            result.failed.append(customer)
            return
        self.book.posted(application_id, message)
        result.posted.append(customer)

    def run(self, interval: float, stop: threading.Event) -> None:
        """Poll every ``interval`` seconds until ``stop`` is set; store trouble is logged, not fatal."""
        while not stop.is_set():
            try:
                result = self.poll_once()
                if result.posted or result.failed:
                    log.info("poll: posted %d new applicant(s), %d failed", len(result.posted), len(result.failed))
            except StoreError as exc:
                log.warning("poll: store problem (%s): %s", type(exc).__name__, exc)
            except Exception:  # noqa: BLE001 — keep polling
                log.exception("poll failed")
            stop.wait(interval)


def start_background_poller(poller: Poller, interval: float) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(interval, stop), name="approvals-poller", daemon=True)
    thread.start()
    return thread, stop
