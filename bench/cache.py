"""Figures 2 and 3 — store requests saved by the cache.

2. 20 concurrent ``/customer <same address>`` on a cold cache: the store should see ONE
   ``GET /Customers?email=…`` (single-flight coalesces the concurrent misses). The store is
   given 0.3 s of latency so the 20 lookups really overlap in time.
3. The same lookup repeated within the cache TTL (60 s): the store should see nothing.

Counted from the sandbox's request log (``request_count`` semantics: every request, retries
included), through the served bot over HTTP.
"""

from __future__ import annotations

import time

from .harness import (
    ADMIN, Options, Result, Row, bench_env, describe_requests, is_customer_search, post_signed,
    run_together, slash_command, store_requests,
)

CONCURRENT = 20
OVERLAP_LATENCY = 0.3
REPEATS = 5


def run(opts: Options) -> Result:
    result = Result("cache")
    ids: list[int] = []
    with bench_env(opts, seed=lambda s: ids.extend(s.add_customers(3))) as env:
        env.command_and_card("jane@example.com", timeout=30)  # warm-up (also caches the group list)
        address = f"bulk{ids[0]}@example.com"

        # -- 2: concurrent cold lookups of one address
        env.sandbox.latency = OVERLAP_LATENCY
        env.sandbox.reset_counts()
        urls = [env.slack.response_url(user=ADMIN) for _ in range(CONCURRENT)]
        bodies = [slash_command(address, user_id=ADMIN, response_url=url) for url in urls]
        sent = run_together([lambda b=b: post_signed(env.bot.events_url, b, timeout=30) for b in bodies], timeout=60)
        bad = [s for s in sent if isinstance(s, BaseException) or s.status != 200]
        if bad:
            raise RuntimeError(f"{len(bad)} of {CONCURRENT} commands failed: {bad[0]!r}")
        deadline = time.monotonic() + 30
        for url in urls:
            env.slack.wait_card(url, timeout=max(0.1, deadline - time.monotonic()))
        searches = store_requests(env.sandbox, only=is_customer_search)
        everything = store_requests(env.sandbox)
        env.sandbox.latency = 0.0
        result.rows.append(Row(
            f"store requests: {CONCURRENT} concurrent lookups of one address (cold cache)",
            "1", str(len(searches)), len(searches) <= 1,
        ))
        result.notes.append(f"cache/concurrent: all store requests: {describe_requests(everything)}")

        # -- 3: repeated lookups within the TTL
        env.sandbox.reset_counts()
        for _ in range(REPEATS):
            env.command_and_card(address, timeout=30)
        repeated = store_requests(env.sandbox)
        result.rows.append(Row(
            f"store requests: repeated lookup within cache TTL ({REPEATS} repeats)",
            "0", str(len(repeated)), len(repeated) == 0,
        ))
        if repeated:
            result.notes.append(f"cache/repeat: {describe_requests(repeated)}")
    return result
