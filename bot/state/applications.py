"""The application ledger (tables ``ledger`` and ``seen_enabled``): who applied, and what became of it.

One row per application, ``waiting`` until it is ``approved``, ``denied`` or ``dismissed`` (by an
admin, through the bot) or ``withdrawn`` (it left the queue in the store: the account was enabled
or moved there, or deleted). At most one waiting row per customer (a unique partial index), so
several pollers and several hosts feeding the ledger at once never open the same application
twice. The rules of *who* is an applicant live in ``bot/applicants.py``; this module only keeps
the rows.

Posting to the approvals channel is claimed on the row (``claimed_at`` / ``claim_token``) before
anything is sent, so each application is posted once; a claim whose post never happened (the
poller died in between) is taken over once it is older than the claim timeout.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update

from ..store.models import Customer
from .engine import Database
from .posted import PostedMessage
from .schema import audit, ledger, poll_state, seen_enabled, utc_now

CLAIM_TIMEOUT = timedelta(minutes=5)
DECIDED = ("approved", "denied", "dismissed")
STATES = ("waiting", *DECIDED, "withdrawn")
_CUSTOMER_FIELDS = tuple(f.name for f in fields(Customer) if f.name != "last_update")


@dataclass(frozen=True)
class Application:
    id: int
    customer_id: int
    group_id: int
    email: str
    state: str
    origin: str
    first_seen: datetime
    record: dict[str, Any] = field(default_factory=dict)
    decided_at: datetime | None = None
    decided_by: str = ""
    decided_by_name: str = ""
    detail: str = ""
    channel: str = ""
    ts: str = ""

    @property
    def customer(self) -> Customer:
        """The customer as last seen by the bot (from the row; no store read)."""
        known = {k: v for k, v in self.record.items() if k in _CUSTOMER_FIELDS}
        return Customer(**{"id": self.customer_id, "email": self.email, "group_id": self.group_id, **known})

    @property
    def posted(self) -> PostedMessage | None:
        return PostedMessage(self.channel, self.ts) if self.ts else None


@dataclass
class Observed:
    """What one batch of store records did to the ledger."""

    opened: list[Application] = field(default_factory=list)
    withdrawn: list[Application] = field(default_factory=list)
    decided: list[Application] = field(default_factory=list)
    """Closed as approved / denied by a write of the bot found in the audit trail (its answer was lost)."""


def draft(customer: Customer, *, origin: str = "poll") -> Application:
    """An application as it would be opened now, not stored (previews and tests of the wording)."""
    return Application(id=0, customer_id=customer.id, group_id=customer.group_id, email=customer.email,
                       state="waiting", origin=origin, first_seen=utc_now(), record=record_of(customer))


def withdrawal_reason(customer: Customer, *, applies: bool, track_enabled: bool, changed_by: str = "") -> str:
    """Why a waiting application left the queue, for its message. "Enabled" only where Enabled
    decides (``track_enabled``): on a store without it every record reads as enabled."""
    if applies:
        what = "moved to another group that needs approval"
    elif track_enabled and customer.enabled:
        what = "enabled"
    else:
        what = "moved out of the group"
    return f"{what} by {changed_by}" if changed_by else f"{what} in the store"


def record_of(customer: Customer) -> dict[str, Any]:
    data = asdict(customer)
    return {k: data[k] for k in _CUSTOMER_FIELDS if k not in ("id",)}


class Ledger:
    def __init__(self, db: Database, *, claim_timeout: timedelta = CLAIM_TIMEOUT) -> None:
        self._db = db
        self.claim_timeout = claim_timeout
        self._known_enabled: set[int] = set()  # already in seen_enabled: skip the write

    # ------------------------------------------------------------------ feeding

    def observe(self, customers: Iterable[Customer], qualifies: Callable[[Customer], bool], *,
                track_enabled: bool, origin: str = "poll", source: str = "poll", changed_by: str = "") -> Observed:
        """Bring the ledger up to date with these store records (one transaction).

        ``qualifies(c)``: the record has the shape of an application (``bot/applicants.py``).
        With ``track_enabled`` (stores with an Enabled flag, no APPLICANT_GROUP), an enabled
        record is remembered as seen enabled, and a customer ever seen enabled never opens a
        new application. A customer whose waiting application was dismissed in the same group
        does not open a new one while nothing changes. ``changed_by``: these records are the
        result of that user's write through the bot (a withdrawal then says "by @x", not "in the
        store").
        """
        records = {c.id: c for c in customers}
        result = Observed()
        if not records:
            return result
        now = utc_now()
        ids = list(records)
        with self._db.begin() as conn:
            if track_enabled:
                self._remember_enabled(conn, [c for c in records.values() if c.enabled], source, now)
            rows = conn.execute(select(ledger).where(ledger.c.customer_id.in_(ids))
                                .order_by(ledger.c.id)).mappings().all()
            latest: dict[int, Any] = {}
            waiting: dict[int, Any] = {}
            for row in rows:
                latest[row["customer_id"]] = row
                if row["state"] == "waiting":
                    waiting[row["customer_id"]] = row
            enabled_seen = set()
            if track_enabled:
                enabled_seen = set(conn.execute(select(seen_enabled.c.customer_id)
                                                .where(seen_enabled.c.customer_id.in_(ids))).scalars())
            for cid, customer in records.items():
                applies = qualifies(customer)
                row = waiting.get(cid)
                if row is not None:
                    if applies and row["group_id"] == customer.group_id:
                        conn.execute(update(ledger).where(ledger.c.id == row["id"])
                                     .values(email=customer.email, customer=record_of(customer)))
                    else:
                        why = withdrawal_reason(customer, applies=applies, track_enabled=track_enabled,
                                                changed_by=changed_by)
                        values: dict[str, Any] = dict(state="withdrawn", decided_at=now, detail=why)
                        written = None if applies else _decision_in_trail(conn, customer, row["first_seen"])
                        if written is not None:  # our own approve / deny whose store answer was lost
                            values = _decided_by_row(written, now)
                        gone = conn.execute(update(ledger).where(ledger.c.id == row["id"], ledger.c.state == "waiting")
                                            .values(**values, customer=record_of(customer))
                                            .returning(*ledger.c)).mappings().first()
                        if gone is not None:
                            (result.withdrawn if written is None else result.decided).append(_application(gone))
                        if applies and not (track_enabled and customer.enabled):
                            self._open(conn, customer, origin, now, result)
                    continue
                if not applies or cid in enabled_seen:
                    continue
                last = latest.get(cid)
                if last is not None and last["state"] == "dismissed" and last["group_id"] == customer.group_id:
                    continue
                if last is not None and last["state"] in ("approved", "denied") and track_enabled:
                    continue  # decided through the bot: enabled by it, so never a new applicant
                self._open(conn, customer, origin, now, result)
        return result

    def _open(self, conn: Any, customer: Customer, origin: str, now: datetime, result: Observed) -> None:
        row = conn.execute(self._db.insert_ignore(ledger).values(
            customer_id=customer.id, group_id=customer.group_id, email=customer.email, state="waiting",
            origin=origin, first_seen=now, customer=record_of(customer),
        ).returning(*ledger.c)).mappings().first()
        if row is not None:
            result.opened.append(_application(row))

    def seen_enabled(self, customers: Iterable[Customer], source: str) -> None:
        """Remember that the bot saw these customers enabled (lookups, writes)."""
        wanted = [c for c in customers if c.enabled and c.id not in self._known_enabled]
        if not wanted:
            return
        with self._db.begin() as conn:
            self._remember_enabled(conn, wanted, source, utc_now())

    def was_seen_enabled(self, customer_id: int) -> bool:
        with self._db.begin() as conn:
            return conn.execute(select(seen_enabled.c.customer_id)
                                .where(seen_enabled.c.customer_id == customer_id)).first() is not None

    def _remember_enabled(self, conn: Any, customers: list[Customer], source: str, now: datetime) -> None:
        fresh = [c for c in customers if c.id not in self._known_enabled]
        if fresh:
            conn.execute(self._db.insert_ignore(seen_enabled),
                         [{"customer_id": c.id, "at": now, "source": source} for c in fresh])
            self._known_enabled.update(c.id for c in fresh)
            if len(self._known_enabled) > 100_000:  # a hint only: the table is the truth
                self._known_enabled.clear()

    # ------------------------------------------------------------------ reading

    def waiting(self, customer_ids: Iterable[int] | None = None) -> list[Application]:
        """Waiting applications, first seen first (optionally only these customers)."""
        stmt = select(ledger).where(ledger.c.state == "waiting").order_by(ledger.c.first_seen, ledger.c.id)
        if customer_ids is not None:
            ids = list(customer_ids)
            if not ids:
                return []
            stmt = stmt.where(ledger.c.customer_id.in_(ids))
        with self._db.begin() as conn:
            return [_application(r) for r in conn.execute(stmt).mappings().all()]

    def count_waiting(self) -> int:
        with self._db.begin() as conn:
            return int(conn.execute(select(func.count()).select_from(ledger).where(ledger.c.state == "waiting")).scalar_one())

    def waiting_for(self, customer_id: int) -> Application | None:
        found = self.waiting([customer_id])
        return found[0] if found else None

    def latest_for(self, customer_id: int) -> Application | None:
        """The customer's newest application, in any state."""
        with self._db.begin() as conn:
            row = conn.execute(select(ledger).where(ledger.c.customer_id == customer_id)
                               .order_by(ledger.c.id.desc()).limit(1)).mappings().first()
        return _application(row) if row else None

    # ------------------------------------------------------------------ deciding

    def decide(self, application_id: int, state: str, *, user_id: str, user_name: str, detail: str = "",
               record: Customer | None = None, after_write: bool = False) -> Application | None:
        """Close a waiting application as ``approved`` / ``denied`` / ``dismissed``; None when it
        was no longer waiting (decided elsewhere a moment ago). ``after_write``: the bot's own store
        write made this decision, so a row a concurrent poll already marked ``withdrawn`` (it saw
        that very write) is corrected too."""
        if state not in DECIDED:
            raise ValueError(f"not a decision: {state}")
        values: dict[str, Any] = dict(state=state, decided_at=utc_now(), decided_by=user_id,
                                      decided_by_name=user_name, detail=detail)
        if record is not None:
            values["customer"] = record_of(record)
        with self._db.begin() as conn:
            open_states = ("waiting", "withdrawn") if after_write else ("waiting",)
            row = conn.execute(update(ledger).where(ledger.c.id == application_id, ledger.c.state.in_(open_states))
                               .values(**values).returning(*ledger.c)).mappings().first()
        return _application(row) if row else None

    def decided_by_trail(self, entry_id: int) -> Application | None:
        """The settle loop found audit row ``entry_id`` (an approve / deny) done in the store:
        close the customer's application as that row's decision if it is still waiting, or was
        marked withdrawn when the poller saw the change first. None when there was none."""
        with self._db.begin() as conn:
            written = conn.execute(select(audit).where(audit.c.id == entry_id)).mappings().first()
            if written is None or written["action"] not in TRAIL_DECISIONS or written["customer_id"] is None:
                return None
            row = conn.execute(select(ledger).where(ledger.c.customer_id == written["customer_id"],
                                                    ledger.c.first_seen <= written["at"])
                               .order_by(ledger.c.id.desc()).limit(1)).mappings().first()
            if row is None or row["state"] not in ("waiting", "withdrawn"):
                return None
            done = conn.execute(update(ledger).where(ledger.c.id == row["id"], ledger.c.state.in_(("waiting", "withdrawn")))
                                .values(**_decided_by_row(written, utc_now())).returning(*ledger.c)).mappings().first()
        return _application(done) if done else None

    # ------------------------------------------------------------------ posting

    def claim_unposted(self, limit: int = 50) -> list[tuple[Application, str]]:
        """Claim waiting applications not posted yet (nor claimed within the timeout)."""
        now = utc_now()
        stale = or_(ledger.c.claimed_at.is_(None), ledger.c.claimed_at <= now - self.claim_timeout)
        claimed: list[tuple[Application, str]] = []
        with self._db.begin() as conn:
            ids = conn.execute(select(ledger.c.id).where(ledger.c.state == "waiting", ledger.c.ts == "", stale)
                               .order_by(ledger.c.id).limit(limit)).scalars().all()
        for app_id in ids:
            token = secrets.token_hex(8)
            with self._db.begin() as conn:
                row = conn.execute(update(ledger).where(ledger.c.id == app_id, ledger.c.state == "waiting",
                                                        ledger.c.ts == "", stale)
                                   .values(claimed_at=now, claim_token=token).returning(*ledger.c)).mappings().first()
            if row is not None:
                claimed.append((_application(row), token))
        return claimed

    def posted(self, application_id: int, message: PostedMessage) -> bool:
        with self._db.begin() as conn:
            return conn.execute(update(ledger).where(ledger.c.id == application_id, ledger.c.ts == "")
                                .values(channel=message.channel, ts=message.ts)).rowcount == 1

    def release(self, application_id: int, token: str) -> None:
        """Posting failed: drop our claim so the next poll tries again."""
        with self._db.begin() as conn:
            conn.execute(update(ledger).where(ledger.c.id == application_id, ledger.c.claim_token == token,
                                              ledger.c.ts == "").values(claimed_at=None, claim_token=""))

    # ------------------------------------------------------------------ the feed's cursor

    def get_state(self, name: str) -> str | None:
        with self._db.begin() as conn:
            return conn.execute(select(poll_state.c.value).where(poll_state.c.name == name)).scalar()

    def set_state(self, name: str, value: str) -> None:
        with self._db.begin() as conn:
            conn.execute(self._db.upsert(poll_state, "name", {"name": name, "value": value}))


