"""Claims that expire, and a quick way to the writes still to settle.

``applications.claimed_at`` / ``claim_token``: a poller that died between claiming an applicant
and posting the message left a claim with no message; another poller may take such a claim
over once it is older than the claim timeout (the token tells the two apart).

``audit_unsettled``: the settle loop looks for rows still ``sending`` or ``in doubt``.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UNSETTLED = "outcome IN ('sending', 'in doubt')"


def upgrade() -> None:
    op.add_column("applications", sa.Column("claimed_at", sa.Text))
    op.add_column("applications", sa.Column("claim_token", sa.Text, nullable=False, server_default=""))
    op.execute("UPDATE applications SET claimed_at = posted_at")
    op.create_index("audit_unsettled", "audit", ["outcome"],
                    sqlite_where=sa.text(UNSETTLED), postgresql_where=sa.text(UNSETTLED))


def downgrade() -> None:
    op.drop_index("audit_unsettled", table_name="audit")
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("claim_token")
        batch.drop_column("claimed_at")
