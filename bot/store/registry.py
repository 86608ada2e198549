"""The store backends the bot can serve, by ``STORE_BACKEND`` name: one small factory table.

Each entry knows how to build its client from ``Settings`` (the real store) and how to start its
embedded demo store and point a client at it (sandbox mode). ``connect.py`` picks the entry from
``settings.backend``; nothing else needs to know which stores exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..config import Settings
from .backend import Backend


class DemoStore(Protocol):
    """What the rest of the bot may ask of an embedded demo store."""

    url: str

    def stop(self) -> None: ...

    def customers(self) -> list[dict[str, Any]]: ...

    def groups(self) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class BackendFactory:
    name: str
    """The ``STORE_BACKEND`` / ``SANDBOX`` value."""
    label: str
    """How messages name the store: "3dcart", "BigCommerce"."""
    client: Callable[[Settings, Any], Backend]
    """The client for the real store, from the settings' credentials, and a shared request
    budget (``limiter``, any ``http.Limiter``) or None for the client's own."""
    demo: Callable[[], DemoStore]
    """Start the embedded demo store (on a free port)."""
    demo_client: Callable[[Any, Settings], Backend]
    """A client for a started demo store."""
    api_url: Callable[[Settings], str]
    """The API address the settings point at (shown by the console; never a secret)."""


def _client_options(settings: Settings, *, paced: bool, limiter: Any = None) -> dict[str, Any]:
    return {
        "limiter": limiter,
        "timeout": settings.store_timeout_seconds,
        "total_budget": settings.store_timeout_seconds,
        "requests_per_second": settings.store_requests_per_second if paced else None,
        "burst": settings.store_burst,
    }


def _threedcart(settings: Settings, limiter: Any = None) -> Backend:
    from .threedcart import ThreeDCartClient

    return ThreeDCartClient(
        settings.threedcart_api_url,
        settings.secret(settings.threedcart_secure_url) or "",
        settings.secret(settings.threedcart_private_key) or "",
        settings.secret(settings.threedcart_token) or "",
        **_client_options(settings, paced=True, limiter=limiter),
    )


def _threedcart_demo() -> DemoStore:
    from ..sandbox.threedcart import SandboxStore

    return SandboxStore(port=0).start()


def _threedcart_demo_client(store: Any, settings: Settings) -> Backend:
    from .threedcart import ThreeDCartClient

    return ThreeDCartClient(store.url, store.secure_url, store.private_key, store.token,
                            **_client_options(settings, paced=False))


def _bigcommerce(settings: Settings, limiter: Any = None) -> Backend:
    from .bigcommerce.client import BigCommerceClient

    return BigCommerceClient(settings.bigcommerce_url, settings.secret(settings.bigcommerce_access_token) or "",
                             **_client_options(settings, paced=True, limiter=limiter))


def _bigcommerce_demo() -> DemoStore:
    from ..sandbox.bigcommerce import BigCommerceSandbox

    return BigCommerceSandbox(port=0).start()  # type: ignore[return-value]


def _bigcommerce_demo_client(store: Any, settings: Settings) -> Backend:
    from .bigcommerce.client import BigCommerceClient

    return BigCommerceClient(store.url, store.access_token, **_client_options(settings, paced=False))


BACKENDS: dict[str, BackendFactory] = {
    "threedcart": BackendFactory("threedcart", "3dcart", _threedcart, _threedcart_demo, _threedcart_demo_client,
                                 lambda s: s.threedcart_api_url),
    "bigcommerce": BackendFactory("bigcommerce", "BigCommerce", _bigcommerce, _bigcommerce_demo,
                                  _bigcommerce_demo_client, lambda s: s.bigcommerce_url),
}


def factory(name: str) -> BackendFactory:
    try:
        return BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown store backend {name!r}") from None
