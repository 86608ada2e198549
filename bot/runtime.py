"""Wiring: settings → store connection, local database, audit trail, guard, desk.

Every surface (Slack over HTTP, Socket Mode, the console, the poller) builds one ``Runtime``
and renders the desk's Replies its own way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from .approvals import ApplicationBook
from .audit import AuditLog
from .config import Settings
from .db import Database, SeenKeys
from .desk import Desk
from .guard import Guard
from .store.connect import StoreConnection, connect


@dataclass
class Runtime:
    settings: Settings
    store: StoreConnection
    db: Database
    audit: AuditLog
    seen: SeenKeys
    guard: Guard
    desk: Desk
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.store.close()
        self.db.close()


def build_runtime(settings: Settings) -> Runtime:
    store = connect(settings)
    db = Database(settings.data_dir)
    audit = AuditLog(db)
    guard = Guard(settings.bot_admins, settings.bot_agents)
    desk = Desk(
        store.service, guard, audit,
        deny_group_id=settings.deny_group_id,
        undo_window=timedelta(minutes=settings.undo_minutes),
        first_seen=ApplicationBook(db).first_seen,
    )
    return Runtime(settings=settings, store=store, db=db, audit=audit, seen=SeenKeys(db), guard=guard, desk=desk)


class RedactSecrets(logging.Filter):
    """Defence in depth: blank out any configured secret value that reaches a log record."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s and len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        if any(s in message for s in self._secrets):
            for s in self._secrets:
                message = message.replace(s, "[redacted]")
            record.msg, record.args = message, None
        return True


def configure_logging(settings: Settings) -> None:
    secrets = [
        v.get_secret_value() for v in (
            settings.threedcart_secure_url, settings.threedcart_private_key, settings.threedcart_token,
            settings.bigcommerce_access_token,
            settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token,
        ) if v is not None
    ]
    logging.basicConfig(
        level=getattr(logging, settings.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    redact = RedactSecrets(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
