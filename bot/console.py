"""The try-it console: the same bot, one user, in a terminal.

``python -m bot console`` builds the same :class:`~bot.runtime.Runtime` the Slack surfaces use
and shows each :class:`~bot.reply.Reply` as plain text. Buttons and menus get numbers; typing a
number presses it, the way a click would in Slack::

    customer> jane@example.com
    Jane Doe
    ════════
      Email:   jane@example.com
      …
      [1] Move to group… (current: Retail)
      [2] Disable   [3] Subscribe   [4] History   [5] Delete…
    customer> 2

Three small parts, kept apart (the desk knows nothing of any of them):

* :class:`TextRenderer` / :func:`render_text` — Reply → text plus the numbered actions;
* :class:`Roles` — who the console user is (``--as admin|agent|viewer``, ``as viewer``),
  expressed as the ``BOT_ADMINS`` / ``BOT_AGENTS`` sets the guard is built from;
* :class:`ConsoleSession` — interprets one line at a time (``run_line(line) -> str``), with
  the small state a terminal needs (which numbers mean what, a pending menu pick or
  "Are you sure?"). :func:`main` is the REPL around it: ``input()`` on a terminal, otherwise
  stdin line by line with each line echoed, ending at end of input — so a session can be
  scripted: ``printf 'jane@example.com\\n2\\ny\\n' | python -m bot console``.
"""

from __future__ import annotations

import argparse
import logging
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, Union
from urllib.parse import urlsplit, urlunsplit

from . import intents
from .config import ConfigError, Settings, load_settings
from .guard import Actor, Guard, Role
from .reply import Action, Button, Card, Choice, Confirm, Menu, Reply
from .store.errors import StoreError

if TYPE_CHECKING:  # the runtime pulls in the store; the renderer must not need it
    from .runtime import Runtime

PROMPT = "customer> "
CHOICE_PROMPT = "choice> "
SEARCH_PROMPT = "search> "
CONFIRM_PROMPT = "[y/N]> "

DEFAULT_USER = "UCONSOLE"
DEFAULT_NAME = "console"
ROLE_BY_NAME: dict[str, Role] = {"admin": Role.ADMIN, "agent": Role.AGENT, "viewer": Role.VIEWER}
ROLE_WORDS: dict[Role, str] = {
    Role.ADMIN: "look up, move, enable/disable, (un)subscribe, see history, undo, delete, approve/deny/dismiss",
    Role.AGENT: "look up, move, enable/disable, (un)subscribe, see history, undo",
    Role.VIEWER: "look customers up (changes are refused)",
}

NOTICE_MARKS = {"ok": "✓", "info": "i", "warn": "!", "error": "✗"}
WIDTH = 78
"""Lines of buttons and menu choices wrap at this width."""
INLINE_CHOICES_MAX = 20
"""A menu with at most this many choices lists them under its line; longer ones on request."""

FALLBACK_EXAMPLES = ("jane@example.com", "move jane@example.com to Wholesale", "pending")

CONSOLE_HELP = (
    "Console",
    "  2               press button [2] of the latest card",
    "  1 3             pick choice 3 of menu [1]; `1 whole` picks by (searched) name",
    "  y / n           answer a card that asks “Yes, …” or “Cancel”",
    "  as admin|agent|viewer   switch your role for this session",
    "  whoami          who you are here, and what you may do",
    "  # …             a comment (for scripts): `#` then a space; `#123` looks up customer 123",
    "  quit, exit, Ctrl-D      leave",
    "Commands work with or without the leading `/customer`.",
)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NUMBER_LINE = re.compile(r"^([0-9]{1,6})(?:\s+(.*))?$")


# ---------------------------------------------------------------------------------- rendering


def clean(text: object) -> str:
    """Text as it may reach a terminal: no control characters (a customer named ``\\x1b[2J``
    must not clear the screen), no line breaks inside one value."""
    return _CONTROL.sub("?", str(text).replace("\r\n", " ").replace("\n", " ").replace("\t", " "))


