"""Reading customers out of text: what an address, a ``#123`` / ``id:123`` id and a page number
look like, Slack's escapes undone (``<mailto:…|…>``, ``&amp;``), and scanning a whole message
for the addresses, ids and phone numbers it names (``find_emails``, ``find_customers_in``).

Shared by the command parser (one typed token at a time) and the message shortcut (free
text); the button codec uses the same address and id rules, so a value can only carry a
customer that could have been typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from urllib.parse import unquote

from .. import finder
from .types import MAX_EMAIL, MAX_FOUND, MAX_ID, MAX_LOCAL_PART, MAX_PHONES, Find, Intent, Lookup, Who

# =============================================================================================
# Addresses and customer references

_LOCAL = r"[A-Za-z0-9_+-][A-Za-z0-9_+'-]*(?:\.[A-Za-z0-9_+'-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_TLD = r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{0,58}[A-Za-z0-9])"
_EMAIL_RE = re.compile(rf"{_LOCAL}@(?:{_LABEL}\.)+{_TLD}")
"""Pragmatic, ASCII only: ``local@sub.domain.tld``; the local part may hold ``+ . _ - '``.

Explicit ``A-Za-z`` ranges and no IGNORECASE: with IGNORECASE ``[a-z]`` also matches the Kelvin
sign and dotless i, which would let non-ASCII text pass as an address.
"""

ID_RE = re.compile(r"(?:#|id:)([0-9]{1,16})", re.IGNORECASE | re.ASCII)
INT_RE = re.compile(r"[1-9][0-9]{0,15}")
"""A canonical positive integer: ASCII digits, no sign, no leading zero, at most 16 digits."""

_OPENERS = "\"'“”‘’«»‹›([{<`*~"
_CLOSERS = "\"'“”‘’«»‹›)]}>`*~.,;:!?"


def is_email(text: str) -> bool:
    """Whether ``text`` is exactly one plausible address (no trimming, any case)."""
    if not 3 <= len(text) <= MAX_EMAIL or not text.isascii():
        return False
    if _EMAIL_RE.fullmatch(text) is None:
        return False
    return len(text.partition("@")[0]) <= MAX_LOCAL_PART


def normalize_email(text: str) -> str | None:
    """``text`` as a lower-cased address, tolerating wrappers (``(…)``, quotes, ``mailto:``,
    trailing punctuation); ``None`` if it is not one address."""
    token = strip_wrappers(text.strip())
    if token[:7].lower() == "mailto:":
        token = strip_wrappers(token[7:].partition("?")[0])
    return token.lower() if is_email(token) else None


def strip_wrappers(token: str) -> str:
    """``token`` without surrounding quotes, brackets, Slack formatting marks and trailing
    punctuation: ``("jane@example.com").`` → ``jane@example.com``."""
    previous = None
    while token != previous:
        previous = token
        token = token.strip().lstrip(_OPENERS).rstrip(_CLOSERS)
        if len(token) > 2 and token[0] == token[-1] == "_":  # _italic_
            token = token[1:-1]
    return token


def parse_id(text: str, limit: int = MAX_ID) -> int | None:
    """A canonical positive int up to ``limit`` (button values, page numbers), else ``None``."""
    if INT_RE.fullmatch(text) is None:
        return None
    number = int(text)
    return number if number <= limit else None


def customer_ref(token: str) -> Who | None:
    """A typed customer: ``#123`` / ``id:123`` → 123, an address → the address lower-cased."""
    bare = strip_wrappers(token)
    match = ID_RE.fullmatch(bare)
    if match is not None:
        number = int(match.group(1))
        return number if 1 <= number <= MAX_ID else None
    return normalize_email(bare)


# =============================================================================================
# Slack text

_MARKUP_RE = re.compile(r"<([^<>]*)>")
_ENTITY_RE = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}


def _resolve_markup(body: str) -> str:
    """What the user saw for one ``<…>`` Slack markup: the address of a ``mailto:`` link, else
    the label (``<@U1|bob>`` → ``@bob``, ``<#C1|general>`` → ``#general``, ``<!here>`` →
    ``@here``, ``<http://x|site>`` → ``site``)."""
    target, _, label = body.partition("|")
    if target[:7].lower() == "mailto:":
        return unquote(target[7:].partition("?")[0])
    sigil = {"@": "@", "!": "@", "#": "#"}.get(target[:1], "")
    if label:
        return label if not sigil or label.startswith(sigil) else sigil + label
    return sigil + target[1:] if sigil else target


