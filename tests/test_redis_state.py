"""Shared state in real Redis: each "process" here is its own Redis connection, 3dcart client and
service, as two gunicorn workers would have (the end-to-end version is test_several_processes.py).

Every test uses its own key prefix (``shared_redis`` / ``redis_prefix``) and deletes its keys.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from bot.audit import AuditLog
from bot.db import Database, SeenKeys
from bot.desk import Desk
from bot.guard import Actor, Guard
from bot import intents as i
from bot.state.budget import RedisTokenBucket
from bot.state.locks import BUSY, UNREACHABLE, LocalLease, LockUnavailable, RedisLease, RedisLocks
from bot.state.seen import RedisSeenKeys
from bot.state.shared import SharedRedis, connect_redis
from bot.store.cache import LocalCache, RedisCache, decode
from bot.store.errors import RateLimited
from bot.sandbox.threedcart import SandboxStore
from bot.store.service import CustomerService
from bot.store.threedcart import ThreeDCartClient, TokenBucket

DEAD_REDIS = "redis://127.0.0.1:1/0"
"""Nothing listens on port 1: connection refused at once."""


@pytest.fixture
def connect_shared(redis_url: str, redis_prefix: str) -> Iterator[Callable[[], SharedRedis]]:
    """Another "process": its own connection to the test's Redis, under the test's prefix."""
    made: list[SharedRedis] = []

    def build() -> SharedRedis:
        shared = connect_redis(redis_url, prefix=redis_prefix)
        made.append(shared)
        return shared

    yield build
    if made:
        made[0].delete_prefixed()
    for shared in made:
        shared.close()


def lookups(sandbox: SandboxStore) -> int:
    return sandbox.request_count("GET", "/customers")


def shared_service(make_client: Callable[..., ThreeDCartClient], shared: SharedRedis, **options: Any) -> CustomerService:
    return CustomerService(make_client(), cache=RedisCache(shared), **options)


# ---------------------------------------------------------------------- the cache


def test_a_lookup_in_one_process_is_a_cache_hit_in_another(make_client, connect_shared, sandbox) -> None:
    one, two = (shared_service(make_client, connect_shared()) for _ in range(2))
    assert one.find_by_email("jane@example.com").id == 1
    assert lookups(sandbox) == 1
    jane = two.find_by_email("JANE@example.com")
    assert jane is not None and jane.email == "jane@example.com" and jane.group_id == 1
    assert two.get(1) == jane
    assert lookups(sandbox) == 1  # the second process asked Redis, not the store


def test_a_write_in_one_process_is_seen_by_the_other_at_once(make_client, connect_shared, sandbox) -> None:
    one, two = (shared_service(make_client, connect_shared()) for _ in range(2))
    assert two.find_by_email("jane@example.com").group_id == 1
    assert two.count_members(1) == 2
    one.move(1, 2)
    assert two.find_by_email("jane@example.com").group_id == 2  # not the cached VIP
    assert two.count_members(1) == 1  # lists were dropped for everyone


def test_a_negative_answer_is_shared_and_dropped_by_a_write(make_client, connect_shared, sandbox) -> None:
    one, two = (shared_service(make_client, connect_shared()) for _ in range(2))
    assert one.find_by_email("nobody@example.com") is None
    assert two.find_by_email("nobody@example.com") is None
    assert lookups(sandbox) == 1


def test_values_are_json_with_the_ttl(make_client, shared_redis: SharedRedis) -> None:
    service = shared_service(make_client, shared_redis, ttl=30)
    service.find_by_email("jane@example.com")
    names = [n.decode() for n in shared_redis.client.scan_iter(match=shared_redis.prefix + "cache:id:*")]
    names = [n for n in names if not n.endswith(":epoch")]
    assert len(names) == 1
    raw = shared_redis.client.get(names[0])
    assert json.loads(raw)["$customer"]["email"] == "jane@example.com"  # JSON, readable, no pickle
    assert decode(raw).id == 1
    assert 0 < shared_redis.client.pttl(names[0]) <= 30_000


def test_twenty_concurrent_lookups_over_two_processes_make_one_store_request(make_client, connect_shared, sandbox) -> None:
    sandbox.latency = 0.3
    services = [shared_service(make_client, connect_shared()) for _ in range(2)]
    start = threading.Barrier(20)

    def look(n: int) -> int:
        start.wait()
        return services[n % 2].find_by_email("jane@example.com").id

    with ThreadPoolExecutor(20) as pool:
        assert list(pool.map(look, range(20))) == [1] * 20
    assert lookups(sandbox) == 1


def test_in_process_caches_do_not_share(make_client, sandbox) -> None:
    """The positive control for the tests above: two LocalCaches ask the store twice."""
    sandbox.latency = 0.3
    services = [CustomerService(make_client(), cache=LocalCache()) for _ in range(2)]
    with ThreadPoolExecutor(20) as pool:
        list(pool.map(lambda n: services[n % 2].find_by_email("jane@example.com"), range(20)))
    assert lookups(sandbox) == 2


def test_redis_down_lookups_answer_from_the_store_and_log_once(make_client, sandbox, caplog) -> None:
    shared = connect_redis(DEAD_REDIS, prefix="unused:")
    service = shared_service(make_client, shared)
    with caplog.at_level(logging.WARNING, logger="bot.state.shared"):
        for _ in range(5):
            assert service.find_by_email("jane@example.com").id == 1
            service.move(1, 2)
            service.move(1, 1)
    assert lookups(sandbox) == 5  # every lookup went to the store: no cache, but answers
    warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 1
    assert "127.0.0.1:1" not in warnings[0].getMessage()


# ---------------------------------------------------------------------- write locks


def test_a_customer_lock_is_shared_and_waits_are_bounded(connect_shared) -> None:
    one, two = RedisLocks(connect_shared(), wait=0.3), RedisLocks(connect_shared(), wait=0.3)
    with one.hold([7]):
        with pytest.raises(LockUnavailable) as busy:
            with two.hold([7]):
                pass
        assert str(busy.value) == BUSY
        with two.hold([8]):  # another customer is free
            pass
    with two.hold([7]):  # released
        pass


def test_a_dead_holders_lock_expires(connect_shared) -> None:
    one, two = RedisLocks(connect_shared(), expire=0.4, wait=3), RedisLocks(connect_shared(), wait=3)
    holding = one.hold([7])
    holding.__enter__()  # and never leaves: the holder "died"
    started = time.monotonic()
    with two.hold([7]):
        waited = time.monotonic() - started
    assert 0.2 < waited < 3


def test_redis_down_a_write_is_refused_and_nothing_changes(tmp_path, client, sandbox) -> None:
    db = Database(tmp_path)
    locks = RedisLocks(connect_redis(DEAD_REDIS, prefix="unused:"), wait=1)
    desk = Desk(CustomerService(client), Guard({"UADMIN"}, set()), AuditLog(db), undo_window=timedelta(minutes=15),
                locks=locks)
    reply = desk.handle(i.Move("jane@example.com", "Wholesale"), Actor("UADMIN", "admin"))
    assert "can't take the write lock" in reply.text and "nothing was changed" in reply.text
    assert reply.text == UNREACHABLE
    assert sandbox.request_count("PUT") == 0
    assert sandbox.customer(1)["CustomerGroupID"] == 1
    db.close()


# ---------------------------------------------------------------------- click keys


def test_click_keys_are_shared(connect_shared) -> None:
    one, two = RedisSeenKeys(connect_shared()), RedisSeenKeys(connect_shared())
    assert one.first("click:U1:abc") is True
    assert two.first("click:U1:abc") is False
    assert one.first("click:U1:abc") is False
    assert two.first("click:U2:abc") is True


def test_click_keys_expire(connect_shared) -> None:
    seen = RedisSeenKeys(connect_shared(), keep=1)
    assert seen.first("k") is True
    name = seen.redis.key("seen", "k")
    assert 0 < seen.redis.client.ttl(name) <= 1


def test_redis_down_click_keys_fall_back_to_the_database(tmp_path) -> None:
    db = Database(tmp_path)
    seen = RedisSeenKeys(connect_redis(DEAD_REDIS, prefix="unused:"), fallback=SeenKeys(db))
    assert seen.first("k") is True
    assert seen.first("k") is False
    db.close()


# ---------------------------------------------------------------------- the store budget


def test_the_store_budget_is_one_bucket_for_all_processes(connect_shared) -> None:
    one, two = RedisTokenBucket(connect_shared(), 1.0, 4), RedisTokenBucket(connect_shared(), 1.0, 4)
    for bucket in (one, two, one, two):  # the burst, spent by both
        assert bucket.acquire(time.monotonic() + 0.05) == 0
    with pytest.raises(RateLimited):
        two.acquire(time.monotonic() + 0.1)  # the next token is ~1 s away
    started = time.monotonic()
    waited = one.acquire(time.monotonic() + 3)
    assert 0.5 < waited <= 1.1 and time.monotonic() - started >= waited * 0.9


def test_local_buckets_would_allow_twice_the_burst() -> None:
    """Positive control: two per-process buckets let 8 requests through at once."""
    one, two = TokenBucket(1.0, 4), TokenBucket(1.0, 4)
    for bucket in (one, two) * 4:
        assert bucket.acquire(time.monotonic() + 0.05) == 0


def test_the_client_paces_through_the_shared_bucket(make_client, connect_shared, sandbox) -> None:
    clients = [make_client(limiter=RedisTokenBucket(connect_shared(), 0.5, 3), total_budget=0.5) for _ in range(2)]
    clients[0].get_customer(1)
    clients[1].get_customer(2)
    clients[0].get_customer(3)
    with pytest.raises(RateLimited):
        clients[1].get_customer(4)
    assert sandbox.request_count("GET") == 3  # the refused call never reached the store


def test_redis_down_the_budget_falls_back_to_the_local_bucket() -> None:
    bucket = RedisTokenBucket(connect_redis(DEAD_REDIS, prefix="unused:"), 1.0, 2, fallback=TokenBucket(1.0, 2))
    assert bucket.acquire() == 0 and bucket.acquire() == 0
    with pytest.raises(RateLimited):
        bucket.acquire(time.monotonic() + 0.1)


# ---------------------------------------------------------------------- the poller lease


def test_one_lease_holder_at_a_time_and_it_expires(connect_shared) -> None:
    one, two = RedisLease(connect_shared(), "poller", 0.5), RedisLease(connect_shared(), "poller", 0.5)
    assert one.hold() is True
    assert two.hold() is False
    assert one.hold() is True  # renewed
    deadline = time.monotonic() + 3
    while not two.hold():  # "one" stopped renewing (died): the lease expires
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert one.hold() is False
    two.release()
    assert one.hold() is True


def test_without_redis_the_lease_is_always_held() -> None:
    assert LocalLease().hold() is True


def test_redis_down_nobody_holds_the_lease() -> None:
    assert RedisLease(connect_redis(DEAD_REDIS, prefix="unused:"), "poller", 5).hold() is False


# ---------------------------------------------------------------------- settings and URLs


def test_heroku_style_tls_urls_get_the_certificate_options() -> None:
    shared = connect_redis("rediss://:secret-pass@redis.example.com:6380", ssl_cert_reqs="none")
    options = shared.client.connection_pool.connection_kwargs
    assert options["ssl_cert_reqs"] is None and options["host"] == "redis.example.com"
    verified = connect_redis("rediss://redis.example.com:6380", ssl_cert_reqs="required", ssl_ca_certs="/etc/ca.pem")
    options = verified.client.connection_pool.connection_kwargs
    assert options["ssl_cert_reqs"] == "required" and options["ssl_ca_certs"] == "/etc/ca.pem"
    plain = connect_redis("redis://127.0.0.1:6379/0", ssl_cert_reqs="none")
    assert "ssl_cert_reqs" not in plain.client.connection_pool.connection_kwargs


def test_the_redis_url_is_a_secret_and_the_prefix_a_setting() -> None:
    from bot.config import load_settings

    settings = load_settings(redis_url="redis://:hunter22@host:6379/0", redis_key_prefix="bot-a:")
    assert "hunter22" not in repr(settings) and settings.redis_key_prefix == "bot-a:"
    assert load_settings(redis_url="  ").redis_url is None


def test_sandbox_mode_ignores_redis(tmp_path, redis_url: str) -> None:
    """The demo store lives in this process: its cache must not be shared with other processes."""
    from bot.config import load_settings
    from bot.runtime import build_runtime

    runtime = build_runtime(load_settings(redis_url=redis_url, data_dir=tmp_path, threedcart_secure_url=None,
                                          threedcart_private_key=None, threedcart_token=None))
    try:
        assert runtime.shared is None
    finally:
        runtime.close()


def test_with_redis_the_runtime_shares_everything(tmp_path, redis_url: str, redis_prefix: str) -> None:
    from bot.config import load_settings
    from bot.runtime import build_runtime

    with SandboxStore(port=0) as store:
        settings = load_settings(redis_url=redis_url, redis_key_prefix=redis_prefix, data_dir=tmp_path,
                                 threedcart_api_url=store.url, threedcart_secure_url=store.secure_url,
                                 threedcart_private_key=store.private_key, threedcart_token=store.token)
        runtime = build_runtime(settings)
        try:
            assert isinstance(runtime.seen, RedisSeenKeys)
            assert isinstance(runtime.poller_lease, RedisLease)
            assert isinstance(runtime.desk._locks, RedisLocks)
            assert isinstance(runtime.store.backend.limiter, RedisTokenBucket)
            assert runtime.desk.service.find_by_email("jane@example.com").id == 1
            assert runtime.shared.client.keys(redis_prefix + "cache:*")
        finally:
            runtime.shared.delete_prefixed()
            runtime.close()


def test_a_poller_without_the_lease_stands_by_without_asking_the_store(service, sandbox, tmp_path, connect_shared) -> None:
    from bot.poll_lease import LeasedPoller

    db = Database(tmp_path)
    desk = Desk(service, Guard({"UADMIN"}, set()), AuditLog(db))
    posted: list[Any] = []

    def post(reply: Any) -> Any:
        from bot.approvals import PostedMessage
        posted.append(reply)
        return PostedMessage("C1", f"1.{len(posted)}")

    pollers = [LeasedPoller(desk, post, lease=RedisLease(connect_shared(), "poller", 30))
               for _ in range(2)]
    assert len(pollers[0].poll_once().posted) == 2  # Carol and Grace
    sandbox.reset_counts()
    assert pollers[1].poll_once().posted == []
    assert sandbox.request_count() == 0  # standing by costs the store nothing
    pollers[0].poll_once()
    assert sandbox.request_count() > 0  # the holder keeps polling (positive control)
    db.close()


def test_a_malformed_redis_url_is_a_config_error_that_names_the_variable(tmp_path) -> None:
    from bot.config import ConfigError, load_settings
    from bot.runtime import connect_shared

    settings = load_settings(redis_url="http://user:hunter22@example.com", data_dir=tmp_path,
                             threedcart_secure_url="s", threedcart_private_key="k", threedcart_token="t")
    with pytest.raises(ConfigError) as refused:
        connect_shared(settings)
    assert "REDIS_URL" in str(refused.value) and "hunter22" not in str(refused.value)
