"""The application ledger (``ledger``) and the customers seen enabled (``seen_enabled``).

Existing rows are kept: every row of ``applications`` is copied into ``ledger`` (an ``open`` one
stays ``waiting`` with its message; a ``closed`` one becomes ``withdrawn``), with its first-seen
time from ``applicants_seen`` when known, else the time it was posted, and ``origin`` ``before
ledger``. The old tables stay as they were (nothing reads them any more).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WAITING = "state = 'waiting'"


def upgrade() -> None:
    op.create_table(
        "ledger",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.BigInteger, nullable=False),
        sa.Column("group_id", sa.BigInteger, nullable=False),
        sa.Column("email", sa.Text, nullable=False, server_default=""),
        sa.Column("state", sa.Text, nullable=False, server_default="waiting"),
        sa.Column("origin", sa.Text, nullable=False, server_default="poll"),
        sa.Column("first_seen", sa.Text, nullable=False),
        sa.Column("customer", sa.Text, nullable=False, server_default="{}"),
        sa.Column("decided_at", sa.Text),
        sa.Column("decided_by", sa.Text, nullable=False, server_default=""),
        sa.Column("decided_by_name", sa.Text, nullable=False, server_default=""),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("channel", sa.Text, nullable=False, server_default=""),
        sa.Column("ts", sa.Text, nullable=False, server_default=""),
        sa.Column("claimed_at", sa.Text),
        sa.Column("claim_token", sa.Text, nullable=False, server_default=""),
        sqlite_autoincrement=True,
    )
    op.create_index("one_waiting_application", "ledger", ["customer_id"], unique=True,
                    sqlite_where=sa.text(WAITING), postgresql_where=sa.text(WAITING))
    op.create_index("ledger_customer", "ledger", ["customer_id", "id"])
    op.create_table(
        "seen_enabled",
        sa.Column("customer_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False, server_default=""),
    )
    op.execute(
        "INSERT INTO ledger (customer_id, group_id, email, state, origin, first_seen, channel, ts, claimed_at, "
        "claim_token, detail) "
        "SELECT a.customer_id, a.group_id, a.email, "
        "CASE WHEN a.state = 'open' THEN 'waiting' ELSE 'withdrawn' END, 'before ledger', "
        "COALESCE((SELECT s.first_seen FROM applicants_seen s WHERE s.customer_id = a.customer_id "
        "AND s.group_id = a.group_id), a.posted_at), a.channel, a.ts, a.claimed_at, a.claim_token, "
        "CASE WHEN a.state = 'open' THEN '' ELSE 'closed before the ledger (the audit trail has the decision)' END "
        "FROM applications a ORDER BY a.id"
    )


def downgrade() -> None:
    op.drop_table("seen_enabled")
    op.drop_index("ledger_customer", table_name="ledger")
    op.drop_index("one_waiting_application", table_name="ledger")
    op.drop_table("ledger")
