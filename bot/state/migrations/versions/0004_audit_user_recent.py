"""A quick way to a user's recent changes: typed ``undo`` asks the trail for the user's newest
undoable change within the undo window (``AuditLog.latest_undoable``), from any process.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("audit_user_recent", "audit", ["user_id", "at"])


def downgrade() -> None:
    op.drop_index("audit_user_recent", table_name="audit")
