"""Figure 7 — lookups per second through one web process (no target; printed for reference).

``CLIENTS`` concurrent clients, each sending a signed ``/customer <address>`` and waiting for
its card on the fake Slack's response URL before sending the next, until ``COUNT`` lookups are
done. Store latency 0. Two runs against the same gunicorn process:

* cold: every address distinct (existing customers, seeded with ``add_customers``), so each
  lookup is one store request;
* warm: one address, already cached.

lookups/s = COUNT / (first send → last card). The fake Slack skips its Block Kit validation
here (it shares the 2 cores with the bot); the bench process also plays all clients, the
fake Slack and the store, so this is a floor, not a ceiling, for the bot alone.
"""

from __future__ import annotations

import threading
import time

from .harness import Options, Result, Row, bench_env, ms, percentile

CLIENTS = 8


def _drive(env, addresses: list[str], clients: int) -> dict:  # type: ignore[no-untyped-def]
    jobs = iter(addresses)
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []

    def client() -> None:
        while True:
            with lock:
                address = next(jobs, None)
            if address is None:
                return
            try:
                sent, to_card, post = env.command_and_card(address, timeout=30)
                ok = post.status == 200 and bool(post.payload.get("blocks"))
            except Exception as exc:  # noqa: BLE001 — counted and reported
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                latencies.append(to_card)
                if not ok:
                    errors.append(f"card status {post.status}")

    threads = [threading.Thread(target=client, daemon=True, name=f"bench-tp-{n}") for n in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.1, started + 240 - time.monotonic()))
    elapsed = time.monotonic() - started
    if any(t.is_alive() for t in threads):
        errors.append("clients still running after 240 s")
    return {"elapsed": elapsed, "latencies": latencies, "errors": errors}


def run(opts: Options) -> Result:
    result = Result("throughput")
    count = 100 if opts.quick else 500
    ids: list[int] = []
    with bench_env(opts, validate=False, seed=lambda s: ids.extend(s.add_customers(count + 10))) as env:
        env.command_and_card("jane@example.com", timeout=30)  # warm-up
        for _ in range(5):
            env.command_and_card("jane@example.com", timeout=30)
        env.sandbox.reset_counts()
        cold = _drive(env, [f"bulk{i}@example.com" for i in ids[:count]], CLIENTS)
        cold_store = len(env.sandbox.requests)
        env.sandbox.reset_counts()
        warm = _drive(env, ["jane@example.com"] * count, CLIENTS)
        warm_store = len(env.sandbox.requests)
        rss = _rss_mb(env.bot.pid)
        where = "bench process (fallback server)" if env.bot.mode.startswith("FALLBACK") else "gunicorn arbiter + worker"
    for label, data, store in (("cold (distinct addresses)", cold, cold_store), ("warm (same address)", warm, warm_store)):
        done = len(data["latencies"])
        result.rows.append(Row(
            f"throughput, {label}: {CLIENTS} clients × {count} lookups, one web process",
            "none (printed)",
            f"{done / data['elapsed']:.0f} lookups/s",
            None,
        ))
        result.notes.append(
            f"throughput {label}: {done}/{count} cards in {data['elapsed']:.1f} s; request→card p50 "
            f"{ms(percentile(data['latencies'], 50))}, p90 {ms(percentile(data['latencies'], 90))}; "
            f"store requests {store}; errors {len(data['errors'])}"
            + (f" (first: {data['errors'][0]})" if data["errors"] else "")
        )
    if rss:
        result.notes.append(f"throughput: RSS after both runs, {where}: {rss}")
    return result


def _rss_mb(pid: int | None) -> str:
    if pid is None:
        return ""
    try:
        import psutil

        proc = psutil.Process(pid)
        parts = [proc, *proc.children(recursive=True)]
        return ", ".join(f"pid {p.pid}: {p.memory_info().rss / 2**20:.1f} MB" for p in parts)
    except Exception:  # noqa: BLE001 — informational only
        return ""

