"""Slack text: escaping, truncation, text objects, and Slack's limits.

Every string in a :class:`~bot.reply.Reply` is *plain text*, possibly straight from the store
(a customer named ``<!channel>`` or ``*bold*``). The robust way to show such text literally is
not to escape it into mrkdwn but to never put it in mrkdwn at all: every text object built by
:func:`plain` is ``plain_text`` with ``emoji: false`` (Slack shows it verbatim — no formatting,
no mentions, no links, no ``:shortcode:`` emoji). The mrkdwn we send: the top-level fallback
``text`` (notifications, screen readers), which goes through :func:`fallback_escape`, and
``markup`` notices and card lines (help, refusals, errors): the bot's own words with every
user- or store-provided part inside an escaped code span (:func:`markup_mrkdwn`), where Slack
applies no formatting, mentions or emoji. These are text, not layout: the blocks that hold
them are built in :mod:`bot.slack.blocks` only.
"""

from __future__ import annotations

import re

# Slack limits (characters and counts); bot.slack.blocks enforces them.
MAX_BLOCKS = 50
HEADER_MAX = 150
SECTION_TEXT_MAX = 3000
FIELDS_MAX = 10
FIELD_TEXT_MAX = 2000
CONTEXT_ELEMENTS_MAX = 10
ACTIONS_MAX = 25
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
ACTION_ID_MAX = 255
OPTIONS_MAX = 100
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
PLACEHOLDER_MAX = 150
CONFIRM_TITLE_MAX = 100
CONFIRM_TEXT_MAX = 300
CONFIRM_BUTTON_MAX = 30
FALLBACK_MAX = 3000

ELLIPSIS = "…"
EMPTY = "—"


def mrkdwn_escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control: ``&``, ``<``, ``>``.

    That keeps ``<!channel>``, ``<@U1>`` and ``<http://x|y>`` from becoming mentions or links.
    It does *not* neutralise ``*_~``` `` formatting — which is why data never goes into mrkdwn
    here; it goes into ``plain_text`` objects instead.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


ZWSP = "\u200b"
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
"""Direction marks, embeddings, overrides and isolates: a customer name must not reorder text."""
_FORMATTING = re.compile(r"(?<![A-Za-z0-9])([*_~`])|([*_~`])(?![A-Za-z0-9])")
"""A formatting character that can open or close formatting (not one inside a word: BOT_ADMINS)."""
_LINKISH = re.compile(r"(://|www\.)", re.IGNORECASE)


def fallback_escape(text: str) -> str:
    """Text for a top-level ``text`` (mrkdwn in notifications): ``& < >`` escaped, every
    formatting character (``* _ ~ ```) that could open or close formatting, and URL marker (``://``, ``www.``) broken with a zero-width
    space so it renders literally, and bidi control characters removed."""
    text = mrkdwn_escape(text.translate(BIDI_CONTROLS))
    text = _FORMATTING.sub(lambda m: ZWSP + m.group(0) + ZWSP, text)
    return _LINKISH.sub(lambda m: m.group(1)[0] + ZWSP + m.group(1)[1:], text)


def markup_mrkdwn(text: str) -> str:
    """A ``markup`` text (see ``bot.reply``) as mrkdwn: the bot's words escaped, each
    backticked part an escaped code span (Slack applies no formatting, mentions or emoji
    inside one). An unclosed backtick's remainder stays plain words."""
    parts = text.split("`")
    out: list[str] = []
    for index, part in enumerate(parts):
        is_code = index % 2 == 1 and index < len(parts) - 1
        if is_code:
            if part:
                out.append("`" + mrkdwn_escape(part) + "`")
        else:
            out.append(mrkdwn_escape(part))
    return "".join(out)


def mrkdwn(text: str, limit: int = SECTION_TEXT_MAX) -> dict:
    """A ``mrkdwn`` object for a ``markup`` text; plain text when the escaped form is too long."""
    converted = markup_mrkdwn(text) if text and text.strip() else ""
    if not converted or len(converted) > limit:
        return plain(text, limit)
    return {"type": "mrkdwn", "text": converted, "verbatim": True}


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``…`` when cut."""
    text = text or ""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def plain(text: str, limit: int = SECTION_TEXT_MAX) -> dict:
    """A ``plain_text`` object that shows ``text`` literally (never empty, never too long)."""
    text = truncate(text, limit) if text and text.strip() else EMPTY
    return {"type": "plain_text", "text": text, "emoji": False}


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into pieces of ≤ ``limit`` characters, preferring line breaks."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single over-long line: hard split
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current or not pieces:
        pieces.append(current)
    return [p for p in pieces if p.strip()] or [EMPTY]
