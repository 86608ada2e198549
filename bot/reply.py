"""What a use case answers: plain data that each surface renders its own way.

``desk/`` builds these; ``slack/blocks.py`` turns them into Block Kit and ``console/`` into
text. Every string here is *plain text* taken as it is, including text that came from the
store: renderers escape it for their surface, so a customer named ``<!channel>`` or ``*bold*``
is shown literally. Nothing here knows about Slack.

The one exception is opt-in: a ``Notice`` or ``Card`` with ``markup=True`` uses backticks for
``code`` (commands to type, and any user- or store-provided text, which goes *inside* them).
Outside the backticks such text holds only the bot's own words. Slack shows it as mrkdwn with
code spans; the console shows the backticks as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Union

from .intents import Intent

MENU_LIMIT = 100
"""A menu with more choices than this is searched as you type instead of listed."""

Level = Literal["ok", "info", "warn", "error"]
Style = Literal["primary", "danger"]


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class Confirm:
    """An "Are you sure?" step the surface shows before the button's intent runs."""

    title: str
    text: str
    confirm: str = "Yes"
    deny: str = "Cancel"


@dataclass(frozen=True)
class Button:
    label: str
    intent: Intent
    style: Style | None = None
    confirm: Confirm | None = None


@dataclass(frozen=True)
class Choice:
    label: str
    intent: Intent


@dataclass(frozen=True)
class Menu:
    """Pick one of ``choices``; or, when ``search_for`` is set, search as you type.

    ``search_for`` is an intent template (e.g. ``Move(who=12, group="")``): the surface asks
    ``Desk.suggest(template, typed_text)`` for matching choices.
    """

    placeholder: str
    choices: tuple[Choice, ...] = ()
    selected: Choice | None = None
    search_for: Intent | None = None


Action = Union[Button, Menu]


@dataclass(frozen=True)
class Row:
    """One line of a list with a button of its own (a search result and its Open button)."""

    text: str
    button: Button


@dataclass(frozen=True)
class Card:
    title: str
    fields: tuple[Field, ...] = ()
    lines: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    footer: str = ""
    key: str = ""
    """Stable identity of what the card shows (e.g. ``"c12"``): keeps ids unique per message."""
    alert: str = ""
    """A state that must stand out (a disabled account): shown marked, right under the title."""
    markup: bool = False
    """``lines`` use backticks for code (see the module docstring)."""
    rows: tuple[Row, ...] = ()
    """Lines that each carry a button, shown after ``lines`` and before ``actions``."""


@dataclass(frozen=True)
class Notice:
    level: Level
    text: str
    markup: bool = False
    """``text`` uses backticks for code (see the module docstring)."""


@dataclass(frozen=True)
class Reply:
    text: str
    """One-line summary: the notification / fallback text and the console headline."""
    cards: tuple[Card, ...] = ()
    notices: tuple[Notice, ...] = ()
    replace: bool = True
    """When answering a click: replace the clicked message (True) or leave it and post anew."""
    public: bool = False
    """Visible to the channel (True) or only to the person who asked (False)."""
    banner: str = ""
    """A line every surface shows on this message, whatever it holds (``DEMO_BANNER``)."""

    @classmethod
    def notice(cls, level: Level, text: str, *, replace: bool = False, markup: bool = False) -> "Reply":
        """A reply that is only a message, no card (refusals, errors, "already done")."""
        return cls(text=text, notices=(Notice(level, text, markup),), replace=replace)


DEMO_BANNER = "Demo store — not real customers"
"""The ``Reply.banner`` of every message while the bot runs on an embedded demo store."""
