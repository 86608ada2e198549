"""The audit trail: one row per write the bot made, tried or refused (table ``audit``).

Rows hold who (Slack user id and name), what (action), which customer (id and email), the
fields before and after, and how it ended. Nothing in a row is a secret: error details are
the class name and the store's safe message.

A write is recorded *before* it is sent (``begin``: outcome ``sending``) and settled after it
(``settle``: ``done``, ``failed`` or ``in doubt``). A row still ``sending`` or ``in doubt`` is
one whose process died or whose store answer was lost; ``bot.settle`` re-reads the customer
and settles it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from .engine import Database
from .schema import audit, utc_now

Outcome = Literal["sending", "done", "failed", "in doubt", "no-op", "refused"]
UNSETTLED: tuple[Outcome, ...] = ("sending", "in doubt")
CHANGES: tuple[Outcome, ...] = ("done", "failed", "sending", "in doubt")
"""Outcomes of writes that were (or may have been) sent: what ``history`` shows by default."""
UNDO_IMPOSSIBLE = ("changed since", "no longer exists")
"""Details of a ``no-op`` undo that can never succeed later (typed ``undo`` skips the change)."""


class TrailUnavailable(Exception):
    """The trail could not be read or written (database down, locked, disk full)."""


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    user_id: str
    user_name: str
    action: str
    customer_id: int | None
    email: str
    before: dict[str, Any]
    after: dict[str, Any]
    outcome: Outcome
    detail: str
    undoes: int | None

    @property
    def who(self) -> str:
        return f"@{self.user_name}" if self.user_name else self.user_id


class AuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(
        self,
        *,
        user_id: str,
        user_name: str = "",
        action: str,
        outcome: Outcome,
        customer_id: int | None = None,
        email: str = "",
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        detail: str = "",
        undoes: int | None = None,
        at: datetime | None = None,
    ) -> int:
        """Add a row; its id. Raises ``TrailUnavailable`` when it could not be committed."""
        values = dict(
            at=at or utc_now(), user_id=user_id, user_name=user_name, action=action, customer_id=customer_id,
            email=email.lower(), before=before or {}, after=after or {}, outcome=outcome, detail=detail[:500],
            undoes=undoes,
        )
        try:
            with self._db.begin() as conn:
                return int(conn.execute(audit.insert().values(**values).returning(audit.c.id)).scalar_one())
        except SQLAlchemyError as exc:
            raise TrailUnavailable(type(exc).__name__) from exc

    def begin(self, **row: Any) -> int:
        """Record a write about to be sent (outcome ``sending``); raises ``TrailUnavailable``."""
        return self.record(outcome="sending", **row)

    def settle(self, entry_id: int, outcome: Outcome, *, detail: str | None = None,
               only_unsettled: bool = False) -> bool:
        """Set how a recorded write ended. ``only_unsettled``: leave rows already settled alone
        (the settle loop must not overwrite what the writer itself found out). True if changed."""
        values: dict[str, Any] = {"outcome": outcome}
        if detail is not None:
            values["detail"] = detail[:500]
        stmt = update(audit).where(audit.c.id == entry_id).values(**values)
        if only_unsettled:
            stmt = stmt.where(audit.c.outcome.in_(UNSETTLED))
        try:
            with self._db.begin() as conn:
                return conn.execute(stmt).rowcount == 1
        except SQLAlchemyError as exc:
            raise TrailUnavailable(type(exc).__name__) from exc

    def unsettled(self, *, older_than: datetime | None = None, limit: int = 100) -> list[AuditEntry]:
        """Rows still ``sending`` or ``in doubt`` (oldest first), recorded before ``older_than``."""
        stmt = select(audit).where(audit.c.outcome.in_(UNSETTLED)).order_by(audit.c.id).limit(limit)
        if older_than is not None:
            stmt = stmt.where(audit.c.at <= older_than)
        return self._many(stmt)

    def get(self, entry_id: int) -> AuditEntry | None:
        rows = self._many(select(audit).where(audit.c.id == entry_id))
        return rows[0] if rows else None

    def history(self, *, customer_id: int | None = None, email: str = "", limit: int = 15, offset: int = 0,
                outcomes: Collection[str] | None = None) -> list[AuditEntry]:
        """Latest entries first, for a customer by id and/or email (a deleted customer keeps its
        email); only those with one of ``outcomes`` when given (e.g. ``CHANGES``)."""
        where = _customer_filter(customer_id, email, outcomes)
        if where is None:
            return []
        return self._many(select(audit).where(*where).order_by(audit.c.id.desc()).limit(limit).offset(offset))

    def count(self, *, customer_id: int | None = None, email: str = "", outcomes: Collection[str] | None = None) -> int:
        """How many entries ``history`` can page through with the same filter."""
        where = _customer_filter(customer_id, email, outcomes)
        if where is None:
            return 0
        with self._db.begin() as conn:
            return int(conn.execute(select(func.count()).select_from(audit).where(*where)).scalar_one())

    def latest_done(self, customer_id: int, actions: tuple[str, ...]) -> AuditEntry | None:
        rows = self._many(select(audit).where(
            audit.c.customer_id == customer_id, audit.c.outcome == "done", audit.c.action.in_(actions),
        ).order_by(audit.c.id.desc()).limit(1))
        return rows[0] if rows else None

    def undo_of(self, entry_id: int) -> AuditEntry | None:
        rows = self._many(select(audit).where(audit.c.undoes == entry_id, audit.c.outcome == "done")
                          .order_by(audit.c.id).limit(1))
        return rows[0] if rows else None

    def latest_undoable(self, user_id: str, actions: Collection[str], since: datetime, *,
                        limit: int = 1) -> list[AuditEntry]:
        """``user_id``'s newest changes (newest first) that typed ``undo`` may take: ``done``
        entries of one of ``actions`` on a customer, recorded at ``since`` or later, that no
        ``done`` undo has undone yet. Read from the trail, so every process and a restarted one
        agree on what is left to undo."""
        undone = audit.alias("undone")
        stmt = select(audit).where(
            audit.c.user_id == user_id, audit.c.outcome == "done", audit.c.action.in_(list(actions)),
            audit.c.customer_id.is_not(None), audit.c.at >= since,
            ~select(undone.c.id).where(undone.c.undoes == audit.c.id, undone.c.outcome == "done").exists(),
        ).order_by(audit.c.id.desc()).limit(limit)
        return self._many(stmt)

    def impossible_undos(self, user_id: str, entries: Collection[AuditEntry]) -> set[int]:
        """Which of ``entries`` typed ``undo`` need not try again, without a store read: the
        customer was deleted (by the bot) after the change, or an undo by ``user_id`` was already
        refused for it as changed since / no longer existing (a ``no-op`` undo row)."""
        ids = [e.id for e in entries]
        if not ids:
            return set()
        deleted = audit.alias("deleted")
        refused = select(audit.c.undoes).where(
            audit.c.user_id == user_id, audit.c.action == "undo", audit.c.outcome == "no-op",
            audit.c.undoes.in_(ids), audit.c.detail.in_(list(UNDO_IMPOSSIBLE)),
        )
        gone = select(audit.c.id).where(audit.c.id.in_(ids), select(deleted.c.id).where(
            deleted.c.customer_id == audit.c.customer_id, deleted.c.action == "delete",
            deleted.c.outcome == "done", deleted.c.id > audit.c.id,
        ).exists())
        with self._db.begin() as conn:
            return {int(v) for v in conn.execute(refused).scalars()} | {int(v) for v in conn.execute(gone).scalars()}

    def _many(self, stmt: Select[Any]) -> list[AuditEntry]:
        with self._db.begin() as conn:
            return [_entry(row) for row in conn.execute(stmt).mappings()]


def _customer_filter(customer_id: int | None, email: str, outcomes: Collection[str] | None) -> list[Any] | None:
    who = []
    if customer_id is not None:
        who.append(audit.c.customer_id == customer_id)
    if email:
        who.append(audit.c.email == email.lower())
    if not who:
        return None
    where = [or_(*who)]
    if outcomes is not None:
        where.append(audit.c.outcome.in_(list(outcomes)))
    return where


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row["id"], at=row["at"], user_id=row["user_id"], user_name=row["user_name"], action=row["action"],
        customer_id=row["customer_id"], email=row["email"], before=row["before"], after=row["after"],
        outcome=row["outcome"], detail=row["detail"], undoes=row["undoes"],
    )
