"""Baseline: the tables of the first version of the bot, adopted where they already exist.

A SQLite file written before migrations existed already has these tables (created with
``CREATE TABLE IF NOT EXISTS`` at start-up) and no ``alembic_version``: each table and index is
created only when missing, so such a file upgrades in place with every row kept. Its times,
written by SQLite's ``datetime('now')`` (``2026-12-03 16:20:00``, UTC), are rewritten in the
ISO form the code writes (``2026-12-03T16:20:00+00:00``) so they compare as text.

Revision ID: 0001
Revises: -
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    bind = op.get_bind()
    tables = set(sa.inspect(bind).get_table_names())

    if "audit" not in tables:
        op.create_table(
            "audit",
            sa.Column("id", Id, primary_key=True, autoincrement=True),
            sa.Column("at", sa.Text, nullable=False),
            sa.Column("user_id", sa.Text, nullable=False),
            sa.Column("user_name", sa.Text, nullable=False, server_default=""),
            sa.Column("action", sa.Text, nullable=False),
            sa.Column("customer_id", sa.BigInteger),
            sa.Column("email", sa.Text, nullable=False, server_default=""),
            sa.Column("before", sa.Text, nullable=False, server_default="{}"),
            sa.Column("after", sa.Text, nullable=False, server_default="{}"),
            sa.Column("outcome", sa.Text, nullable=False),
            sa.Column("detail", sa.Text, nullable=False, server_default=""),
            sa.Column("undoes", sa.BigInteger),
            sqlite_autoincrement=True,
        )
    if "seen_keys" not in tables:
        op.create_table(
            "seen_keys",
            sa.Column("key", sa.Text, primary_key=True),
            sa.Column("at", sa.Text, nullable=False),
        )
    if "applications" not in tables:
        op.create_table(
            "applications",
            sa.Column("id", Id, primary_key=True, autoincrement=True),
            sa.Column("customer_id", sa.BigInteger, nullable=False),
            sa.Column("group_id", sa.BigInteger, nullable=False),
            sa.Column("email", sa.Text, nullable=False, server_default=""),
            sa.Column("state", sa.Text, nullable=False, server_default="open"),
            sa.Column("channel", sa.Text, nullable=False, server_default=""),
            sa.Column("ts", sa.Text, nullable=False, server_default=""),
            sa.Column("posted_at", sa.Text, nullable=False),
            sqlite_autoincrement=True,
        )
    if "poll_state" not in tables:
        op.create_table(
            "poll_state",
            sa.Column("name", sa.Text, primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
        )
    if "applicants_seen" not in tables:
        op.create_table(
            "applicants_seen",
            sa.Column("customer_id", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("group_id", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("first_seen", sa.Text, nullable=False),
        )

    indexes = {ix["name"] for table in ("audit", "applications") for ix in sa.inspect(bind).get_indexes(table)}
    if "audit_customer" not in indexes:
        op.create_index("audit_customer", "audit", ["customer_id", "id"])
    if "audit_email" not in indexes:
        op.create_index("audit_email", "audit", ["email", "id"])
    if "one_open_application" not in indexes:
        op.create_index("one_open_application", "applications", ["customer_id"], unique=True,
                        sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))

    # Old SQLite rows: "YYYY-MM-DD HH:MM:SS" (UTC, from datetime('now')) → ISO 8601 with offset.
    for table, column in (("seen_keys", "at"), ("applications", "posted_at")):
        op.execute(
            f"UPDATE {table} SET {column} = replace({column}, ' ', 'T') || '+00:00' "
            f"WHERE {column} LIKE '____-__-__ __:__:__'"
        )


def downgrade() -> None:
    for table in ("applicants_seen", "poll_state", "applications", "seen_keys", "audit"):
        op.drop_table(table)
