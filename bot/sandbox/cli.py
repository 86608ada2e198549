"""``python -m bot sandbox [--backend threedcart|bigcommerce] [options]``: run one demo store."""

from __future__ import annotations

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
    if backend == "bigcommerce":
        from .bigcommerce import main as run
    else:
        from ..store.sandbox import main as run
    return run(rest)
