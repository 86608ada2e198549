"""Shared fixtures: a real sandbox store over local HTTP, a 3dcart client, the cached service;
a fake Slack, the bot served over HTTP and a Slack player (``fake``, ``bot``, ``slack``).

Other test modules use these fixtures by name; keep them stable.

Hypothesis profiles are registered here, once, for every module: ``HYPOTHESIS_PROFILE=fuzz``
runs 10 000 examples per property (the long adversarial run)::

    HYPOTHESIS_PROFILE=fuzz .venv/bin/python -m pytest tests/test_adversarial.py tests/test_intents.py
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from bot.sandbox.threedcart import SandboxStore
from bot.store.service import CustomerService
from bot.store.threedcart import ThreeDCartClient

try:
    from fake_slack import FakeSlack
    from slack_helpers import ADMIN, AGENT, BotServer, Slack, check_everything_sent
except ImportError:  # pragma: no cover - imported as the tests package
    from tests.fake_slack import FakeSlack
    from tests.slack_helpers import ADMIN, AGENT, BotServer, Slack, check_everything_sent

FUZZ_PROFILE = "fuzz"
FUZZ_EXAMPLES = 10_000
settings.register_profile(FUZZ_PROFILE, max_examples=FUZZ_EXAMPLES, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])

FAST = {
    "timeout": 2.0,            # per attempt
    "total_budget": 3.0,       # per call, retries and waits included
    "requests_per_second": None,
    "backoff_factor": 0.05,
}
"""Client options for tests: short timeouts, quick backoff, no client-side pacing."""


def serving(store: Any) -> Iterator[Any]:
    """Start a demo store on its free port for one test; stop it afterwards (``yield from``)."""
    store.start()
    try:
        yield store
    finally:
        store.stop()


def client_maker(default_store: Any, make: Callable[[Any, dict[str, Any]], Any]) -> Iterator[Callable[..., Any]]:
    """Yield ``build(store=None, **options)``, which makes a client with ``make(store, FAST |
    options)`` against ``default_store`` unless told otherwise; every client made is closed
    afterwards (``yield from``, in a fixture)."""
    made: list[Any] = []

    def build(store: Any = None, **options: Any) -> Any:
        client = make(store or default_store, {**FAST, **options})
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


@pytest.fixture
def sandbox() -> Iterator[SandboxStore]:
    """A fresh sandbox store with the demo data, served on a free port for this test only."""
    yield from serving(SandboxStore(port=0))


@pytest.fixture
def make_client(sandbox: SandboxStore) -> Iterator[Callable[..., ThreeDCartClient]]:
    """Build more clients against ``sandbox`` (keywords override the credentials and ``FAST``);
    all closed afterwards."""
    yield from client_maker(sandbox, lambda store, options: ThreeDCartClient(**{
        "api_url": store.url, "secure_url": store.secure_url, "private_key": store.private_key,
        "token": store.token, **options,
    }))


@pytest.fixture
def client(make_client: Callable[..., ThreeDCartClient]) -> ThreeDCartClient:
    """A ``ThreeDCartClient`` talking to ``sandbox`` with a fast test budget."""
    return make_client()


@pytest.fixture
def service(client: ThreeDCartClient) -> CustomerService:
    """A ``CustomerService`` over ``client`` (default TTLs)."""
    return CustomerService(client)


# ------------------------------------------------------------------------------------------
# Slack end to end: a fake Slack, the bot served over HTTP on the embedded sandbox, a player.


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A fake Slack Web API + response URLs on a free port."""
    with FakeSlack() as slack:
        yield slack


@pytest.fixture
def bot(fake: FakeSlack, tmp_path: Any, request: pytest.FixtureRequest) -> Iterator[BotServer]:
    """The bot served over HTTP (embedded sandbox store; UADMIN admin, UAGENT agent); afterwards,
    everything it sent must have been valid. The store is the 3dcart demo unless the test says
    ``@pytest.mark.parametrize("bot", ["threedcart", "bigcommerce"], indirect=True)``."""
    with BotServer(fake, tmp_path, admins=ADMIN, agents=AGENT, backend=getattr(request, "param", "threedcart")) as server:
        yield server
    check_everything_sent(fake)


