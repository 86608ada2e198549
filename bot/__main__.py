"""Command line: ``python -m bot serve | socket | console | sandbox | poll``."""

from __future__ import annotations

import argparse
import logging
import sys

from .config import ConfigError, load_settings

log = logging.getLogger("bot")

COMMANDS = {
    "serve": "run the Slack app over HTTP (POST /slack/events, GET /healthz) on $PORT",
    "socket": "run the Slack app in Socket Mode (needs SLACK_APP_TOKEN)",
    "console": "try it in the terminal: the same bot, rendered as text",
    "sandbox": "run an embedded demo store on its own (--backend threedcart | bigcommerce)",
    "poll": "post new wholesale applicants to APPROVALS_CHANNEL every POLL_SECONDS",
    "db": "db upgrade: bring the state database (DATABASE_URL, or SQLite in DATA_DIR) to the newest schema",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m bot", description="/customer — the support team's customer desk in Slack.")
    parser.add_argument("command", choices=sorted(COMMANDS), metavar="command",
                        help="; ".join(f"{k}: {v}" for k, v in COMMANDS.items()))
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        parser.error(f"unknown command {command!r}")
    try:
        return _run(command, rest)
    except ConfigError as exc:
        print(f"Configuration problem: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def _run(command: str, rest: list[str]) -> int:
    if command == "sandbox":
        from .sandbox.cli import main as sandbox_main
        return sandbox_main(rest)
    if command == "console":
        from .console import main as console_main
        return console_main(rest)

    from .runtime import build_runtime, configure_logging

    settings = load_settings()
    configure_logging(settings)
    if command == "db":
        return _db(settings, rest)
    if command == "serve":
        settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
        from .slack.web import serve
        runtime = build_runtime(settings)
        try:
            serve(runtime, host="0.0.0.0", port=settings.port)
        finally:
            runtime.close()
        return 0
    if command == "socket":
        settings.require("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
        from .slack.socket import run_socket_mode
        return run_socket_mode(settings)
    if command == "poll":
        from .slack.poll import run_poller
        return run_poller(settings, rest)
    raise AssertionError(command)


def _db(settings: object, rest: list[str]) -> int:
    """``python -m bot db upgrade``: apply the migrations (every start does it too) and say where."""
    from .runtime import open_database
    from .state import migrate

    parser = argparse.ArgumentParser(prog="python -m bot db")
    parser.add_argument("action", choices=["upgrade"])
    parser.parse_args(rest)
    db = open_database(settings)  # type: ignore[arg-type]  # opening migrates
    try:
        print(f"{db.dialect} database at revision {migrate.current(db)} (newest: {migrate.head()})")
    finally:
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
