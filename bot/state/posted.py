"""Which wholesale applicants were posted where (tables ``applications``, ``applicants_seen``,
``poll_state``): "each applicant posted exactly once" as a SQL guarantee.

A post is *claimed* by inserting a row under a unique index (one open application per
customer) before anything is sent to Slack, so several pollers, on several hosts, never post
the same applicant twice. A claim whose message never got posted (the poller died in between)
is taken over by the next poll once it is older than ``claim_timeout``; the timeout is far
longer than a Slack post can take, so a live poller is never overtaken.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update

from ..store.models import Customer
from .engine import Database
from .schema import applicants_seen, applications, poll_state, utc_now

CLAIM_TIMEOUT = timedelta(minutes=5)


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

    def __init__(self, db: Database, *, claim_timeout: timedelta = CLAIM_TIMEOUT) -> None:
        self._db = db
        self.claim_timeout = claim_timeout
        self._tokens: dict[int, str] = {}
        self._tokens_lock = threading.Lock()

    def first_seen(self, applicants: list[Customer]) -> dict[int, datetime]:
        """When each applicant was first seen waiting in their group (recorded now if never)."""
        if not applicants:
            return {}
        now = utc_now()
        wanted = {(c.id, c.group_id) for c in applicants}
        with self._db.begin() as conn:
            conn.execute(self._db.insert_ignore(applicants_seen),
                         [{"customer_id": cid, "group_id": gid, "first_seen": now} for cid, gid in wanted])
            rows = conn.execute(select(applicants_seen).where(or_(*(
                and_(applicants_seen.c.customer_id == cid, applicants_seen.c.group_id == gid) for cid, gid in wanted
            )))).mappings().all()
        seen = {(r["customer_id"], r["group_id"]): r["first_seen"] for r in rows}
        return {c.id: seen[(c.id, c.group_id)] for c in applicants if (c.id, c.group_id) in seen}

    def claim(self, customer: Customer) -> int | None:
        """Reserve the right to post this application; None when it is already open (posted, or
        claimed by a poller within ``claim_timeout``)."""
        now, token = utc_now(), secrets.token_hex(8)
        values = dict(customer_id=customer.id, group_id=customer.group_id, email=customer.email, state="open",
                      posted_at=now, claimed_at=now, claim_token=token)
        with self._db.begin() as conn:
            new_id = conn.execute(self._db.insert_ignore(applications).values(**values)
                                  .returning(applications.c.id)).scalar()
            if new_id is None:  # open already: take it over only if its post never happened
                new_id = conn.execute(
                    update(applications)
                    .where(applications.c.customer_id == customer.id, applications.c.state == "open",
                           applications.c.ts == "",
                           or_(applications.c.claimed_at.is_(None), applications.c.claimed_at <= now - self.claim_timeout))
                    .values(group_id=customer.group_id, email=customer.email, posted_at=now, claimed_at=now,
                            claim_token=token)
                    .returning(applications.c.id)
                ).scalar()
        if new_id is None:
            return None
        with self._tokens_lock:
            self._tokens[int(new_id)] = token
        return int(new_id)

    def has_stale_claims(self) -> bool:
        """Is any claim older than ``claim_timeout`` still without its message?"""
        with self._db.begin() as conn:
            return conn.execute(select(applications.c.id).where(
                applications.c.state == "open", applications.c.ts == "",
                or_(applications.c.claimed_at.is_(None), applications.c.claimed_at <= utc_now() - self.claim_timeout),
            ).limit(1)).first() is not None

    def posted(self, application_id: int, message: PostedMessage) -> bool:
        """Record where the claimed application was posted (False: another poller's post won)."""
        with self._tokens_lock:
            self._tokens.pop(application_id, None)
        with self._db.begin() as conn:
            return conn.execute(
                update(applications).where(applications.c.id == application_id, applications.c.ts == "")
                .values(channel=message.channel, ts=message.ts)
            ).rowcount == 1

    def release(self, application_id: int) -> None:
        """Posting failed: drop the claim (if still ours) so the next poll tries again."""
        with self._tokens_lock:
            token = self._tokens.pop(application_id, None)
        stmt = delete(applications).where(applications.c.id == application_id, applications.c.ts == "")
        if token is not None:
            stmt = stmt.where(applications.c.claim_token == token)
        with self._db.begin() as conn:
            conn.execute(stmt)

    def close(self, customer_id: int) -> Application | None:
        """The applicant is no longer pending: a later application gets a new post."""
        with self._db.begin() as conn:
            row = conn.execute(
                update(applications).where(applications.c.customer_id == customer_id, applications.c.state == "open")
                .values(state="closed").returning(*applications.c)
            ).mappings().first()
        return _application(row) if row else None

    def open_for(self, customer_id: int) -> Application | None:
        with self._db.begin() as conn:
            row = conn.execute(select(applications).where(
                applications.c.customer_id == customer_id, applications.c.state == "open")).mappings().first()
        return _application(row) if row else None

    def get_state(self, name: str) -> str | None:
        with self._db.begin() as conn:
            return conn.execute(select(poll_state.c.value).where(poll_state.c.name == name)).scalar()

    def clear_state(self, name: str) -> None:
        with self._db.begin() as conn:
            conn.execute(delete(poll_state).where(poll_state.c.name == name))

    def set_state(self, name: str, value: str) -> None:
        with self._db.begin() as conn:
            conn.execute(self._db.upsert(poll_state, "name", {"name": name, "value": value}))


def _application(row: Any) -> Application:
    return Application(row["id"], row["customer_id"], row["group_id"], row["state"], row["channel"], row["ts"])