@dataclass(frozen=True)
class Rendered:
    """A reply as text, and the actions its numbers refer to (``actions[0]`` is ``[1]``)."""

    text: str
    actions: tuple[Action, ...] = ()


class TextRenderer:
    """Reply → readable plain text, with every Button and Menu numbered from 1.

    Notices come first with a marker (``✓ ! ✗ i``), then each card: its title underlined,
    fields as aligned ``Label: value`` lines, body lines, numbered actions, footer.
    """

    def __init__(self, width: int = WIDTH) -> None:
        self.width = width

    def render(self, reply: Reply) -> Rendered:
        out: list[str] = [f"{NOTICE_MARKS.get(n.level, '-')} {clean(n.text)}" for n in reply.notices]
        if not reply.notices and not reply.cards and reply.text:
            out.append(f"i {clean(reply.text)}")
        actions: list[Action] = []
        for card in reply.cards:
            if out:
                out.append("")
            out.extend(self.card_lines(card, first_number=len(actions) + 1))
            actions.extend(row.button for row in card.rows)
            actions.extend(card.actions)
        if reply.banner.strip() and out:
            out.append(f"({clean(reply.banner)})")
        return Rendered("\n".join(out), tuple(actions))

    def card_lines(self, card: Card, first_number: int = 1) -> list[str]:
        title = clean(card.title)
        lines = [title, "═" * max(len(title), 3)]
        if card.alert:
            lines.append(f"  ⛔ {clean(card.alert)}")
        if card.fields:
            pad = max(len(clean(f.label)) for f in card.fields) + 1
            lines += [f"  {(clean(f.label) + ':').ljust(pad)} {clean(f.value)}" for f in card.fields]
        lines += [f"  {clean(line)}" for line in card.lines]
        lines += [f"  [{n}] {clean(row.text)}" for n, row in enumerate(card.rows, start=first_number)]
        lines += self.action_lines(card.actions, first_number + len(card.rows))
        if card.footer:
            lines.append(f"  — {clean(card.footer)}")
        return lines

    def action_lines(self, actions: Sequence[Action], first_number: int = 1) -> list[str]:
        """Buttons side by side (wrapped), each menu on its own line with its choices below."""
        lines: list[str] = []
        row: list[str] = []

        def flush() -> None:
            if row:
                lines.extend(self._wrap(row, indent="  ", sep="   "))
                row.clear()

        for number, action in enumerate(actions, start=first_number):
            if isinstance(action, Button):
                row.append(f"[{number}] {clean(action.label)}")
                continue
            flush()
            lines.extend(self.menu_lines(number, action))
        flush()
        return lines

    def menu_lines(self, number: int, menu: Menu) -> list[str]:
        head = f"  [{number}] {clean(menu.placeholder)}"
        if menu.selected is not None:
            head += f" (current: {clean(menu.selected.label)})"
        if menu.search_for is not None:
            return [head + f" — type `{number} <name>` to search"]
        if not menu.choices:
            return [head + " — no choices"]
        if len(menu.choices) > INLINE_CHOICES_MAX:
            return [head + f" — {len(menu.choices)} choices: type `{number}` to list them"]
        items = [f"{k}) {clean(c.label)}" for k, c in enumerate(menu.choices, start=1)]
        return [head] + self._wrap(items, indent="      ", sep=" · ")

    def choice_lines(self, choices: Sequence[Choice]) -> list[str]:
        return [f"  {k}) {clean(c.label)}" for k, c in enumerate(choices, start=1)]

    def _wrap(self, items: list[str], *, indent: str, sep: str) -> list[str]:
        lines, current = [], ""
        for item in items:
            candidate = item if not current else current + sep + item
            if current and len(indent) + len(candidate) > self.width:
                lines.append(indent + current)
                current = item
            else:
                current = candidate
        if current:
            lines.append(indent + current)
        return lines


