"""Wiring: settings → store connection, local database, audit trail, guard, desk.

Every surface (Slack over HTTP, Socket Mode, the console, the poller) builds one ``Runtime``
and renders the desk's Replies its own way.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from .audit import AuditLog
from .config import Settings
from .db import Database, SeenKeys
from .desk import Desk
from .guard import Guard
from .settle import Settler, start_settling
from .state.applications import Ledger
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
    settler: Settler | None = None
    _settling: threading.Event | None = field(default=None, repr=False)
    _closed: bool = field(default=False, repr=False)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._settling is not None:
            self._settling.set()
        self.store.close()
        self.db.close()


def build_runtime(settings: Settings) -> Runtime:
    db = open_database(settings)
    store = connect(settings)
    audit = AuditLog(db)
    guard = Guard(settings.bot_admins, settings.bot_agents)
    desk = Desk(
        store.service, guard, audit,
        deny_group_id=settings.deny_group_id,
        undo_window=timedelta(minutes=settings.undo_minutes),
        ledger=Ledger(db), applicant_group=settings.applicant_group, approved_group=settings.approved_group,
    )
    # A live writer is done with the store within its time budget; older unsettled rows are orphans.
    settler = Settler(store.service, audit, grace=timedelta(seconds=2 * settings.store_timeout_seconds + 5))
    settling = start_settling(settler, settings.settle_seconds) if settings.settle_seconds > 0 else None
    return Runtime(settings=settings, store=store, db=db, audit=audit, seen=SeenKeys(db), guard=guard, desk=desk,
                   settler=settler, _settling=settling)


def open_database(settings: Settings) -> Database:
    """The state database (``DATABASE_URL``, else SQLite in ``DATA_DIR``), migrated to the newest
    revision. Problems name the variable, never its value (the URL holds a password)."""
    from sqlalchemy.exc import SQLAlchemyError

    from .config import ConfigError
    from .state.engine import BadDatabaseUrl

    variable = "DATABASE_URL" if settings.database_url is not None else "DATA_DIR"
    try:
        return Database(settings.data_dir, url=settings.secret(settings.database_url))
    except BadDatabaseUrl as exc:
        raise ConfigError(f"Invalid setting: {exc}") from None
    except (SQLAlchemyError, OSError) as exc:
        raise ConfigError(f"Cannot open the state database named by {variable} ({type(exc).__name__}); "
                          "check that it is reachable and the credentials are right") from None


def database_password(settings: Settings) -> list[str]:
    """The password inside ``DATABASE_URL`` (a driver's message may quote it without the URL)."""
    if settings.database_url is None:
        return []
    from sqlalchemy.engine import make_url

    try:
        password = make_url(settings.database_url.get_secret_value().strip()).password
    except Exception:  # noqa: BLE001 — a malformed URL is reported at open, without its value
        return []
    return [str(password)] if password else []


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
            settings.database_url,
        ) if v is not None
    ]
    secrets += database_password(settings)
    logging.basicConfig(
        level=getattr(logging, settings.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)  # not a line per migration step at every start
    redact = RedactSecrets(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