def unslack(text: str, *, pad: bool = False) -> str:
    """Plain text from Slack-escaped text: markup resolved, then ``&amp; &lt; &gt;`` unescaped.

    Markup is resolved first because a real ``<`` only ever starts markup (Slack sends a typed
    ``<`` as ``&lt;``). ``pad`` puts spaces around resolved markup so that it cannot merge with
    neighbouring text (for searching, not for commands where a quote may hug an address).
    """
    edge = " " if pad else ""
    resolved = _MARKUP_RE.sub(lambda m: edge + _resolve_markup(m.group(1)) + edge, text)
    return _ENTITY_RE.sub(lambda m: _ENTITIES[m.group(1)], resolved)


def tidy(text: str) -> str:
    """``text`` with invisible and control characters dropped and every run of whitespace
    (tabs, no-break spaces) one space: the form ``parse`` reads and the codec insists on."""
    visible = "".join(ch for ch in text if ch.isspace() or not unicodedata.category(ch).startswith("C"))
    return " ".join(visible.split())


# =============================================================================================
# Addresses, ids and phone numbers in free text

_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+'-")
_DOMAIN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")


def find_emails(text: str) -> list[str]:
    """Every address in free message text (plain or ``<mailto:…|…>``), lower-cased, each once
    in first-seen order, at most ``MAX_FOUND``.

    Scans outward from each ``@`` over a bounded window instead of running a regex search
    over the whole text: a regex search restarts at every position, which is quadratic on long
    runs of address characters; this is linear in the text.
    """
    if not isinstance(text, str):
        return []
    plain = unslack(text, pad=True)
    found: dict[str, None] = {}
    for at in _positions(plain, "@"):
        email = _email_around(plain, at)
        if email is not None:
            found.setdefault(email.lower())
            if len(found) == MAX_FOUND:
                break
    return list(found)


def _positions(text: str, char: str) -> Iterator[int]:
    at = text.find(char)
    while at != -1:
        yield at
        at = text.find(char, at + 1)


def _email_around(text: str, at: int) -> str | None:
    """The address whose ``@`` is at ``text[at]``, if one is there."""
    start = at
    while start > 0 and text[start - 1] in _LOCAL_CHARS and at - start <= MAX_LOCAL_PART:
        start -= 1
    end = at + 1
    while end < len(text) and text[end] in _DOMAIN_CHARS and end - at <= MAX_EMAIL:
        end += 1
    if at - start > MAX_LOCAL_PART or end - at > MAX_EMAIL:
        return None  # the run goes on: part of something longer than an address
    if (start > 0 and text[start - 1] == "@") or (end < len(text) and text[end] == "@"):
        return None  # a@b@c.com is not an address, nor is a piece of it
    local = text[start:at].lstrip(".'")
    domain = text[at + 1:end].rstrip(".-")
    candidate = f"{local}@{domain}"
    return candidate if is_email(candidate) else None


_ID_IN_TEXT_RE = re.compile(r"(?<![\w#&])(?:#|id:)([1-9][0-9]{0,15})(?![\w@])", re.IGNORECASE | re.ASCII)


def find_customers_in(text: str) -> list[Intent]:
    """Every customer a message names, for the message shortcut: its addresses and ``#123`` /
    ``id:123`` ids as ``Lookup``, its phone numbers as ``Find`` — addresses first, then ids,
    then phone numbers, each once, at most ``MAX_FOUND`` in all and ``MAX_PHONES`` phone
    numbers (each is a search of up to three store requests)."""
    if not isinstance(text, str):
        return []
    plain = unslack(text, pad=True)
    found: list[Intent] = [Lookup(email) for email in find_emails(text)]
    for match in _ID_IN_TEXT_RE.finditer(plain):
        number = int(match.group(1))
        if number <= MAX_ID and Lookup(number) not in found:
            found.append(Lookup(number))
        if len(found) >= MAX_FOUND:
            return found[:MAX_FOUND]
    found += [Find(phone) for phone in finder.find_phones(plain, MAX_PHONES)]
    return found[:MAX_FOUND]

