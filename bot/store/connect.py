"""Build the store stack from settings: backend client, cached service, and (demo) sandbox."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..config import BACKEND_CREDENTIALS, Settings
from .backend import Backend
from .registry import DemoStore, factory
from .service import CustomerService

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


def connect(settings: Settings) -> StoreConnection:
    """The store the settings point at; its embedded demo sandbox when no credential is set."""
    chosen = factory(settings.backend)
    sandbox: DemoStore | None = None
    if settings.sandbox_mode:
        sandbox = chosen.demo()
        prefixes = " / ".join(sorted({c.split("_")[0] + "_*" for creds in BACKEND_CREDENTIALS.values() for c in creds}))
        log.warning(
            "SANDBOX MODE: no store credentials (%s) are set, so the bot runs on DEMO DATA from an "
            "embedded %s sandbox store at %s — no real store is read or changed.", prefixes, chosen.label, sandbox.url,
        )
    try:
        client = chosen.demo_client(sandbox, settings) if sandbox is not None else chosen.client(settings)
    except Exception:
        if sandbox is not None:
            sandbox.stop()
        raise
    service = CustomerService(client, ttl=settings.cache_ttl_seconds)
    return StoreConnection(backend=client, service=service, sandbox=sandbox, backend_name=chosen.name, label=chosen.label)
