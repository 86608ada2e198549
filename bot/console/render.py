"""Reply → plain text for the console, with every Button and Menu numbered from 1.

The console's counterpart of ``bot/slack/blocks.py``: it reads a :class:`~bot.reply.Reply` and
nothing else (no runtime, no store, no session state), so the same reply renders the same way
in a test as in a terminal. :func:`clean` keeps store text from reaching the terminal as
control characters; :class:`Rendered` carries the text and the actions its numbers refer to,
which :class:`~bot.console.session.ConsoleSession` keeps so a typed number presses one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..reply import Action, Button, Card, Choice, Confirm, Menu, Reply

NOTICE_MARKS = {"ok": "✓", "info": "i", "warn": "!", "error": "✗"}
WIDTH = 78
"""Lines of buttons and menu choices wrap at this width."""
INLINE_CHOICES_MAX = 20
"""A menu with at most this many choices lists them under its line; longer ones on request."""

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


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


def confirm_question(confirm: Confirm) -> str:
    return f"Are you sure? {clean(confirm.text)} [y/N]"
