"""The bot's tables, declared once for SQLite and PostgreSQL (SQLAlchemy Core).

This is what the running code reads and writes; the Alembic revisions in ``migrations/versions``
are how a database gets there. A change to a table here needs a new revision (see
``migrations/README.md``); the test ``test_schema_matches_migrations`` compares the two.

Times are stored as ISO 8601 text in UTC (``2026-12-03T16:20:00+00:00``): the format the first
version of the bot wrote, it sorts as text and reads back the same on both engines.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, Table, Text, text
from sqlalchemy.types import TypeDecorator

metadata = MetaData()

Id = BigInteger().with_variant(Integer(), "sqlite")
"""A surrogate key: BIGSERIAL in PostgreSQL, ``INTEGER PRIMARY KEY`` (the rowid) in SQLite."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def stamp(at: datetime) -> str:
    """The stored form of a time (aware datetimes only; naive ones are taken as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc).isoformat(timespec="seconds")


def parse_stamp(value: str) -> datetime:
    """A stored time back as an aware datetime (also the ``datetime('now')`` form of old rows)."""
    at = datetime.fromisoformat(value)
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


class Stamp(TypeDecorator[datetime]):
    """A UTC time kept as ISO 8601 text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> str | None:
        return None if value is None else stamp(value)

    def process_result_value(self, value: str | None, dialect: Any) -> datetime | None:
        return None if value is None else parse_stamp(value)


class JsonText(TypeDecorator[dict]):
    """A small JSON object kept as text (sorted keys, so equal values store equal)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: dict | None, dialect: Any) -> str:
        return json.dumps(value or {}, sort_keys=True)

    def process_result_value(self, value: str | None, dialect: Any) -> dict:
        return json.loads(value) if value else {}


audit = Table(
    "audit", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", Stamp, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("user_name", Text, nullable=False, server_default=""),
    Column("action", Text, nullable=False),
    Column("customer_id", BigInteger),
    Column("email", Text, nullable=False, server_default=""),
    Column("before", JsonText, nullable=False, server_default="{}"),
    Column("after", JsonText, nullable=False, server_default="{}"),
    Column("outcome", Text, nullable=False),
    Column("detail", Text, nullable=False, server_default=""),
    Column("undoes", BigInteger),
    Index("audit_customer", "customer_id", "id"),
    Index("audit_email", "email", "id"),
    Index("audit_user_recent", "user_id", "at"),  # typed ``undo``: a user's changes in the window
    Index("audit_unsettled", "outcome", sqlite_where=text("outcome IN ('sending', 'in doubt')"),
          postgresql_where=text("outcome IN ('sending', 'in doubt')")),
    sqlite_autoincrement=True,
)
"""One row per write the bot made, tried or refused. ``outcome`` is one of ``sending`` (recorded
before the store request), ``done``, ``failed``, ``in doubt``, ``no-op``, ``refused``."""

seen_keys = Table(
    "seen_keys", metadata,
    Column("key", Text, primary_key=True),
    Column("at", Stamp, nullable=False),
)
"""Click / delivery keys already handled (forgotten after two days)."""

applications = Table(
    "applications", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("customer_id", BigInteger, nullable=False),
    Column("group_id", BigInteger, nullable=False),
    Column("email", Text, nullable=False, server_default=""),
    Column("state", Text, nullable=False, server_default="open"),
    Column("channel", Text, nullable=False, server_default=""),
    Column("ts", Text, nullable=False, server_default=""),
    Column("posted_at", Stamp, nullable=False),
    Column("claimed_at", Stamp),
    Column("claim_token", Text, nullable=False, server_default=""),
    Index("one_open_application", "customer_id", unique=True,
          sqlite_where=text("state = 'open'"), postgresql_where=text("state = 'open'")),
    sqlite_autoincrement=True,
)
"""Applicants posted to the approvals channel: a row is claimed before the post (``ts`` empty)
and gets the message's channel and ts after it. One open row per customer."""

poll_state = Table(
    "poll_state", metadata,
    Column("name", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

applicants_seen = Table(
    "applicants_seen", metadata,
    Column("customer_id", BigInteger, primary_key=True, autoincrement=False),
    Column("group_id", BigInteger, primary_key=True, autoincrement=False),
    Column("first_seen", Stamp, nullable=False),
)
"""When the bot first saw each applicant waiting in a group (3dcart records carry no dates)."""

ledger = Table(
    "ledger", metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("customer_id", BigInteger, nullable=False),
    Column("group_id", BigInteger, nullable=False),
    Column("email", Text, nullable=False, server_default=""),
    Column("state", Text, nullable=False, server_default="waiting"),
    Column("origin", Text, nullable=False, server_default="poll"),
    Column("first_seen", Stamp, nullable=False),
    Column("customer", JsonText, nullable=False, server_default="{}"),
    Column("decided_at", Stamp),
    Column("decided_by", Text, nullable=False, server_default=""),
    Column("decided_by_name", Text, nullable=False, server_default=""),
    Column("detail", Text, nullable=False, server_default=""),
    Column("channel", Text, nullable=False, server_default=""),
    Column("ts", Text, nullable=False, server_default=""),
    Column("claimed_at", Stamp),
    Column("claim_token", Text, nullable=False, server_default=""),
    Index("one_waiting_application", "customer_id", unique=True,
          sqlite_where=text("state = 'waiting'"), postgresql_where=text("state = 'waiting'")),
    Index("ledger_customer", "customer_id", "id"),
    sqlite_autoincrement=True,
)
"""The application ledger: one row per application. ``state`` is ``waiting``, ``approved``,
``denied``, ``dismissed`` or ``withdrawn`` (left the queue in the store: enabled, moved, deleted);
``origin`` is ``poll`` (seen arriving), ``first start`` (found waiting when the bot first looked)
or ``before ledger`` (copied from ``applications``). ``customer`` keeps the last record seen (name,
company, store notes) so that ``pending`` needs no store read per applicant. ``channel`` / ``ts``:
the approvals-channel message, claimed (``claimed_at``) before it is posted. Supersedes the
``applications`` and ``applicants_seen`` tables (revision 0003 copied their rows here)."""

seen_enabled = Table(
    "seen_enabled", metadata,
    Column("customer_id", BigInteger, primary_key=True, autoincrement=False),
    Column("at", Stamp, nullable=False),
    Column("source", Text, nullable=False, server_default=""),
)
"""Customers the bot has seen enabled (or disabled itself): never new applicants."""
