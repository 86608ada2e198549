"""Build the store stack from settings: backend client, cached service, and (demo) sandbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..state.budget import RedisTokenBucket
from .backend import Backend
from .cache import RedisCache
from .sandbox import SandboxStore
from .service import CustomerService
from .threedcart import ThreeDCartClient, TokenBucket

if TYPE_CHECKING:
    from ..state.shared import SharedRedis

log = logging.getLogger(__name__)


@dataclass
class StoreConnection:
    backend: Backend
    service: CustomerService
    sandbox: SandboxStore | None = None

    def close(self) -> None:
        """Close the client's connections, then stop the embedded sandbox (if any)."""
        try:
            self.backend.close()
        finally:
            if self.sandbox is not None:
                self.sandbox.stop()


def connect(settings: Settings, *, shared: SharedRedis | None = None) -> StoreConnection:
    """The store the settings point at; the embedded demo sandbox when no credential is set.

    With ``shared`` (Redis), the cache and the store request budget are shared by every process.
    """
    sandbox: SandboxStore | None = None
    if settings.sandbox_mode:
        sandbox = SandboxStore(port=0).start()
        log.warning(
            "SANDBOX MODE: no THREEDCART_* credentials are set, so the bot runs on DEMO DATA from an "
            "embedded sandbox store at %s — no real store is read or changed.", sandbox.url,
        )
        api_url, secure_url, private_key, token = sandbox.url, sandbox.secure_url, sandbox.private_key, sandbox.token
        rate: float | None = None
    else:
        api_url = settings.threedcart_api_url
        secure_url, private_key, token = (
            settings.secret(settings.threedcart_secure_url) or "",
            settings.secret(settings.threedcart_private_key) or "",
            settings.secret(settings.threedcart_token) or "",
        )
        rate = settings.store_requests_per_second
    limiter: Any = None
    if shared is not None and rate:  # one budget for every process (sandbox mode: no pacing, no Redis)
        limiter = RedisTokenBucket(shared, rate, settings.store_burst, fallback=TokenBucket(rate, settings.store_burst))
    try:
        client = ThreeDCartClient(
            api_url, secure_url, private_key, token,
            timeout=settings.store_timeout_seconds,
            total_budget=settings.store_timeout_seconds,
            requests_per_second=rate,
            burst=settings.store_burst,
            limiter=limiter,
        )
    except Exception:
        if sandbox is not None:
            sandbox.stop()
        raise
    cache = RedisCache(shared, flight_seconds=2 * settings.store_timeout_seconds) if shared is not None else None
    service = CustomerService(client, ttl=settings.cache_ttl_seconds, cache=cache)
    return StoreConnection(backend=client, service=service, sandbox=sandbox)