def render_text(reply: Reply) -> str:
    """A reply as plain text, actions numbered from 1."""
    return TextRenderer().render(reply).text


# ---------------------------------------------------------------------------------- identity


@dataclass(frozen=True)
class Roles:
    """The role sets the guard is built from (``BOT_ADMINS``, ``BOT_AGENTS``).

    The console gives its user a role by putting their id in exactly the right set, the same
    way an operator would in the environment — never by special-casing the guard.
    """

    admins: frozenset[str] = frozenset()
    agents: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> "Roles":
        return cls(settings.bot_admins, settings.bot_agents)

    def with_role(self, user_id: str, role: Role) -> "Roles":
        admins, agents = set(self.admins) - {user_id}, set(self.agents) - {user_id}
        if role == Role.ADMIN:
            admins.add(user_id)
        elif role == Role.AGENT:
            agents.add(user_id)
        return Roles(frozenset(admins), frozenset(agents))

    def settings_overrides(self) -> dict[str, str]:
        """Keyword arguments for :func:`~bot.config.load_settings`."""
        return {"bot_admins_raw": ",".join(sorted(self.admins)), "bot_agents_raw": ",".join(sorted(self.agents))}

    def guard(self) -> Guard:
        return Guard(self.admins, self.agents)


TEMP_PREFIX = "customer-console-"


def console_settings(user_id: str, role: Role | None, **overrides: object) -> Settings:
    """Settings from the environment, with ``user_id`` given exactly ``role`` (``None``: the role
    ``BOT_ADMINS`` / ``BOT_AGENTS`` give them).

    With no store credentials the runtime starts the embedded sandbox store (``SANDBOX``), and
    local state goes to a temporary folder unless ``DATA_DIR`` is set. Raises ``ConfigError``.
    """
    base = load_settings(**overrides)
    roles = Roles.from_settings(base)
    if role is not None:
        roles = roles.with_role(user_id, role)
    settings = load_settings(**{**overrides, **roles.settings_overrides()})
    if settings.sandbox_mode and "data_dir" not in base.model_fields_set:
        # Demo data vanishes on exit; so should its audit trail, or the next session's
        # `history` would describe changes to customers that were reset since.
        # (Nor may demo changes land in a shared DATABASE_URL's trail.)
        settings = settings.model_copy(update={"data_dir": Path(tempfile.mkdtemp(prefix=TEMP_PREFIX)),
                                               "database_url": None})
    return settings


# ---------------------------------------------------------------------------------- the session


@dataclass(frozen=True)
class _PickChoice:
    """Waiting for a choice number (or part of a label) from ``choices``."""

    choices: tuple[Choice, ...]


@dataclass(frozen=True)
class _Search:
    """Waiting for text to search a searched menu with."""

    menu: Menu


@dataclass(frozen=True)
class _Confirm:
    """Waiting for y/N before running ``button``."""

    button: Button


_Pending = Union[_PickChoice, _Search, _Confirm, None]


