"""The audit trail: one row per write the bot made or refused, in SQLite under ``DATA_DIR``.

Rows hold who (Slack user id and name), what (action), which customer (id and email), the
fields before and after, and how it ended. Nothing in a row is a secret: error details are
the class name and the store's safe message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from .db import Database

Outcome = Literal["done", "no-op", "refused", "failed"]


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


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class AuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db
        with db.connection() as conn:
            conn.executescript(
                """
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
                """
            )

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
        stamp = (at or utc_now()).astimezone(timezone.utc).isoformat(timespec="seconds")
        with self._db.connection() as conn:
            cur = conn.execute(
                "INSERT INTO audit (at, user_id, user_name, action, customer_id, email, before, after,"
                " outcome, detail, undoes) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    stamp, user_id, user_name, action, customer_id, email.lower(),
                    json.dumps(before or {}, sort_keys=True), json.dumps(after or {}, sort_keys=True),
                    outcome, detail[:500], undoes,
                ),
            )
            return int(cur.lastrowid or 0)

    def get(self, entry_id: int) -> AuditEntry | None:
        with self._db.connection() as conn:
            row = conn.execute("SELECT * FROM audit WHERE id = ?", (entry_id,)).fetchone()
        return _entry(row) if row else None

    def history(self, *, customer_id: int | None = None, email: str = "", limit: int = 15) -> list[AuditEntry]:
        """Latest entries first, for a customer by id and/or email (a deleted customer keeps its email)."""
        clauses, args = [], []
        if customer_id is not None:
            clauses.append("customer_id = ?")
            args.append(customer_id)
        if email:
            clauses.append("email = ?")
            args.append(email.lower())
        if not clauses:
            return []
        sql = f"SELECT * FROM audit WHERE {' OR '.join(clauses)} ORDER BY id DESC LIMIT ?"
        with self._db.connection() as conn:
            rows = conn.execute(sql, (*args, limit)).fetchall()
        return [_entry(r) for r in rows]

    def latest_done(self, customer_id: int, actions: tuple[str, ...]) -> AuditEntry | None:
        marks = ",".join("?" for _ in actions)
        with self._db.connection() as conn:
            row = conn.execute(
                f"SELECT * FROM audit WHERE customer_id = ? AND outcome = 'done' AND action IN ({marks})"
                " ORDER BY id DESC LIMIT 1",
                (customer_id, *actions),
            ).fetchone()
        return _entry(row) if row else None

    def undo_of(self, entry_id: int) -> AuditEntry | None:
        with self._db.connection() as conn:
            row = conn.execute(
                "SELECT * FROM audit WHERE undoes = ? AND outcome = 'done' ORDER BY id LIMIT 1", (entry_id,)
            ).fetchone()
        return _entry(row) if row else None


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        at=datetime.fromisoformat(row["at"]),
        user_id=row["user_id"],
        user_name=row["user_name"],
        action=row["action"],
        customer_id=row["customer_id"],
        email=row["email"],
        before=json.loads(row["before"]),
        after=json.loads(row["after"]),
        outcome=row["outcome"],
        detail=row["detail"],
        undoes=row["undoes"],
    )
