"""``python -m bot console``: arguments, settings, the REPL loop, logging to ``DATA_DIR/console.log``.

Everything that touches the process lives here: the command-line flags (``--user``, ``--as``,
``--name``), the settings the console starts with (:func:`console_settings`: the embedded
sandbox store and a temporary ``DATA_DIR`` on it), the banner, the loop
that feeds lines to a :class:`~bot.console.session.ConsoleSession` (``input()`` on a terminal,
otherwise stdin line by line, echoed), and moving log output off the terminal into a file.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit, urlunsplit

from ..config import ConfigError, Settings, load_settings
from ..guard import Actor, Role
from ..store.errors import StoreError
from .session import DEFAULT_NAME, DEFAULT_USER, ROLE_BY_NAME, ConsoleSession, Roles

if TYPE_CHECKING:  # the runtime pulls in the store; built only once settings are known
    from ..runtime import Runtime

TEMP_PREFIX = "customer-console-"


def console_settings(user_id: str, role: Role | None, **overrides: object) -> Settings:
    """Settings from the environment, with ``user_id`` given exactly ``role`` (``None``: the role
    ``BOT_ADMINS`` / ``BOT_AGENTS`` give them).

    With no store credentials (or ``SANDBOX``) the runtime starts the embedded sandbox store, and
    local state always goes to a temporary folder (``DATA_DIR`` and ``DATABASE_URL`` are not used:
    the demo store starts afresh each run, so does its state). Raises ``ConfigError``.
    """
    base = load_settings(**overrides)
    roles = Roles.from_settings(base)
    if role is not None:
        roles = roles.with_role(user_id, role)
    settings = load_settings(**{**overrides, **roles.settings_overrides()})
    if settings.sandbox_mode:
        # Demo data vanishes on exit; so should its audit trail, or the next session's
        # `history` would describe changes to customers that were reset since — even when
        # DATA_DIR is set (it may hold a real trail). Nor may demo changes land in a
        # shared DATABASE_URL's trail.
        settings = settings.model_copy(update={"data_dir": Path(tempfile.mkdtemp(prefix=TEMP_PREFIX)),
                                               "database_url": None})
    return settings


# ---------------------------------------------------------------------------------- the REPL


def banner(runtime: "Runtime", session: ConsoleSession) -> str:
    """What the console is connected to, as whom, and what to try. Never a secret."""
    sandbox = getattr(runtime.store, "sandbox", None)
    label = getattr(runtime.store, "label", "3dcart")
    if sandbox is not None:
        store = f"embedded sandbox demo store at {getattr(sandbox, 'url', '?')} ({label} demo data; changes vanish on exit)"
    else:
        from ..store.registry import factory

        api_url = factory(getattr(runtime.store, "backend_name", "threedcart")).api_url(runtime.settings)
        store = f"{label} at {safe_url(api_url)} (the real store: changes are real)"
    examples = example_commands(sandbox)
    return "\n".join([
        "/customer console — the bot as Slack runs it, for one user, as text.",
        f"Store:   {store}",
        f"You:     {session.actor.label} ({session.actor.user_id}), role {session.role.name.lower()}",
        f"Log:     {Path(runtime.settings.data_dir) / LOG_FILE}",
        "Try:     " + "   ".join(examples),
        "Numbers press the buttons of the latest card; `help` for more; `quit` or Ctrl-D to leave.",
    ])


def safe_url(url: str) -> str:
    """``url`` without user info, query or fragment (which could carry credentials)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(the configured store API URL)"
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def example_commands(sandbox: object | None) -> tuple[str, ...]:
    """Example commands; on the sandbox they name a customer and a group of its demo data."""
    email, group = "jane@example.com", "Wholesale"
    try:
        if sandbox is not None:
            emails = [c.get("Email") or c.get("email") or "" for c in sandbox.customers()]  # type: ignore[attr-defined]
            groups = [g.get("Name") or g.get("name") or "" for g in sandbox.groups()]  # type: ignore[attr-defined]
            email = email if email in emails else next((e for e in emails if e), email)
            group = group if group in groups else next((n for n in groups if n), group)
    except Exception:  # noqa: BLE001 — examples are a nicety, never a reason not to start
        pass
    return (email, "Jane Doe" if email == "jane@example.com" else f"find {email.partition('@')[0]}",
            f"move {email} to {group}", "pending")


