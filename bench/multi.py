"""Figures 8 and 9 — the same figures with two web processes sharing one Redis.

Two gunicorn processes (the Procfile's line, one worker × 32 threads each, so the two are
certainly separate processes with separate memory) on one ``DATA_DIR`` and one Redis
(``REDIS_URL``, a key prefix of this run's own), one sandbox store, the fake Slack. Requests
alternate between the two, so each process gets half of every burst.

8. Store requests (``GET /Customers?email=…``) for 20 concurrent lookups of one address on a
   cold cache (store latency 0.3 s so they overlap): the cross-process single-flight should
   make it 1, as in one process (without Redis it would be one per process at least).
9. Ack p50 / p99 for 20 concurrent ``/customer <email>`` (distinct addresses) while the store
   takes 2 s per request — the Redis round trips must not reach the ack path.

Redis: ``BENCH_REDIS_URL`` or ``TEST_REDIS_URL`` when set, else a throwaway ``redis-server``
from PATH (as the tests do); without any, the rows say the figure was not measured.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator

from .harness import (
    ADMIN, BenchSlack, Options, Result, Row, describe_requests,
    is_customer_search, ms, percentile, post_signed, run_together, slash_command, store_and_slack,
    store_requests,
)
from .serving import Served, bot_environment, serve_gunicorn
from bot.sandbox.threedcart import SandboxStore

CONCURRENT = 20
OVERLAP_LATENCY = 0.3
STORE_LATENCY = 2.0
TARGET_P99 = 0.090
PROCESSES = 2


@contextlib.contextmanager
def _redis() -> Iterator[str]:
    given = os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL")
    if given:
        yield given
        return
    from redis_server import RedisServer  # tests/redis_server.py (tests/ is on sys.path via harness)

    server = RedisServer().start()
    try:
        yield server.url
    finally:
        server.stop()


@contextlib.contextmanager
def _two_processes(latency: float = 0.0, customers: int = 0) -> Iterator[tuple[SandboxStore, BenchSlack, list[Served], list[int]]]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}:"
    with store_and_slack(latency=latency, prefix="bench-multi-") as (sandbox, slack, data_dir):
        ids = sandbox.add_customers(customers) if customers else []
        with _redis() as url, contextlib.ExitStack() as stack:
            env = bot_environment(sandbox, slack, data_dir, REDIS_URL=url, REDIS_KEY_PREFIX=prefix)
            bots = [stack.enter_context(serve_gunicorn("bot.slack.web:create_wsgi_app()", env, data_dir / f"gunicorn-{n}.log"))
                    for n in range(PROCESSES)]
            try:
                yield sandbox, slack, bots, ids
            finally:
                from bot.state.shared import connect_redis

                with contextlib.suppress(Exception):
                    connect_redis(url, prefix=prefix).delete_prefixed()


def _burst(slack: BenchSlack, bots: list[Served], texts: list[str]) -> tuple[list, list[str]]:
    urls = [slack.response_url(user=ADMIN) for _ in texts]
    jobs = [lambda n=n, text=text, url=url: post_signed(bots[n % len(bots)].events_url,
                                                        slash_command(text, user_id=ADMIN, response_url=url), timeout=60)
            for n, (text, url) in enumerate(zip(texts, urls))]
    sent = run_together(jobs, timeout=90)
    broken = [s for s in sent if isinstance(s, BaseException) or s.status != 200]
    if broken:
        raise RuntimeError(f"{len(broken)} of {len(texts)} commands failed: {broken[0]!r}")
    return sent, urls


def _warm(slack: BenchSlack, bots: list[Served]) -> None:
    for bot in bots:  # imports, pools, group list
        url = slack.response_url(user=ADMIN)
        post_signed(bot.events_url, slash_command("jane@example.com", user_id=ADMIN, response_url=url), timeout=30)
        slack.wait_card(url, timeout=30)


def run(opts: Options) -> Result:
    result = Result("multi")
    try:
        with _two_processes(customers=CONCURRENT + 5) as (sandbox, slack, bots, ids):
            _warm(slack, bots)
            # -- 8: one address, cold, spread over both processes
            sandbox.latency = OVERLAP_LATENCY
            sandbox.reset_counts()
            _, urls = _burst(slack, bots, [f"bulk{ids[0]}@example.com"] * CONCURRENT)
            deadline = time.monotonic() + 30
            for url in urls:
                slack.wait_card(url, timeout=max(0.1, deadline - time.monotonic()))
            searches = store_requests(sandbox, only=is_customer_search)
            result.rows.append(Row(
                f"store requests: {CONCURRENT} concurrent lookups of one address, {PROCESSES} web processes on one Redis",
                "1", str(len(searches)), len(searches) <= 1,
            ))
            result.notes.append(f"multi/concurrent: all store requests: {describe_requests(store_requests(sandbox))}")

            # -- 9: ack under a slow store, distinct addresses, spread over both processes
            sandbox.latency = STORE_LATENCY
            sent, urls = _burst(slack, bots, [f"bulk{i}@example.com" for i in ids[1:CONCURRENT + 1]])
            acks = [s.seconds for s in sent]
            deadline = time.monotonic() + 60
            cards = 0
            for url in urls:
                with contextlib.suppress(TimeoutError):
                    slack.wait_card(url, timeout=max(0.1, deadline - time.monotonic()))
                    cards += 1
            sandbox.latency = 0.0
            p99 = percentile(acks, 99)
            result.rows.append(Row(
                f"ack p50 / p99: {CONCURRENT} concurrent /customer <email>, store {STORE_LATENCY:g} s, {PROCESSES} web processes",
                f"p99 ≤ {TARGET_P99 * 1000:.0f} ms", f"{ms(percentile(acks, 50))} / {ms(p99)}", p99 <= TARGET_P99,
            ))
            result.notes.append(f"multi/ack: round trips {', '.join(ms(a) for a in sorted(acks))}; cards {cards}/{CONCURRENT}")
    except Exception as exc:  # noqa: BLE001 — e.g. no Redis on this machine: say so in the table
        from redis_server import RedisUnavailable

        if not isinstance(exc, RedisUnavailable):
            raise
        for figure in ("store requests: 20 concurrent lookups, 2 web processes", "ack p99, 2 web processes"):
            result.rows.append(Row(figure, "—", f"not measured: needs Redis: {exc}", None))
    return result