@pytest.fixture
def slack(bot: BotServer, fake: FakeSlack) -> Slack:
    """Plays Slack against ``bot``."""
    return Slack(bot, fake)


# ------------------------------------------------------------------------------------------
# State on both engines: ``state_url`` / ``state_db`` run a test on SQLite and on PostgreSQL.

try:
    from pg import SKIP_PREFIX, NoPostgres, postgres_server, scratch_database
except ImportError:  # pragma: no cover - imported as the tests package
    from tests.pg import SKIP_PREFIX, NoPostgres, postgres_server, scratch_database


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server URL for this run (TEST_DATABASE_URL or a throwaway), or a skip."""
    try:
        with postgres_server() as url:
            yield url
    except NoPostgres as why:
        pytest.skip(f"{SKIP_PREFIX} {why}")


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """The URL of a new PostgreSQL database for this test only (dropped afterwards)."""
    with scratch_database(pg_server) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A state database URL: a SQLite file in ``tmp_path``, then a scratch PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.sqlite3'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def state_db(state_url: str) -> Iterator[Any]:
    """A migrated ``bot.state.engine.Database`` on ``state_url`` (closed afterwards)."""
    from bot.state.engine import Database

    db = Database(url=state_url)
    yield db
    db.close()


# ------------------------------------------------------------------------------------------
# Redis: TEST_REDIS_URL, else a throwaway redis-server, else skip ("needs Redis: …").

try:
    from redis_server import SKIP_PREFIX as REDIS_SKIP_PREFIX, RedisServer, RedisUnavailable, unique_prefix
except ImportError:  # pragma: no cover - imported as the tests package
    from tests.redis_server import SKIP_PREFIX as REDIS_SKIP_PREFIX, RedisServer, RedisUnavailable, unique_prefix


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a Redis for this session (skips the test when there is none)."""
    server = RedisServer()
    try:
        server.start()
    except RedisUnavailable as why:
        pytest.skip(f"{REDIS_SKIP_PREFIX} {why}")
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of this test's own (``REDIS_KEY_PREFIX``)."""
    return unique_prefix()


@pytest.fixture
def shared_redis(redis_url: str, redis_prefix: str) -> Iterator[Any]:
    """A ``SharedRedis`` under this test's prefix; its keys are deleted afterwards."""
    from bot.state.shared import connect_redis

    shared = connect_redis(redis_url, prefix=redis_prefix)
    try:
        yield shared
    finally:
        connect_redis(redis_url, prefix=redis_prefix).delete_prefixed()
        shared.close()


# ------------------------------------------------------------------------------------------
# BigCommerce: the BigCommerce sandbox over local HTTP and a client for it.


@pytest.fixture
def bc_sandbox() -> Iterator[Any]:
    """A fresh BigCommerce sandbox store with the demo data, on a free port for this test only."""
    from bot.sandbox.bigcommerce import BigCommerceSandbox

    yield from serving(BigCommerceSandbox(port=0))


@pytest.fixture
def make_bc_client(bc_sandbox: Any) -> Iterator[Callable[..., Any]]:
    """Build ``BigCommerceClient``s against ``bc_sandbox`` (keywords override ``FAST``); closed afterwards."""
    from bot.store.bigcommerce.client import BigCommerceClient

    yield from client_maker(bc_sandbox, lambda store, options: BigCommerceClient(
        **{"api_url": store.url, "access_token": store.access_token, **options}))


@pytest.fixture
def bc_client(make_bc_client: Callable[..., Any]) -> Any:
    """A ``BigCommerceClient`` talking to ``bc_sandbox`` with a fast test budget."""
    return make_bc_client()
