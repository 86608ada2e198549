"""Reply → Block Kit. The only place in the bot where Block Kit is built.

Every string in a :class:`~bot.reply.Reply` is *plain text*, possibly straight from the store;
the text objects that carry it (``plain_text`` with ``emoji: false``, or escaped ``mrkdwn`` for
``markup`` text) and Slack's limits come from :mod:`bot.slack.text`. This module lays those
out as blocks: header, fields, text sections, list rows with their buttons, actions blocks of
buttons and menus, footers and notices.

Slack's limits (a message Slack refuses is ``invalid_blocks``) are enforced here, never trusted
to the caller: ≤ 50 blocks, header ≤ 150, section text ≤ 3000, ≤ 10 fields of ≤ 2000, button
text ≤ 75 / value ≤ 2000, action_id ≤ 255 and unique, ≤ 25 elements per actions block,
static_select ≤ 100 options (text ≤ 75, value ≤ 150), confirm title ≤ 100 / text ≤ 300 /
buttons ≤ 30.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from .. import intents
from ..reply import Button, Card, Choice, Confirm, Menu, Notice, Reply, Row
from .text import (
    ACTION_ID_MAX, ACTIONS_MAX, BUTTON_TEXT_MAX, BUTTON_VALUE_MAX, CONFIRM_BUTTON_MAX, CONFIRM_TEXT_MAX,
    CONFIRM_TITLE_MAX, ELLIPSIS, EMPTY, FALLBACK_MAX, FIELD_TEXT_MAX, FIELDS_MAX, HEADER_MAX, MAX_BLOCKS,
    OPTION_TEXT_MAX, OPTION_VALUE_MAX, OPTIONS_MAX, PLACEHOLDER_MAX, SECTION_TEXT_MAX, fallback_escape,
    mrkdwn, plain, split_text, truncate,
)

log = logging.getLogger(__name__)

# Our own budgets so that one card can never eat the whole message.
CARD_LINE_SECTIONS_MAX = 5
NOTICE_BLOCKS_MAX = 10

# action_id prefixes: the listeners route on these.
BUTTON_PREFIX = "btn"
MENU_PREFIX = "menu"
PICK_PREFIX = "pick"
"""``pick:<n>:<encoded template>`` — an external_select; its options come from ``Desk.suggest``."""

LEVEL_EMOJI = {"ok": "✅", "info": "ℹ️", "warn": "⚠️", "error": "❌"}
ALERT_MARK = "⛔"
BANNER_MARK = "🧪"


# ---------------------------------------------------------------------------------------------
# text sections

def _text_sections(lines: Sequence[str], max_sections: int, *, markup: bool = False) -> list[dict]:
    chunks = split_text("\n".join(lines), SECTION_TEXT_MAX // 2 if markup else SECTION_TEXT_MAX)
    if len(chunks) > max_sections:
        dropped = len(chunks) - max_sections
        log.warning("card text too long: dropped %d section(s)", dropped)
        chunks = chunks[:max_sections]
        chunks[-1] = truncate(chunks[-1] + "\n" + ELLIPSIS, SECTION_TEXT_MAX)
    return [{"type": "section", "text": mrkdwn(c) if markup else plain(c)} for c in chunks]


# ---------------------------------------------------------------------------------------------
# interactive elements

def _encode(intent: object, limit: int, what: str) -> str | None:
    try:
        value = intents.encode(intent)  # type: ignore[arg-type]
    except Exception as exc:  # a renderer must never fail the whole message for one control
        log.warning("dropping %s: cannot encode %s (%s)", what, type(intent).__name__, exc)
        return None
    if not value or len(value) > limit:
        log.warning("dropping %s: encoded value is %d chars (limit %d)", what, len(value or ""), limit)
        return None
    return value


def _confirm(confirm: Confirm, danger: bool) -> dict:
    obj = {
        "title": plain(confirm.title, CONFIRM_TITLE_MAX),
        "text": plain(confirm.text, CONFIRM_TEXT_MAX),
        "confirm": plain(confirm.confirm or "Yes", CONFIRM_BUTTON_MAX),
        "deny": plain(confirm.deny or "Cancel", CONFIRM_BUTTON_MAX),
    }
    if danger:
        obj["style"] = "danger"
    return obj


def _button(button: Button, action_id: str) -> dict | None:
    value = _encode(button.intent, BUTTON_VALUE_MAX, f"button {button.label!r}")
    if value is None:
        return None
    element: dict = {
        "type": "button",
        "action_id": action_id,
        "text": plain(button.label, BUTTON_TEXT_MAX),
        "value": value,
    }
    if button.style in ("primary", "danger"):
        element["style"] = button.style
    if button.confirm is not None:
        element["confirm"] = _confirm(button.confirm, danger=button.style == "danger")
    return element


def _option(choice: Choice) -> dict | None:
    value = _encode(choice.intent, OPTION_VALUE_MAX, f"option {choice.label!r}")
    if value is None:
        return None
    return {"text": plain(choice.label, OPTION_TEXT_MAX), "value": value}


def _options(choices: Iterable[Choice]) -> list[dict]:
    options: list[dict] = []
    values: set[str] = set()
    for choice in choices:
        option = _option(choice)
        if option is None or option["value"] in values:  # Slack wants distinct values
            continue
        if len(options) == OPTIONS_MAX:
            log.warning("menu has more than %d choices: the rest are not listed", OPTIONS_MAX)
            break
        values.add(option["value"])
        options.append(option)
    return options


def _menu(menu: Menu, action_id: str, pick_id: str) -> dict | None:
    placeholder = plain(menu.placeholder or "Choose…", PLACEHOLDER_MAX)
    if menu.search_for is not None:
        template = _encode(menu.search_for, ACTION_ID_MAX - len(pick_id) - 1, "search menu")
        if template is None:
            return None
        element: dict = {
            "type": "external_select",
            "action_id": f"{pick_id}:{template}",
            "placeholder": placeholder,
            "min_query_length": 0,
        }
        if menu.selected is not None:
            selected = _option(menu.selected)
            if selected is not None:
                element["initial_option"] = selected
        return element

    options = _options(menu.choices)
    if not options:
        return None
    element = {
        "type": "static_select",
        "action_id": action_id,
        "placeholder": placeholder,
        "options": options,
    }
    if menu.selected is not None:
        selected = _option(menu.selected)
        match = next((o for o in options if selected and o["value"] == selected["value"]), None)
        if match is not None:
            element["initial_option"] = match  # must be identical to one of the options
    return element


# ---------------------------------------------------------------------------------------------
# blocks

class _Ids:
    """Hands out action_ids unique within one message (≤ 255 chars)."""

    def __init__(self) -> None:
        self._n = 0

    def next(self, prefix: str, key: str, index: int) -> str:
        self._n += 1
        return f"{prefix}:{self._n}:{key[:64]}:{index}"

    def pick(self) -> str:
        self._n += 1
        return f"{PICK_PREFIX}:{self._n}"


def _card_blocks(card: Card, ids: _Ids) -> list[dict]:
    blocks: list[dict] = []
    if card.title.strip():
        blocks.append({"type": "header", "text": plain(card.title, HEADER_MAX)})
    if card.alert.strip():
        blocks.append({"type": "section", "text": plain(f"{ALERT_MARK} {card.alert}")})

    fields = [
        plain(f"{f.label}\n{f.value or EMPTY}" if f.label.strip() else (f.value or EMPTY), FIELD_TEXT_MAX)
        for f in card.fields
    ]
    for start in range(0, len(fields), FIELDS_MAX):
        blocks.append({"type": "section", "fields": fields[start:start + FIELDS_MAX]})

    if card.lines:
        blocks.extend(_text_sections(card.lines, CARD_LINE_SECTIONS_MAX, markup=card.markup))

    key = card.key or "card"
    for index, row in enumerate(card.rows):
        blocks.append(_row_block(row, ids.next(BUTTON_PREFIX, f"{key}-row", index)))

    elements: list[dict] = []
    for index, action in enumerate(card.actions):
        if isinstance(action, Button):
            element = _button(action, ids.next(BUTTON_PREFIX, key, index))
        elif isinstance(action, Menu):
            element = _menu(action, ids.next(MENU_PREFIX, key, index), ids.pick())
        else:  # pragma: no cover - the contract has only these two
            log.warning("unknown action type %r", type(action).__name__)
            element = None
        if element is not None:
            elements.append(element)
    for start in range(0, len(elements), ACTIONS_MAX):
        blocks.append({"type": "actions", "elements": elements[start:start + ACTIONS_MAX]})

    if card.footer.strip():
        blocks.append(_context(card.footer))
    if not blocks:  # an entirely empty card still needs to say something
        blocks.append({"type": "section", "text": plain(EMPTY)})
    return blocks


def _row_block(row: Row, action_id: str) -> dict:
    """A list row: its text, and its button beside it (dropped, never the row, if it cannot
    be encoded)."""
    block: dict = {"type": "section", "text": plain(row.text)}
    button = _button(row.button, action_id)
    if button is not None:
        block["accessory"] = button
    return block


def _context(text: str) -> dict:
    return {"type": "context", "elements": [plain(text)]}


def _notice_text(notice: Notice) -> str:
    return f"{LEVEL_EMOJI.get(notice.level, LEVEL_EMOJI['info'])} {notice.text}"


def _notice_blocks(notices: Sequence[Notice]) -> list[dict]:
    shown = [n for n in notices if n.text.strip()]
    texts = [_notice_text(n) for n in shown]
    if len(texts) <= NOTICE_BLOCKS_MAX:
        return [{"type": "section", "text": mrkdwn(t) if n.markup else plain(t)} for n, t in zip(shown, texts)]
    # Many notices (e.g. a shortcut over a long message): pack them into a few sections.
    return _text_sections(texts, NOTICE_BLOCKS_MAX)


def fallback_text(reply: Reply) -> str:
    """The top-level ``text``: the notification and accessibility fallback (escaped mrkdwn)."""
    text = reply.text.strip()
    if not text and reply.cards:
        text = reply.cards[0].title.strip()
    if not text and reply.notices:
        text = reply.notices[0].text.strip()
    if reply.banner.strip():  # a notification of a demo message says so too, not only its blocks
        text = f"{BANNER_MARK} {reply.banner.strip()} · {text or EMPTY}"
    return fallback_escape(truncate(text or EMPTY, FALLBACK_MAX))


def render(reply: Reply) -> dict:
    """``{"text": fallback, "blocks": [...]}`` for ``chat.postMessage``/``respond``/``chat.update``."""
    ids = _Ids()
    blocks = [_context(f"{BANNER_MARK} {reply.banner}")] if reply.banner.strip() else []
    blocks += _notice_blocks(reply.notices)
    card_blocks = [_card_blocks(card, ids) for card in reply.cards]

    total = len(blocks) + sum(len(cb) for cb in card_blocks)
    if total <= MAX_BLOCKS:
        for cb in card_blocks:
            blocks.extend(cb)
    else:
        budget = MAX_BLOCKS - 1  # room for the "…and N more" line
        shown = 0
        for cb in card_blocks:
            if len(blocks) + len(cb) > budget:
                break
            blocks.extend(cb)
            shown += 1
        if shown == 0 and card_blocks:  # one huge card: show what fits of it
            blocks.extend(card_blocks[0][: budget - len(blocks)])
            shown = 1
        hidden = len(card_blocks) - shown
        if hidden:
            blocks.append(_context(f"{ELLIPSIS}and {hidden} more — narrow your search"))
        log.info("reply trimmed to %d blocks (%d card(s) not shown)", len(blocks), hidden)

    if not blocks:
        blocks.append({"type": "section", "text": plain(reply.text)})
    return {"text": fallback_text(reply), "blocks": blocks}


def render_text(text: str) -> dict:
    """One line of plain text as a message (audit lines)."""
    return {"text": fallback_escape(truncate(text or EMPTY, FALLBACK_MAX)),
            "blocks": [{"type": "section", "text": plain(text)}]}


def render_options(choices: Sequence[Choice]) -> dict:
    """The answer to a ``block_suggestion`` (external_select type-ahead): ``{"options": [...]}``."""
    return {"options": _options(choices)}


def parse_pick(action_id: str) -> object | None:
    """The intent template encoded in an external_select's ``action_id`` (``None`` if invalid)."""
    parts = action_id.split(":", 2)
    if len(parts) != 3 or parts[0] != PICK_PREFIX:
        return None
    return intents.decode(parts[2])
