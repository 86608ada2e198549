"""Build the store stack from settings: backend client, cached service, and (demo) sandbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config import BACKEND_CREDENTIALS, Settings
from ..state.budget import RedisTokenBucket
from .backend import Backend
from .cache import RedisCache
from .http import TokenBucket
from .registry import DemoStore, factory
from .service import CustomerService

if TYPE_CHECKING:
    from ..state.shared import SharedRedis

log = logging.getLogger(__name__)


@dataclass
class StoreConnection:
    backend: Backend
    service: CustomerService
    sandbox: DemoStore | None = None
    backend_name: str = "threedcart"
    """The ``STORE_BACKEND`` name of the store (demo or real)."""
    label: str = "3dcart"

    def close(self) -> None:
        """Close the client's connections, then stop the embedded sandbox (if any)."""
        try:
            self.backend.close()
        finally:
            if self.sandbox is not None:
                self.sandbox.stop()


def connect(settings: Settings, *, shared: SharedRedis | None = None) -> StoreConnection:
    """The store the settings point at; its embedded demo sandbox when no credential is set.

    With ``shared`` (Redis), the cache and the store request budget are shared by every process.
    """
    chosen = factory(settings.backend)
    sandbox: DemoStore | None = None
    if settings.sandbox_mode:
        sandbox = chosen.demo()
        log.warning("SANDBOX MODE: %s, so the bot runs on DEMO DATA from an embedded %s sandbox store at %s — "
                    "no real store is read or changed.", sandbox_reason(settings), chosen.label, sandbox.url)
    try:
        if sandbox is not None:
            client = chosen.demo_client(sandbox, settings)
        else:
            client = chosen.client(settings, shared_limiter(settings, shared))
    except Exception:
        if sandbox is not None:
            sandbox.stop()
        raise
    cache = RedisCache(shared, flight_seconds=2 * settings.store_timeout_seconds) if shared is not None else None
    service = CustomerService(client, ttl=settings.cache_ttl_seconds, cache=cache)
    return StoreConnection(backend=client, service=service, sandbox=sandbox, backend_name=chosen.name, label=chosen.label)


def sandbox_reason(settings: Settings) -> str:
    """Why the bot runs on a demo store, as the log says it: ``SANDBOX`` chose it (the store
    credentials that are set, if any, are not used), or no store credentials are set."""
    prefixes = " / ".join(sorted({c.split("_")[0] + "_*" for creds in BACKEND_CREDENTIALS.values() for c in creds}))
    if settings.sandbox is None:
        return f"no store credentials ({prefixes}) are set"
    given = [c for creds in BACKEND_CREDENTIALS.values() for c in creds if getattr(settings, c.lower(), None) is not None]
    unused = " (the store credentials that are set are not used)" if given else ""
    return f"SANDBOX={settings.sandbox} is set{unused}"


def shared_limiter(settings: Settings, shared: SharedRedis | None) -> Any:
    """One store request budget for every process (Redis), or None: the client paces itself."""
    rate = settings.store_requests_per_second
    if shared is None or not rate:
        return None
    return RedisTokenBucket(shared, rate, settings.store_burst, fallback=TokenBucket(rate, settings.store_burst))