@dataclass
class ConsoleSession:
    """One console user talking to the desk, one line at a time.

    ``run_line`` never raises for anything a user types; it returns the text to show. The
    numbers a user types refer to the actions of the latest reply that showed a card (a reply
    that is only a passing message — a refusal, "not found" — leaves the card where it was,
    as in Slack).
    """

    runtime: "Runtime"
    actor: Actor
    renderer: TextRenderer = field(default_factory=TextRenderer)
    roles: Roles | None = None
    """Role sets for ``as …``; defaults to those of ``runtime.settings``."""
    finished: bool = field(default=False, init=False)
    """Set by ``quit`` / ``exit``."""
    actions: tuple[Action, ...] = field(default=(), init=False)
    """What the numbers refer to: the actions of the latest card (``actions[0]`` is ``[1]``)."""
    _pending: _Pending = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.roles is None:
            self.roles = Roles.from_settings(self.runtime.settings)

    # -------------------------------------------------------------- identity

    @property
    def role(self) -> Role:
        return self.runtime.desk.guard.role(self.actor)

    def switch_role(self, role: Role) -> None:
        """Give the console user ``role`` from now on (a new Guard; Guards are immutable)."""
        assert self.roles is not None
        self.roles = self.roles.with_role(self.actor.user_id, role)
        guard = self.roles.guard()
        self.runtime.guard = guard
        self.runtime.desk.guard = guard

    def whoami(self) -> str:
        role = self.role
        return f"You are {self.actor.label} ({self.actor.user_id}), role {role.name.lower()}: you can {ROLE_WORDS[role]}."

    # -------------------------------------------------------------- prompt and lines

    @property
    def prompt(self) -> str:
        """What to ask with next: the command prompt, or the pending question's."""
        if isinstance(self._pending, _PickChoice):
            return CHOICE_PROMPT
        if isinstance(self._pending, _Search):
            return SEARCH_PROMPT
        if isinstance(self._pending, _Confirm):
            return CONFIRM_PROMPT
        return PROMPT

    def cancel_pending(self) -> bool:
        had, self._pending = self._pending is not None, None
        return had

    def run_line(self, line: str) -> str:
        """Interpret one line (a command, a number, an answer); return what to print."""
        text = line.strip()
        word = text.lower()
        if is_comment(text):
            return ""
        if word in ("quit", "exit"):
            self.finished = True
            return ""
        pending, self._pending = self._pending, None
        if pending is not None:
            return self._answer(pending, text)
        if not text:
            return ""
        if word == "whoami":
            return self.whoami()
        if word == "as" or word.startswith("as "):
            return self._as(word[2:].strip())
        if word in ("help", "/customer help", "?"):
            return self._help()
        number = _NUMBER_LINE.match(text)
        if number:
            return self._press(int(number.group(1)), (number.group(2) or "").strip())
        if word in ("y", "yes", "n", "no"):
            button = self._yes_no(word.startswith("y"))
            if button is not None:
                return self._run_button(button)
        return self._command(text)

    # -------------------------------------------------------------- commands

    def _command(self, text: str) -> str:
        if text.lower().startswith("/customer"):
            rest = text[len("/customer"):]
            if not rest or rest[0].isspace():
                text = rest.strip()
        return self._handle(intents.parse(text))

    def _help(self) -> str:
        shown = self._show(self.runtime.desk.handle(intents.Help(), self.actor))
        return shown + "\n\n" + "\n".join(CONSOLE_HELP)

    def _as(self, name: str) -> str:
        role = ROLE_BY_NAME.get(name)
        if role is None:
            return "! Say `as admin`, `as agent` or `as viewer`."
        self.switch_role(role)
        return "✓ " + self.whoami()

    def _handle(self, intent: intents.Intent) -> str:
        return self._show(self.runtime.desk.handle(intent, self.actor))

    def _show(self, reply: Reply) -> str:
        rendered = self.renderer.render(reply)
        if reply.cards or reply.replace:
            self.actions = rendered.actions
        return rendered.text

    # -------------------------------------------------------------- numbers

    def _press(self, number: int, rest: str) -> str:
        if not 1 <= number <= len(self.actions):
            return f"No action {number} — type a command or `help`."
        action = self.actions[number - 1]
        if isinstance(action, Button):
            return self._run_button(action)
        return self._open_menu(number, action, rest)

    def _run_button(self, button: Button) -> str:
        if button.confirm is not None:
            self._pending = _Confirm(button)
            return confirm_question(button.confirm)
        return self._handle(button.intent)

    def _open_menu(self, number: int, menu: Menu, typed: str) -> str:
        if menu.search_for is not None:
            if not typed:
                self._pending = _Search(menu)
                return f"Type part of a name to search “{clean(menu.placeholder)}” (blank to cancel)."
            return self._search(menu, typed)
        if not menu.choices:
            return f"Menu {number} has no choices."
        if not typed:
            self._pending = _PickChoice(menu.choices)
            return "\n".join([f"{clean(menu.placeholder)} — pick a number (blank to cancel):",
                              *self.renderer.choice_lines(menu.choices)])
        return self._pick(menu.choices, typed)

    def _search(self, menu: Menu, typed: str) -> str:
        assert menu.search_for is not None
        try:
            choices = tuple(self.runtime.desk.suggest(menu.search_for, typed))
        except StoreError as exc:
            from .desk import store_problem

            return self._show(store_problem(exc, hints=self.runtime.desk.hints))
        if not choices:
            return f"! Nothing matches “{clean(typed)}”."
        if len(choices) == 1:
            return self._handle(choices[0].intent)
        self._pending = _PickChoice(choices)
        return "\n".join([f"{len(choices)} matches — pick a number (blank to cancel):",
                          *self.renderer.choice_lines(choices)])

    def _pick(self, choices: tuple[Choice, ...], typed: str) -> str:
        """A choice by its number, or by a label that matches exactly or uniquely in part."""
        if typed.isascii() and typed.isdigit():
            k = int(typed)
            if 1 <= k <= len(choices):
                return self._handle(choices[k - 1].intent)
            return f"! No choice {k} — pick 1–{len(choices)}."
        wanted = typed.casefold()
        exact = [c for c in choices if c.label.casefold() == wanted]
        found = exact or [c for c in choices if wanted in c.label.casefold()]
        if len(found) == 1:
            return self._handle(found[0].intent)
        if not found:
            return f"! No choice matches “{clean(typed)}”."
        self._pending = _PickChoice(tuple(found))
        return "\n".join([f"{len(found)} choices match — pick a number (blank to cancel):",
                          *self.renderer.choice_lines(found)])

    def _answer(self, pending: _PickChoice | _Search | _Confirm, text: str) -> str:
        if isinstance(pending, _Confirm):
            if text.lower() in ("y", "yes"):
                return self._handle(pending.button.intent)
            return "Cancelled — nothing changed."
        if not text:
            return "Cancelled."
        if isinstance(pending, _Search):
            return self._search(pending.menu, text)
        return self._pick(pending.choices, text)

    def _yes_no(self, yes: bool) -> Button | None:
        """On a card that asks (buttons "Yes, …" and "Cancel"), ``y``/``n`` press them."""
        buttons = [a for a in self.actions if isinstance(a, Button)]
        if yes:
            found = [b for b in buttons if b.label.lower().startswith("yes")]
        else:
            found = [b for b in buttons if b.label.lower() in ("cancel", "no") or b.label.lower().startswith("no,")]
        if len(found) == 1 and any(b.label.lower().startswith("yes") for b in buttons):
            return found[0]
        return None


def is_comment(text: str) -> bool:
    """``# note`` (a hash, then a space or nothing) is a comment; ``#123`` is a customer id."""
    return text == "#" or text.startswith(("# ", "#\t"))


def confirm_question(confirm: Confirm) -> str:
    return f"Are you sure? {clean(confirm.text)} [y/N]"


# ---------------------------------------------------------------------------------- the REPL


def banner(runtime: "Runtime", session: ConsoleSession) -> str:
    """What the console is connected to, as whom, and what to try. Never a secret."""
    sandbox = getattr(runtime.store, "sandbox", None)
    label = getattr(runtime.store, "label", "3dcart")
    if sandbox is not None:
        store = f"embedded sandbox demo store at {getattr(sandbox, 'url', '?')} ({label} demo data; changes vanish on exit)"
    else:
        from .store.registry import factory

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
    from .runtime import build_runtime

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
    from .runtime import configure_logging

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


__all__ = [
    "ConsoleSession", "Rendered", "Roles", "TextRenderer", "banner", "console_settings", "main",
    "render_text", "repl",
]
