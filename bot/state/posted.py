"""Where a message about an application went (channel and ts), as the Slack poster reports it.

The applications themselves — one row each, claimed before posting so that each applicant is
posted exactly once across pollers and hosts — are the ledger's (``state/applications.py``).
The first version's ``applications`` / ``applicants_seen`` tables stay in the schema only so
that revision 0003 could copy them into the ledger; nothing reads them any more.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PostedMessage:
    channel: str
    ts: str