InputFn = Callable[[str], str]


def repl(session: ConsoleSession, *, stdin: TextIO, stdout: TextIO, interactive: bool,
         read: InputFn | None = None) -> None:
    """Run lines until ``quit`` or end of input.

    Interactive: ask with ``read`` (``input``) at the session's prompt. Otherwise: read
    ``stdin`` line by line and echo each as ``<prompt><line>`` so transcripts read well.
    """

    def show(text: str) -> None:
        if text:
            print(text, file=stdout, flush=True)

    if interactive:
        ask = read or input
        while not session.finished:
            try:
                line = ask(session.prompt)
            except EOFError:
                print(file=stdout)
                break
            except KeyboardInterrupt:
                session.cancel_pending()
                print("\n(cancelled — `quit` or Ctrl-D to leave)", file=stdout, flush=True)
                continue
            show(session.run_line(line))
        return
    for raw in stdin:
        line = raw.rstrip("\r\n")
        print(session.prompt + line, file=stdout, flush=True)
        show(session.run_line(line))
        if session.finished:
            break


RuntimeFactory = Callable[[Settings], "Runtime"]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot console",
        description="Try /customer in a terminal: same commands, buttons by number.",
    )
    parser.add_argument("--user", default=DEFAULT_USER, help="Slack-style user id to act as (default %(default)s)")
    parser.add_argument("--as", dest="role", choices=sorted(ROLE_BY_NAME), default=None,
                        help="your role: admin, agent or viewer (default: admin for the default user; "
                             "for --user, the role BOT_ADMINS / BOT_AGENTS give that id)")
    parser.add_argument("--name", default=DEFAULT_NAME, help="display name in messages and history (default %(default)s)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, runtime_factory: RuntimeFactory | None = None) -> int:
    """``python -m bot console``: 0 at end of input or ``quit``; 1 if it cannot start."""
    args = parse_args(argv)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="replace")
            except (ValueError, OSError):
                pass
    if args.role is not None:
        role: Role | None = ROLE_BY_NAME[args.role]
    else:
        role = Role.ADMIN if args.user == DEFAULT_USER else None
    try:
        settings = console_settings(args.user, role)
    except ConfigError as exc:
        print(f"Cannot start the console: {exc}", file=sys.stderr)
        return 1
    from ..runtime import build_runtime

    log_handler = _quiet_logging(settings)
    try:
        runtime = (runtime_factory or build_runtime)(settings)
    except (ConfigError, StoreError, OSError) as exc:
        print(f"Cannot start the console: {exc}", file=sys.stderr)
        _stop_logging(log_handler)
        return 1
    try:
        session = ConsoleSession(runtime, Actor(args.user, args.name))
        print(banner(runtime, session), flush=True)
        interactive = sys.stdin.isatty()
        if interactive:
            try:
                import readline  # noqa: F401 — line editing and history for input()
            except ImportError:
                pass
        repl(session, stdin=sys.stdin, stdout=sys.stdout, interactive=interactive)
    finally:
        runtime.close()
        _stop_logging(log_handler)
        if settings.data_dir.name.startswith(TEMP_PREFIX):
            shutil.rmtree(settings.data_dir, ignore_errors=True)
    return 0


LOG_FILE = "console.log"


def _stop_logging(handler: logging.Handler) -> None:
    root = logging.getLogger()
    root.removeHandler(handler)
    root.setLevel(getattr(handler, "previous_root_level", root.level))
    handler.close()


def _quiet_logging(settings: Settings) -> logging.Handler:
    """Logs go to ``DATA_DIR/console.log``, not the terminal: store retries, warnings and
    tracebacks stay out of the transcript (the reply already says what went wrong)."""
    from ..runtime import configure_logging

    path = Path(settings.data_dir) / LOG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.StreamHandler) and getattr(handler, "stream", None) in (sys.stderr, sys.stdout):
            root.removeHandler(handler)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    handler.previous_root_level = root.level  # type: ignore[attr-defined]  # restored by _stop_logging
    root.setLevel(getattr(logging, settings.log_level.upper(), logging.INFO))
    configure_logging(settings)  # secret redaction on every handler (basicConfig adds no stream now)
    return handler

