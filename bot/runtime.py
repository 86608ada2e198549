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
from .config import ConfigError, Settings, check_data_dir
from .db import Database, SeenKeys
from .desk import Desk
from .guard import Guard
from .settle import Settler, start_settling
from .state.locks import LocalLease, LocalLocks, Lease, Locks, RedisLease, RedisLocks
from .state.seen import FirstSeen, RedisSeenKeys
from .state.shared import SharedRedis, connect_redis
from .reply import DEMO_BANNER
from .scrub import Scrubber
from .state.applications import Ledger
from .store.connect import StoreConnection, connect

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    store: StoreConnection
    db: Database
    audit: AuditLog
    seen: SeenKeys | FirstSeen
    guard: Guard
    desk: Desk
    settler: Settler | None = None
    _settling: threading.Event | None = field(default=None, repr=False)
    _closed: bool = field(default=False, repr=False)
    shared: SharedRedis | None = None
    """Redis (``REDIS_URL``): cache, locks, click keys, budget and lease shared by all processes."""
    poller_lease: Lease = field(default_factory=LocalLease)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._settling is not None:
            self._settling.set()
        self.store.close()
        self.db.close()
        if self.shared is not None:
            self.poller_lease.release()
            self.shared.close()


def build_runtime(settings: Settings) -> Runtime:
    settings = sandbox_state(settings)
    if settings.database_url is None:
        check_data_dir(settings.data_dir)
    shared = connect_shared(settings)
    db = open_database(settings)
    store = connect(settings, shared=shared)
    audit = AuditLog(db)
    guard = Guard(settings.bot_admins, settings.bot_agents)
    locks: Locks = LocalLocks()
    seen: SeenKeys | FirstSeen = SeenKeys(db)
    lease: Lease = LocalLease()
    if shared is not None:
        timeout = settings.store_timeout_seconds
        # held from the fresh re-read to the end of the write: two store calls, retries included
        locks = RedisLocks(shared, expire=4 * timeout + 20, wait=2 * timeout + 5)
        seen = RedisSeenKeys(shared, fallback=seen)
        lease = RedisLease(shared, "poller", seconds=max(3 * settings.poll_seconds, 5.0))
    desk = Desk(
        store.service, guard, audit,
        deny_group_id=settings.deny_group_id,
        undo_window=timedelta(minutes=settings.undo_minutes),
        locks=locks,
        banner=DEMO_BANNER if settings.sandbox_mode else "",
        ledger=Ledger(db), applicant_group=settings.applicant_group, approved_group=settings.approved_group,
    )
    # A live writer is done with the store within its time budget; older unsettled rows are orphans.
    settler = Settler(store.service, audit, grace=timedelta(seconds=2 * settings.store_timeout_seconds + 5),
                      on_done=desk.approvals.settled)
    settling = start_settling(settler, settings.settle_seconds) if settings.settle_seconds > 0 else None
    return Runtime(settings=settings, store=store, db=db, audit=audit, seen=seen, guard=guard, desk=desk,
                   settler=settler, _settling=settling, shared=shared, poller_lease=lease)


def sandbox_state(settings: Settings) -> Settings:
    """The settings without ``DATABASE_URL`` in sandbox mode: demo changes (Carol #3, Grace #7…)
    must not land in the real state database's ledger and audit trail, under ids real customers
    have too (they would show in the real ``history``, and typed ``undo`` could pick them).
    The demo's state goes to SQLite under ``DATA_DIR`` instead."""
    if not settings.sandbox_mode or settings.database_url is None:
        return settings
    log.warning("DATABASE_URL is ignored in sandbox mode: the demo's state goes to SQLite under DATA_DIR, "
                "never to the real state database")
    return settings.model_copy(update={"database_url": None})


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


def connect_shared(settings: Settings) -> SharedRedis | None:
    """Redis when ``REDIS_URL`` is set, except in sandbox mode (its demo store lives in this
    process; sharing its cache with other processes would mix demo stores)."""
    url = settings.secret(settings.redis_url)
    if not url:
        return None
    if settings.sandbox_mode:
        log.warning("REDIS_URL is ignored in sandbox mode: the demo store lives in this process only")
        return None
    try:
        shared = connect_redis(url, prefix=settings.redis_key_prefix, ssl_cert_reqs=settings.redis_ssl_cert_reqs,
                               ssl_ca_certs=settings.redis_ssl_ca_certs)
    except ValueError:  # redis-py's message may quote the URL, and with it the password
        raise ConfigError("Invalid setting: REDIS_URL (expected redis://, rediss:// or unix://)") from None
    if not shared.ping():
        log.warning("Redis does not answer at start: lookups go to the store, writes are refused until it does")
    return shared


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
        # every variant too: any case, URL-encoded, the bare host of a URL (see bot.scrub)
        self._scrubber = Scrubber(secrets, mask="[redacted]")

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._scrubber:
            return True
        message = record.getMessage()
        if self._scrubber.contains(message):
            record.msg, record.args = self._scrubber.scrub(message), None
        return True


def configure_logging(settings: Settings) -> None:
    secrets = [
        v.get_secret_value() for v in (
            settings.threedcart_secure_url, settings.threedcart_private_key, settings.threedcart_token,
            settings.bigcommerce_access_token,
            settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token,
            settings.database_url, settings.redis_url,
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