TRAIL_DECISIONS = {"approve": "approved", "deny": "denied"}
"""Audit actions that decide an application, and the state they close it in."""


def _decision_in_trail(conn: Any, customer: Customer, since: datetime) -> Any:
    """The newest approve / deny the bot sent for this customer since the application opened —
    done, in doubt or still sending — whose written fields the store now shows; or None."""
    rows = conn.execute(select(audit).where(audit.c.customer_id == customer.id, audit.c.at >= since,
                                            audit.c.action.in_(tuple(TRAIL_DECISIONS)),
                                            audit.c.outcome.in_(("done", "in doubt", "sending")))
                        .order_by(audit.c.id.desc()).limit(1)).mappings().all()
    for row in rows:
        after = row["after"] or {}
        if after and all(getattr(customer, k, None) == v for k, v in after.items()):
            return row
    return None


def _decided_by_row(written: Any, now: datetime) -> dict[str, Any]:
    state = TRAIL_DECISIONS[written["action"]]
    who = f"@{written['user_name']}" if written["user_name"] else written["user_id"]
    return dict(state=state, decided_at=now, decided_by=written["user_id"], decided_by_name=who,
                detail=f"{state} through the bot; the store's answer was lost, and the store shows the change")


def _application(row: Any) -> Application:
    return Application(
        id=int(row["id"]), customer_id=int(row["customer_id"]), group_id=int(row["group_id"]), email=row["email"],
        state=row["state"], origin=row["origin"], first_seen=row["first_seen"], record=dict(row["customer"] or {}),
        decided_at=row["decided_at"], decided_by=row["decided_by"], decided_by_name=row["decided_by_name"],
        detail=row["detail"], channel=row["channel"], ts=row["ts"],
    )


__all__ = ["Application", "CLAIM_TIMEOUT", "DECIDED", "Ledger", "Observed", "STATES", "draft", "record_of", "withdrawal_reason"]
