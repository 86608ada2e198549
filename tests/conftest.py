"""Shared fixtures: a real sandbox store over local HTTP, a 3dcart client, the cached service.

Other test modules use ``sandbox``, ``client`` and ``service`` by name; keep them stable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.store.sandbox import SandboxStore
from bot.store.service import CustomerService
from bot.store.threedcart import ThreeDCartClient

FAST = {
    "timeout": 2.0,            # per attempt
    "total_budget": 3.0,       # per call, retries and waits included
    "requests_per_second": None,
    "backoff_factor": 0.05,
}
"""Client options for tests: short timeouts, quick backoff, no client-side pacing."""


@pytest.fixture
def sandbox() -> Iterator[SandboxStore]:
    """A fresh sandbox store with the demo data, served on a free port for this test only."""
    store = SandboxStore(port=0).start()
    try:
        yield store
    finally:
        store.stop()


@pytest.fixture
def make_client(sandbox: SandboxStore) -> Iterator[Callable[..., ThreeDCartClient]]:
    """Build more clients against ``sandbox`` (keywords override the credentials and ``FAST``);
    all closed afterwards."""
    made: list[ThreeDCartClient] = []

    def build(store: SandboxStore | None = None, **options: Any) -> ThreeDCartClient:
        store = store or sandbox
        client = ThreeDCartClient(**{
            "api_url": store.url, "secure_url": store.secure_url, "private_key": store.private_key,
            "token": store.token, **FAST, **options,
        })
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., ThreeDCartClient]) -> ThreeDCartClient:
    """A ``ThreeDCartClient`` talking to ``sandbox`` with a fast test budget."""
    return make_client()


@pytest.fixture
def service(client: ThreeDCartClient) -> CustomerService:
    """A ``CustomerService`` over ``client`` (default TTLs)."""
    return CustomerService(client)
