"""The audit trail, kept for the modules that import it from here: see ``bot/state/trail.py``."""

from __future__ import annotations

from .state.schema import utc_now
from .state.trail import CHANGES, UNSETTLED, AuditEntry, AuditLog, Outcome, TrailUnavailable

__all__ = ["CHANGES", "UNSETTLED", "AuditEntry", "AuditLog", "Outcome", "TrailUnavailable", "utc_now"]
