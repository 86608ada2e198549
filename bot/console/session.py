"""One console user talking to the desk, one line at a time.

:class:`Roles` is who the console user is (``--as admin|agent|viewer``, ``as viewer``),
expressed as the ``BOT_ADMINS`` / ``BOT_AGENTS`` sets the guard is built from.
:class:`ConsoleSession` interprets one line at a time (``run_line(line) -> str``) with the small
state a terminal needs that Slack keeps in the message itself: which numbers mean which
buttons and menus, a pending menu pick or search, a pending "Are you sure?". It never reads
or writes a terminal — :mod:`bot.console.main` does — so tests drive it line by line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

from .. import intents
from ..config import Settings
from ..guard import Actor, Guard, Role
from ..reply import Action, Button, Choice, Menu, Reply
from ..store.errors import StoreError
from .render import TextRenderer, clean, confirm_question

if TYPE_CHECKING:  # the runtime pulls in the store; the session is handed one ready-made
    from ..runtime import Runtime

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

_NUMBER_LINE = re.compile(r"^([0-9]{1,6})(?:\s+(.*))?$")
PHONE_DIGITS = 7
"""A line with at least this many digits is a phone number to search for, never a button press
(a press is ``2``, or ``1 3`` for a menu's third choice)."""


def _is_phone_like(text: str) -> bool:
    return sum(ch.isdigit() for ch in text) >= PHONE_DIGITS


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
        if number and not _is_phone_like(text):  # "217 555 0101" is a search, not button 217
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
            typed = f"{number} {rest}".strip()
            if not self.actions:  # not a button: what the parser makes of it ("write `#123`")
                return self._command(typed)
            # a card is showing: keep its numbers, and still say what the parser would
            intent = intents.parse(typed)
            reason = f" {intent.reason}" if isinstance(intent, intents.NotUnderstood) and intent.reason else ""
            return f"No action {number} — the latest card's actions are 1–{len(self.actions)}.{reason}"
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
            from ..desk import store_problem

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
