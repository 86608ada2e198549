"""``python -m bot sandbox [--backend threedcart|bigcommerce] [options]``: run one demo store.

Each store's options are its ``*_main``; both serve through ``_serve`` until Ctrl-C.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

BACKENDS = ("threedcart", "bigcommerce")


def main(argv: list[str] | None = None) -> int:
    """Pick the store from ``--backend`` (default threedcart); the rest goes to that store's CLI."""
    rest = list(argv or [])
    backend = "threedcart"
    for index, arg in enumerate(rest):
        if arg == "--backend" or arg.startswith("--backend="):
            value = arg.partition("=")[2] if "=" in arg else (rest[index + 1] if index + 1 < len(rest) else "")
            del rest[index: index + (1 if "=" in arg else 2)]
            backend = value.strip().lower()
            break
    if backend not in BACKENDS:
        print(f"Unknown --backend {backend!r}: use " + " or ".join(BACKENDS) + ".")
        return 2
    run = bigcommerce_main if backend == "bigcommerce" else threedcart_main
    return run(rest)


def threedcart_main(argv: list[str] | None = None) -> int:
    """``python -m bot sandbox [--backend threedcart]``: serve the 3dcart demo store until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m bot sandbox", description="Run the 3dcart sandbox store with demo data.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8035, help="port (default 8035; 0 = any free port)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--throttle", action="store_true",
                        help="answer 429 past a leaky bucket like 3dcart's (burst 50, 2 requests/s)")
    parser.add_argument("--customers", type=int, default=0, metavar="N", help="add N generated customers")
    parser.add_argument("--people", type=int, default=0, metavar="N",
                        help="add N generated customers with varied names, companies and phone numbers")
    parser.add_argument("--match", choices=("exact", "substring"), default="exact",
                        help="text filters match the whole field (default) or any part of it")
    args = parser.parse_args(argv)
    from .threedcart import SandboxStore

    store = SandboxStore(args.host, args.port, latency=args.latency, match=args.match)
    if args.people > 0:
        store.add_people(args.people)
    if args.throttle:
        store.throttle()
    if args.customers > 0:
        store.add_customers(args.customers)
    return _serve(store, args.host, args.port, "3dcart")


def bigcommerce_main(argv: list[str] | None = None) -> int:
    """``python -m bot sandbox --backend bigcommerce``: serve the BigCommerce demo store until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m bot sandbox --backend bigcommerce",
                                     description="Run the BigCommerce sandbox store with demo data.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8036, help="port (default 8036; 0 = any free port)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--throttle", action="store_true", help="enforce BigCommerce's quota (150 requests per 30 s)")
    parser.add_argument("--customers", type=int, default=0, metavar="N", help="add N generated customers")
    args = parser.parse_args(list(argv) if argv is not None else None)
    from .bigcommerce import BigCommerceSandbox

    store = BigCommerceSandbox(args.host, args.port, latency=args.latency)
    if args.throttle:
        store.throttle()
    if args.customers > 0:
        store.add_customers(args.customers)
    return _serve(store, args.host, args.port, "BigCommerce")


def _serve(store: Any, host: str, port: int, label: str) -> int:
    """Start ``store``, print how to point the bot at it, serve until Ctrl-C."""
    try:
        store.start()
    except OSError as exc:
        print(f"Could not listen on {host}:{port}: {exc.strerror or exc}")
        return 1
    print(f"{label} sandbox store (demo data) at {store.url}")
    print("Point the bot at it with these settings (demo values, not secrets):")
    for name, value in store.credentials().items():
        print(f"{name}={value}")
    print(f"Fault control: POST {store.control_url}  ·  Ctrl-C to stop.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nStopping the sandbox store.")
    finally:
        store.stop()
    return 0


