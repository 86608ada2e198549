"""Figure 6 — resident memory after 100 000 lookups of distinct addresses.

The bot's process must stay small and flat however many addresses are looked up: every cache
is bounded (``TTLCache(maxsize=10 000)`` for customers, emails and "no such customer").

How: a clean worker process (``python -m bench.memory --worker``) builds the bot's runtime from
settings — the same ``build_runtime(settings)`` the web process uses, with the same cached
``CustomerService`` + ``ThreeDCartClient`` — and drives ``runtime.desk.handle(Lookup(email))``
for distinct addresses against a sandbox store served by the parent process (so the store's own
memory, e.g. its request log, is not counted). 2 000 of the addresses exist (seeded with
``add_customers``, each looked up once, giving full customer cards); every other address is not
found (negative cache). Every lookup is a real HTTP request to the store. RSS (psutil) is
sampled every 10 % of the run; "flat" means last sample − sample at 20 % ≤ 10 MB.

``--quick`` uses 10 000 lookups (flatness is then judged from 2 000 on).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .harness import Options, Result


TARGET_MB = 150.0
FLAT_MB = 10.0
FOUND = 2_000
THREADS = 4
SAMPLES = 10


def run(opts: "Options") -> "Result":
    from bot.sandbox.threedcart import SandboxStore

    from .harness import ROOT, Result, Row

    result = Result("memory")
    total = 10_000 if opts.quick else 100_000
    every = total // SAMPLES
    data_dir = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    sandbox = SandboxStore(port=0)
    proc = None
    try:
        sandbox.start()
        first_id = sandbox.add_customers(FOUND)[0]
        args = {
            "api_url": sandbox.url, "secure_url": sandbox.secure_url, "private_key": sandbox.private_key,
            "token": sandbox.token, "data_dir": str(data_dir), "total": total, "every": every,
            "found": FOUND, "first_id": first_id, "threads": THREADS,
        }
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("THREEDCART_", "SLACK_", "BOT_", "STORE_", "CACHE_", "DATA_DIR", "LOG_LEVEL"))}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        proc = subprocess.Popen([sys.executable, "-m", "bench.memory", "--worker", json.dumps(args)], cwd=ROOT,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        samples: list[tuple[int, float]] = []
        final: dict = {}
        stderr_lines: list[str] = []
        threading.Thread(target=lambda: stderr_lines.extend(proc.stderr), daemon=True).start()  # type: ignore[arg-type]
        timer = threading.Timer(540, proc.kill)  # bounded: never hang the run
        timer.start()
        try:
            for line in proc.stdout:  # type: ignore[union-attr]
                record = json.loads(line)
                if "rss_mb" in record:
                    samples.append((record["done"], record["rss_mb"]))
                    opts.log(f"memory: {record['done']:>7,} lookups, RSS {record['rss_mb']:.1f} MB, "
                             f"{record['elapsed']:.0f} s")
                else:
                    final = record
            proc.wait(30)
        finally:
            timer.cancel()
        if proc.returncode != 0 or not final:
            raise RuntimeError(f"memory worker failed (exit {proc.returncode}): {''.join(stderr_lines)[-800:]}")
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)
        sandbox.stop()
        shutil.rmtree(data_dir, ignore_errors=True)

    last = samples[-1][1]
    at_20 = next(rss for done, rss in samples if done >= total * 2 // 10)
    growth = last - at_20
    peak = max(rss for _, rss in samples)
    result.rows.append(Row(
        f"resident memory (RSS) after {total:,} lookups of distinct addresses",
        f"≤ {TARGET_MB:.0f} MB and flat (≤ {FLAT_MB:.0f} MB growth after {total * 2 // 10:,})",
        f"{last:.1f} MB (peak {peak:.1f}); {growth:+.1f} MB since {total * 2 // 10:,}",
        last <= TARGET_MB and peak <= TARGET_MB and growth <= FLAT_MB,
    ))
    result.notes.append("memory: RSS series (lookups: MB) " + ", ".join(f"{d // 1000}k: {r:.1f}" for d, r in samples))
    result.notes.append(
        f"memory: {total:,} lookups ({final['found']:,} found, {final['not_found']:,} not found, "
        f"{final['errors']} errors) in {final['elapsed']:.0f} s = {total / final['elapsed']:.0f}/s with {THREADS} threads, "
        f"each a real HTTP request to the sandbox; caches at the end: {final['cache']}"
    )
    return result


# ---------------------------------------------------------------------- the worker process


def _worker(args: dict) -> int:
    import psutil

    from bot.config import load_settings
    from bot.guard import Actor
    from bot.intents import Lookup
    from bot.runtime import build_runtime

    settings = load_settings(
        threedcart_api_url=args["api_url"], threedcart_secure_url=args["secure_url"],
        threedcart_private_key=args["private_key"], threedcart_token=args["token"],
        store_requests_per_second=1000.0, store_burst=10_000, data_dir=Path(args["data_dir"]),
        slack_bot_token=None, slack_signing_secret=None, approvals_channel=None, audit_channel=None,
        BOT_ADMINS="UBENCH", BOT_AGENTS="",
    )
    runtime = build_runtime(settings)
    desk = runtime.desk
    actor = Actor(user_id="UBENCH", name="bench")
    me = psutil.Process()
    total, every, found, first_id, threads = (args[k] for k in ("total", "every", "found", "first_id", "threads"))
    stride = max(1, total // found)

    def address(n: int) -> str:
        # Every ``stride``-th lookup is an existing customer (each looked up once); the rest are
        # distinct addresses the store does not have. All 100 000 addresses are distinct.
        if n % stride == 0 and n // stride < found:
            return f"bulk{first_id + n // stride}@example.com"
        return f"nobody{n}@bench.invalid"

    counts = {"found": 0, "not_found": 0, "errors": 0}
    lock = threading.Lock()

    def work(lo: int, hi: int) -> None:
        local = {"found": 0, "not_found": 0, "errors": 0}
        for n in range(lo, hi):
            reply = desk.handle(Lookup(address(n)), actor)
            if reply.cards:
                local["found"] += 1
            elif reply.notices and reply.notices[0].level == "warn":
                local["not_found"] += 1
            else:
                local["errors"] += 1
        with lock:
            for k, v in local.items():
                counts[k] += v

    def emit(record: dict) -> None:
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()

    started = time.monotonic()
    desk.handle(Lookup("jane@example.com"), actor)  # warm-up: imports, connection pool, group list
    emit({"done": 0, "rss_mb": me.memory_info().rss / 2**20, "elapsed": 0.0})
    for block in range(0, total, every):
        size = min(every, total - block)
        step = -(-size // threads)
        workers = [threading.Thread(target=work, args=(block + i, min(block + size, block + i + step)))
                   for i in range(0, size, step)]
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        emit({"done": block + size, "rss_mb": me.memory_info().rss / 2**20,
              "elapsed": time.monotonic() - started})
    elapsed = time.monotonic() - started
    emit({**counts, "elapsed": elapsed, "cache": runtime.desk.service.cache_info()})
    runtime.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory")
    parser.add_argument("--worker", metavar="JSON", help="(internal) run the lookups in this process")
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(json.loads(args.worker))
    from .run import main as run_main
    return run_main(["--only", "memory"])


if __name__ == "__main__":
    raise SystemExit(main())
