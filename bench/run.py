"""Run every benchmark and print one table: figure | target | measured | met?

    .venv/bin/python -m bench.run              # everything (≈ 5 min on 2 cores)
    .venv/bin/python -m bench.run --quick      # smaller counts, smoke test (≈ 1 min)
    .venv/bin/python -m bench.run --only ack   # one benchmark (repeat --only, or ack,cache)
    .venv/bin/python bench/run.py              # the same, without -m

The table (plus date, machine and details) is also written to ``bench/results/latest.md``.
Exit status: 0 when every benchmark ran (targets met or not), 1 if one crashed; with
``--strict``, also 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):  # ``python bench/run.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import ack, approve, cache, ledger, memory, multi, search, throughput, warm  # noqa: E402
from bench.harness import ROOT, SERVED_MODES, Options, Result, Row  # noqa: E402

BENCHMARKS = {
    "ack": ack.run,
    "cache": cache.run,
    "warm": warm.run,
    "approve": approve.run,
    "ledger": ledger.run,
    "memory": memory.run,
    "throughput": throughput.run,
    "multi": multi.run,
    "search": search.run,
}
RESULTS = ROOT / "bench" / "results" / "latest.md"


def machine() -> dict[str, str]:
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        nproc = str(len(os.sched_getaffinity(0)))
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip() or model
                break
    except OSError:
        pass
    versions = []
    for dist in ("gunicorn", "slack-bolt", "slack-sdk"):
        try:
            from importlib.metadata import version

            versions.append(f"{dist} {version(dist)}")
        except Exception:  # noqa: BLE001
            pass
    return {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": f"nproc {nproc} · CPU {model} · {platform.system()} {platform.release()}",
        "python": f"Python {platform.python_version()} ({sys.executable})",
        "libraries": ", ".join(versions),
    }


def met_text(met: bool | None) -> str:
    return "—" if met is None else ("yes" if met else "**NO**")


def table(rows: list[Row]) -> list[str]:
    header = ("figure", "target", "measured", "met?")
    cells = [header] + [(r.figure, r.target, r.measured, met_text(r.met)) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    line = lambda c: "| " + " | ".join(c[i].ljust(widths[i]) for i in range(4)) + " |"  # noqa: E731
    return [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(line(c) for c in cells[1:])]


def report(results: list[Result], info: dict[str, str], opts: Options, seconds: float) -> str:
    rows = [row for r in results for row in r.rows]
    modes = SERVED_MODES if results and any(r.name != "memory" for r in results) else ["(not served: memory only)"]
    out = [
        f"# /customer bot benchmarks{' (--quick)' if opts.quick else ''}",
        "",
        f"- date: {info['date']}",
        f"- machine: {info['machine']}",
        f"- {info['python']}",
        f"- {info['libraries']}",
        f"- bot served by: {'; '.join(modes) or 'n/a'}; store: sandbox (in the bench process); Slack: fake (tests/fake_slack.py)",
        f"- run time: {seconds:.0f} s ({', '.join(f'{r.name} {r.seconds:.0f} s' for r in results)})",
        "",
        *table(rows),
        "",
        "Details:",
        "",
        *(f"- {note}" for r in results for note in r.notes),
    ]
    missed = [row.figure.strip() for row in rows if row.met is False]
    if missed:
        out += ["", "MISSED: " + "; ".join(missed)]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts, for a smoke test (≈ 1 min)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help=f"run only these ({', '.join(BENCHMARKS)}); repeat or comma-separate")
    parser.add_argument("--server", choices=("gunicorn", "thread"), default="gunicorn",
                        help="how to serve the bot: gunicorn subprocess (default, as in production) or "
                             "bot.slack.web.serve in a thread (the fallback)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"markdown report (default {RESULTS.relative_to(ROOT)})")
    args = parser.parse_args(argv)

    names = list(BENCHMARKS)
    if args.only:
        names = [n.strip() for chunk in args.only for n in chunk.split(",") if n.strip()]
        unknown = [n for n in names if n not in BENCHMARKS]
        if unknown:
            parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    opts = Options(quick=args.quick, server=args.server)
    info = machine()
    print(f"bench: {', '.join(names)}{' (quick)' if opts.quick else ''} — {info['machine']}", file=sys.stderr, flush=True)

    started = time.monotonic()
    results: list[Result] = []
    for name in names:
        print(f"[{name}]", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        try:
            result = BENCHMARKS[name](opts)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 — one broken benchmark must not hide the others
            traceback.print_exc()
            result = Result(name, rows=[Row(f"{name}: did not complete", "—", f"ERROR {type(exc).__name__}: {exc}"[:160], False)],
                            error=str(exc))
        result.seconds = time.monotonic() - t0
        print(f"[{name}] done in {result.seconds:.0f} s", file=sys.stderr, flush=True)
        results.append(result)
    seconds = time.monotonic() - started

    text = report(results, info, opts, seconds)
    print()
    print(text, end="")
    try:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)
        print(f"\n(written to {args.output})")
    except OSError as exc:
        print(f"\n(could not write {args.output}: {exc})", file=sys.stderr)

    if any(r.error for r in results):
        return 1
    if args.strict and any(row.met is False for r in results for row in r.rows):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
