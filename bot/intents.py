"""Intents: what a user asked for, parsed from ``/customer`` text or decoded from a button.

Pure: no I/O, no Slack types. ``parse(text)`` reads command text; ``encode``/``decode`` turn an
intent into a compact string for a button or menu value and back. Decoded values are
*untrusted* (a client can edit them): the desk re-checks permissions and state for every one.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Union
from urllib.parse import quote, unquote

from .store.models import FLAGS, Flag
from . import finder

Who = Union[str, int]
"""A customer as the user named them: an email address (str) or a store customer id (int)."""


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class NotUnderstood:
    text: str
    suggestion: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Lookup:
    who: Who


@dataclass(frozen=True)
class Move:
    who: Who
    group: str
    """Group as typed: numeric id, name in any case, or a unique prefix."""


@dataclass(frozen=True)
class SetFlag:
    who: Who
    flag: Flag
    value: bool


@dataclass(frozen=True)
class Delete:
    who: Who
    confirmed: bool = False


@dataclass(frozen=True)
class ListGroups:
    pass


@dataclass(frozen=True)
class Members:
    group: str
    page: int = 1


@dataclass(frozen=True)
class Pending:
    page: int = 1


@dataclass(frozen=True)
class Approve:
    who: Who


@dataclass(frozen=True)
class Deny:
    who: Who


@dataclass(frozen=True)
class Dismiss:
    """Take an application out of the queue without changing the store (admins)."""

    who: Who


@dataclass(frozen=True)
class ApproveAll:
    ids: tuple[int, ...]


@dataclass(frozen=True)
class History:
    who: Who
    page: int = 1


@dataclass(frozen=True)
class Undo:
    change_id: int


@dataclass(frozen=True)
class UndoLatest:
    """``undo`` typed: the asker's own latest change that can still be undone."""


@dataclass(frozen=True)
class Find:
    """Search customers by name, company, phone number or part of an address (``finder``)."""

    text: str
    """As typed: trimmed, single-spaced, at most ``finder.MAX_TEXT`` characters."""
    page: int = 1


Intent = Union[
    Help, NotUnderstood, Lookup, Move, SetFlag, Delete, ListGroups, Members,
    Pending, Approve, Deny, ApproveAll, History, Undo, UndoLatest, Find, Dismiss,
]


# =============================================================================================
# Limits and vocabulary

COMMANDS: tuple[str, ...] = (
    "lookup", "move", "enable", "disable", "subscribe", "unsubscribe", "delete",
    "groups", "members", "pending", "approve", "deny", "history", "help", "undo", "find", "search",
    "dismiss",
)
"""Every command word ``parse`` knows (keywords are case-insensitive)."""

USAGE = """\
`jane@example.com` or `lookup jane@example.com` - show a customer
`move jane@example.com to Wholesale` - change group (name, prefix or group id)
`enable jane@example.com` / `disable jane@example.com` - allow or block the account
`subscribe jane@example.com` / `unsubscribe jane@example.com` - mailing list on or off
`delete jane@example.com` - delete the account (asks to confirm)
`groups` - list customer groups
`members Wholesale` (or `members Wholesale page 2`) - customers in a group
`pending` (or `pending page 2`) - wholesale applications waiting for a decision
`approve jane@example.com` / `deny jane@example.com` - decide an application
`dismiss jane@example.com` - take an application out of the queue (the store is not changed)
`history jane@example.com` (or `history jane@example.com page 2`) - changes the bot made to a customer
`undo` - undo your own latest recent move, enable/disable or (un)subscribe (approve, deny and delete are final)
`find Jane Doe` (or `search …`, or just `Jane Doe`) - find a customer by name (either order), company, phone number (`217 555 0101`) or part of the address (`@acme.com`)
`help` - this text
Name a customer by address or by store id: `#123` or `id:123`.
"""

MAX_EMAIL = 254
MAX_LOCAL_PART = 64
MAX_GROUP = 100
"""Longest group text accepted (typed or decoded); real group names are far shorter."""
MAX_ID = 2**53
"""Largest customer / change id accepted: beyond it ids stop being exact in JSON consumers."""
MAX_PAGE = 10_000
MAX_TEXT = 4_000
"""Command text longer than this is refused without being parsed."""
MAX_ECHO = 200
"""``NotUnderstood.text`` keeps at most this many characters of what was typed."""
MAX_FOUND = 20
"""``find_emails`` returns at most this many addresses."""
MAX_PHONES = 3
"""``find_customers_in`` returns at most this many phone numbers."""
MAX_VALUE = 2_000
"""Slack's limit for a button value; ``decode`` refuses anything longer unread."""
MAX_BATCH = 500
"""Most ids one ``ApproveAll`` may carry."""

_EXAMPLE = "jane@example.com"
_MOVE_EXAMPLE = f"`move {_EXAMPLE} to Wholesale`"

# Words people reach for that are not commands: suggested (never obeyed) as the real one.
_SYNONYMS = {
    "remove": "delete", "rm": "delete", "del": "delete", "erase": "delete",
    "show": "find", "info": "find", "whois": "find", "who": "find", "lookfor": "find",
    "activate": "enable", "unblock": "enable", "unlock": "enable",
    "deactivate": "disable", "block": "disable", "lock": "disable", "suspend": "disable",
    "reject": "deny", "decline": "deny", "accept": "approve",
    "log": "history", "audit": "history", "usage": "help",
}


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

_ID_RE = re.compile(r"(?:#|id:)([0-9]{1,16})", re.IGNORECASE | re.ASCII)
_INT_RE = re.compile(r"[1-9][0-9]{0,15}")
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
    token = _strip_wrappers(text.strip())
    if token[:7].lower() == "mailto:":
        token = _strip_wrappers(token[7:].partition("?")[0])
    return token.lower() if is_email(token) else None


def _strip_wrappers(token: str) -> str:
    """``token`` without surrounding quotes, brackets, Slack formatting marks and trailing
    punctuation: ``("jane@example.com").`` → ``jane@example.com``."""
    previous = None
    while token != previous:
        previous = token
        token = token.strip().lstrip(_OPENERS).rstrip(_CLOSERS)
        if len(token) > 2 and token[0] == token[-1] == "_":  # _italic_
            token = token[1:-1]
    return token


def _parse_id(text: str, limit: int = MAX_ID) -> int | None:
    """A canonical positive int up to ``limit`` (button values, page numbers), else ``None``."""
    if _INT_RE.fullmatch(text) is None:
        return None
    number = int(text)
    return number if number <= limit else None


def _customer_ref(token: str) -> Who | None:
    """A typed customer: ``#123`` / ``id:123`` → 123, an address → the address lower-cased."""
    bare = _strip_wrappers(token)
    match = _ID_RE.fullmatch(bare)
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


def _normalize(text: str) -> str:
    """Command text as read: Slack markup resolved, entities unescaped, invisible and control
    characters dropped, every run of whitespace (tabs, no-break spaces) one space."""
    plain = unslack(text)
    visible = "".join(
        ch for ch in plain if ch.isspace() or not unicodedata.category(ch).startswith("C"))
    return " ".join(visible.split())


# =============================================================================================
# parse

Handler = Callable[[str, str, Sequence[str]], Intent]


def parse(text: str) -> Intent:
    """The intent of ``/customer`` command text (see ``USAGE``). Never raises.

    Anything that is not a documented form is a :class:`NotUnderstood` whose ``reason`` says
    what is wrong and whose ``suggestion`` names the command a typo most likely meant.
    """
    if not isinstance(text, str):
        return NotUnderstood("", None, "That isn't command text.")
    if len(text) > MAX_TEXT:
        return _nope(text, f"That's too long for a command (at most {MAX_TEXT} characters).")
    said = _normalize(text)
    words = said.split(" ") if said else []
    if not words:
        return Help()
    head, args = words[0], words[1:]
    handler = _HANDLERS.get(_strip_wrappers(head).lower())
    if handler is not None:
        return handler(said, _strip_wrappers(head).lower(), args)
    who = _customer_ref(head)
    if who is None:
        return _fallback(said, head, args)
    if args:
        return _nope(said, f"Put the command first, like `move {_show_who(who)} to Wholesale`; "
                           f"a customer on their own is looked up.")
    return Lookup(who)


def _nope(said: str, reason: str, suggestion: str | None = None) -> NotUnderstood:
    echo = said if len(said) <= MAX_ECHO else said[: MAX_ECHO - 1] + "…"
    return NotUnderstood(echo, suggestion, reason)


def _quoted(token: str, limit: int = 60) -> str:
    """``token`` for a reason sentence: in backticks, short, without backticks of its own."""
    token = token.replace("`", "'")
    if len(token) > limit:
        token = token[: limit - 1] + "…"
    return f"`{token}`"


def _not_a_customer(token: str) -> str:
    """Why ``token`` does not name a customer, as the start of a sentence."""
    bare = _strip_wrappers(token) or token
    if bare.startswith("#") or bare[:3].lower() == "id:":
        return f"{_quoted(bare)} isn't a valid customer id"
    return f"{_quoted(bare)} isn't a valid address"


def _show_who(who: Who) -> str:
    return f"#{who}" if isinstance(who, int) else who


def _unknown(said: str, head: str, args: Sequence[str] = ()) -> NotUnderstood:
    """Why the first word is neither a command nor a customer, with a typo guess."""
    token = _strip_wrappers(head) or head
    if token.count("@") == 1 and not token.startswith("@"):
        return _nope(said, f"{_quoted(token)} isn't a valid email address.")
    if token.isascii() and token.isdigit():
        return _nope(said, f"{_quoted(token)} isn't a command; for a customer id write `#{token[:20]}` "
                           "(a phone number needs all its digits).")
    if _ID_RE.fullmatch(token) is not None or token.startswith("#") and token[1:].isdigit():
        return _nope(said, f"{_quoted(token)} isn't a valid customer id.")
    suggestion = _suggest(token)
    if suggestion is not None:
        search = ""
        if suggestion == "find" and args:
            search = f" To search, type {_quoted('find ' + ' '.join(args))}."
        elif not args and token.isalpha() and suggestion != "find":
            search = f" To search for a customer called {_quoted(token)}, type {_quoted('find ' + token)}."
        return _nope(said, f"{_quoted(token)} isn't a command.{search}", suggestion)
    return _nope(said, f"{_quoted(token)} isn't an address or a command.")


def _fallback(said: str, head: str, args: Sequence[str]) -> Intent:
    """Text that starts with neither a command word nor a customer: a search (a name, a
    company, a phone number, part of an address) — unless it looks like a mistyped command or
    customer, which gets the usual reason and suggestion.

    The boundary: a phone number is always a search. A first word shaped like a broken
    address or id (``jane@example``, ``#0``, a Slack mention ``@bob`` or channel ``#general``)
    is a typo. So is text that names a customer after its first word (``mvoe jane@… to VIP``:
    a command with a typo), and a lone word that is a near-miss of a command (``grups``) or
    a synonym (``show``); the reason then says how to search for it instead. Several words
    that name no customer are searched even when the first resembles a command (``Moe
    Smith``); if nothing matches, the answer still suggests the command.
    """
    if finder.is_phone(said):
        return _search(said, said)
    token = _strip_wrappers(head) or head
    if _ref_shaped(token) or any(_customer_ref(a) is not None for a in args):
        return _unknown(said, head, args)
    suggestion = _suggest(token)
    if suggestion is not None and (not args or suggestion == "find"):
        return _unknown(said, head, args)
    return _search(said, _strip_wrappers(said))


def _ref_shaped(token: str) -> bool:
    """Whether ``token`` was meant as an address or id (or is Slack's ``@user`` / ``#channel``)
    rather than a word to search for; ``@acme.com`` is a part of addresses, and searched."""
    if "@" in token:
        local, _, domain = token.partition("@")
        return bool(local) or "." not in domain or token.count("@") > 1
    if token.isascii() and token.isdigit():
        return True
    return token.startswith("#") or token[:3].lower() == "id:"


def _search(said: str, text: str) -> Intent:
    """``Find(text)``, or why ``text`` cannot be searched for."""
    if len(text) > finder.MAX_TEXT:
        return _nope(said, f"That's too long to search for (at most {finder.MAX_TEXT} characters); "
                           "try a name, a phone number or an address.")
    if not any(ch.isalnum() for ch in text):
        return _nope(said, "There is nothing to search for in that; try a name, a phone number or an address.")
    return Find(text)


def _parse_find(said: str, verb: str, args: Sequence[str]) -> Intent:
    if not args:
        return _nope(said, f"`{verb}` needs something to look for: a name, a company, a phone number or "
                           f"part of an address, like `{verb} Jane Doe` or `{verb} @acme.com`.")
    text = " ".join(args)
    if finder.is_phone(text):
        return _search(said, text)
    text = _strip_wrappers(text)
    who = _customer_ref(text)
    if isinstance(who, int):
        return Lookup(who)
    if _INT_RE.fullmatch(text) is not None and int(text) <= MAX_ID:
        return Lookup(int(text))  # `find 123`: a short number is a customer id, not a phone
    return _search(said, text)


def _suggest(word: str) -> str | None:
    """The command a mistyped ``word`` most likely meant (``mvoe`` → ``move``), if any."""
    word = word.lower()
    if not (word.isascii() and word.isalpha() and 2 <= len(word) <= 20):
        return None
    if word in _SYNONYMS:
        return _SYNONYMS[word]
    close = difflib.get_close_matches(word, COMMANDS, n=1, cutoff=0.7)
    return close[0] if close else None


def suggest_command(word: str) -> str | None:
    """The command a mistyped or synonym ``word`` most likely meant, if any (``mvoe`` → ``move``)."""
    return _suggest(_strip_wrappers(word))


def _one_customer(make: Callable[[Who], Intent]) -> Handler:
    """A handler for ``<verb> <customer>``."""

    def handle(said: str, verb: str, args: Sequence[str]) -> Intent:
        example = f"`{verb} {_EXAMPLE}`"
        if not args:
            return _nope(said, f"`{verb}` needs an address, like {example}.")
        who = _customer_ref(args[0])
        if who is None:
            if verb == "approve" and _strip_wrappers(args[0]).lower() == "all":
                return _nope(said, "To approve every applicant, use the Approve all button under `pending`.")
            search = " To search by name or phone, use `find`." if verb == "lookup" else ""
            return _nope(said, f"{_not_a_customer(args[0])}; `{verb}` needs a customer, like {example}.{search}")
        if len(args) > 1:
            return _nope(said, f"`{verb}` takes one customer at a time, like {example}.")
        return make(who)

    return handle


def _parse_move(said: str, verb: str, args: Sequence[str]) -> Intent:
    usage = f"`move` needs an address and a group, like {_MOVE_EXAMPLE}."
    if not args:
        return _nope(said, usage)
    who = _customer_ref(args[0])
    if who is None:
        if any(_customer_ref(a) is not None for a in args[1:]):
            return _nope(said, f"Put the address right after `move`, like {_MOVE_EXAMPLE}.")
        return _nope(said, f"{_not_a_customer(args[0])}; {usage}")
    rest = list(args[1:])
    if rest and rest[0].lower() == "to":
        rest = rest[1:]
    group = _clean_group(rest)
    if group is None:
        return _nope(said, f"`move` needs a group after the address, like {_MOVE_EXAMPLE}.")
    if len(group) > MAX_GROUP:
        return _nope(said, f"That group name is too long (at most {MAX_GROUP} characters).")
    if len(rest) == 1 and isinstance(_customer_ref(rest[0]), str):
        return _nope(said, f"{_quoted(rest[0])} is an address, not a group; {usage}")
    return Move(who, group)


def _parse_members(said: str, verb: str, args: Sequence[str]) -> Intent:
    page, rest = _split_page(args)
    if page is None:
        return _nope(said, f"The page must be a number from 1 to {MAX_PAGE}, like `members Wholesale page 2`.")
    group = _clean_group(rest)
    if group is None:
        return _nope(said, "`members` needs a group, like `members Wholesale` or `members Wholesale page 2`.")
    if len(group) > MAX_GROUP:
        return _nope(said, f"That group name is too long (at most {MAX_GROUP} characters).")
    return Members(group, page)


def _parse_pending(said: str, verb: str, args: Sequence[str]) -> Intent:
    page, rest = _split_page(args)
    if page is None or rest:
        return _nope(said, "`pending` takes nothing else (or a page: `pending page 2`).")
    return Pending(page)


def _parse_groups(said: str, verb: str, args: Sequence[str]) -> Intent:
    if args:
        return _nope(said, "`groups` takes nothing else; to see who is in a group, try `members Wholesale`.")
    return ListGroups()


def _parse_help(said: str, verb: str, args: Sequence[str]) -> Intent:
    return Help()


def _parse_history(said: str, verb: str, args: Sequence[str]) -> Intent:
    page, rest = _split_page(args)
    if page is None:
        return _nope(said, f"The page must be a number from 1 to {MAX_PAGE}, like `history {_EXAMPLE} page 2`.")
    intent = _one_customer(History)(said, verb, rest)
    return History(intent.who, page) if isinstance(intent, History) else intent


def _parse_undo(said: str, verb: str, args: Sequence[str]) -> Intent:
    if args:
        return _nope(said, "`undo` takes nothing else: it undoes your own latest change that can still be undone.")
    return UndoLatest()


def _split_page(args: Sequence[str]) -> tuple[int | None, list[str]]:
    """``(page, other words)`` from a trailing ``page N``; page 1 when there is none and
    ``None`` when ``N`` is not a page number."""
    words = list(args)
    if len(words) >= 2 and words[-2].lower() == "page":
        return _parse_id(_strip_wrappers(words[-1]), MAX_PAGE), words[:-2]
    return 1, words


def _clean_group(words: Sequence[str]) -> str | None:
    """Group text as typed: words joined by one space, without wrapping quotes or trailing
    punctuation; ``#5`` / ``id:5`` mean group id ``"5"``. ``None`` when nothing is left.

    Dropping a trailing ``.`` is safe because the desk matches groups by prefix too.
    """
    group = _strip_wrappers(" ".join(words))
    match = _ID_RE.fullmatch(group)
    if match is not None:
        group = str(int(match.group(1)))
    return group or None


_HANDLERS: dict[str, Handler] = {
    "lookup": _one_customer(Lookup),
    "move": _parse_move,
    "enable": _one_customer(lambda who: SetFlag(who, "enabled", True)),
    "disable": _one_customer(lambda who: SetFlag(who, "enabled", False)),
    "subscribe": _one_customer(lambda who: SetFlag(who, "mail_list", True)),
    "unsubscribe": _one_customer(lambda who: SetFlag(who, "mail_list", False)),
    "delete": _one_customer(lambda who: Delete(who, confirmed=False)),
    "groups": _parse_groups,
    "members": _parse_members,
    "pending": _parse_pending,
    "approve": _one_customer(Approve),
    "deny": _one_customer(Deny),
    "dismiss": _one_customer(Dismiss),
    "history": _parse_history,
    "help": _parse_help,
    "undo": _parse_undo,
    "find": _parse_find,
    "search": _parse_find,
}


# =============================================================================================
# find_emails

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


# =============================================================================================
# Button / menu value codec

def encode(intent: Intent) -> str:
    """A short, printable value for a Slack button or menu option that ``decode`` turns back
    into ``intent``.

    Format: ``tag[:field…]``. Customers are ids (``123``) or percent-encoded addresses; group
    text is percent-encoded (``:`` ``,`` ``%`` and spaces never appear raw)::

        look:123            Lookup          appr:123 / deny:123 / hist:123
        move:123:5          Move            (``move:123:`` — empty group — is a menu template)
        flag:123:enabled:1  SetFlag         del:123:0 / del:123:1    Delete(confirmed)
        mem:5:2             Members(page)   pend:2                   Pending(page)
        all:1,2,3           ApproveAll      undo:42 / undo           Undo / UndoLatest
        groups              ListGroups      help                     Help

    Raises ``ValueError`` for an intent that cannot travel (``NotUnderstood``, out-of-range
    ids, over-long or control-character group text, a value over ``MAX_VALUE``): a button
    that would decode to something else, or to nothing, is a bug better caught where it is
    made. Menu options (≤ 150 characters) should carry group ids, not names.
    """
    value = _encode(intent)
    if decode(value) != intent:  # also enforces MAX_VALUE
        raise ValueError(f"{type(intent).__name__} cannot be encoded faithfully: {intent!r}")
    return value


def decode(value: str) -> Intent | None:
    """The intent in a button or menu value, or ``None`` for anything that ``encode`` would not
    have produced. Never raises: the value is untrusted (clients can edit it).

    Only the canonical spelling is accepted (``decode(v)`` then ``encode`` gives ``v`` back), so
    there is exactly one value per intent and no leading zeros, signs or stray escapes.
    """
    if not isinstance(value, str) or len(value) > MAX_VALUE:
        return None
    intent = _decode(value)
    if intent is None or _encode(intent) != value:
        return None
    return intent


def _encode(intent: Intent) -> str:
    match intent:
        case Lookup(who):
            return f"look:{_enc_who(who)}"
        case Move(who, group):
            return f"move:{_enc_who(who)}:{_enc_text(group)}"
        case SetFlag(who, flag, value):
            return f"flag:{_enc_who(who)}:{flag}:{_enc_bool(value)}"
        case Delete(who, confirmed):
            return f"del:{_enc_who(who)}:{_enc_bool(confirmed)}"
        case ListGroups():
            return "groups"
        case Members(group, page):
            return f"mem:{_enc_text(group)}:{_enc_int(page)}"
        case Pending(page):
            return f"pend:{_enc_int(page)}"
        case Approve(who):
            return f"appr:{_enc_who(who)}"
        case Deny(who):
            return f"deny:{_enc_who(who)}"
        case Dismiss(who):
            return f"dism:{_enc_who(who)}"
        case ApproveAll(ids):
            return "all:" + ",".join(_enc_int(i) for i in ids)
        case History(who, page):
            return f"hist:{_enc_who(who)}" + ("" if page == 1 else f":{_enc_int(page)}")
        case Undo(change_id):
            return f"undo:{_enc_int(change_id)}"
        case UndoLatest():
            return "undo"
        case Help():
            return "help"
        case Find(text, page):
            return f"find:{_enc_text(text)}:{_enc_int(page)}"
    raise ValueError(f"{type(intent).__name__} does not go on a button")


def _enc_int(number: object) -> str:
    if isinstance(number, bool) or not isinstance(number, int):
        raise ValueError(f"expected an int, got {number!r}")
    return str(number)


def _enc_bool(flag: object) -> str:
    return "1" if flag else "0"


def _enc_who(who: object) -> str:
    if isinstance(who, str):
        return quote(who, safe="@+'")
    return _enc_int(who)


def _enc_text(text: object) -> str:
    if not isinstance(text, str):
        raise ValueError(f"expected text, got {text!r}")
    return quote(text, safe="")


def _decode(value: str) -> Intent | None:
    tag, *fields = value.split(":")
    reader = _READERS.get(tag)
    return reader(fields) if reader is not None else None


def _dec_who(field: str) -> Who | None:
    if field.isascii() and field.isdigit():
        return _parse_id(field)
    email = _unquote(field)
    return email if email is not None and is_email(email) else None


def _dec_group(field: str, *, allow_empty: bool = False) -> str | None:
    group = _unquote(field)
    if group is None or not (group or allow_empty):
        return None
    return group if _is_group_text(group) else None


def _is_group_text(group: str) -> bool:
    """Group text as ``parse`` would produce it: short, single-spaced, no control characters."""
    return (len(group) <= MAX_GROUP
            and group == " ".join(group.split())
            and not any(unicodedata.category(ch).startswith("C") for ch in group))


def _dec_bool(field: str) -> bool | None:
    return {"1": True, "0": False}.get(field)


def _unquote(field: str) -> str | None:
    try:
        return unquote(field, errors="strict")
    except UnicodeDecodeError:
        return None


def _read_history(fields: list[str]) -> Intent | None:
    """``hist:<who>`` (page 1, as buttons made before paging) or ``hist:<who>:<page>``."""
    if len(fields) not in (1, 2):
        return None
    who = _dec_who(fields[0])
    page = _parse_id(fields[1], MAX_PAGE) if len(fields) == 2 else 1
    return None if who is None or page is None else History(who, page)


def _read_who(make: Callable[[Who], Intent]) -> Callable[[list[str]], Intent | None]:
    def read(fields: list[str]) -> Intent | None:
        if len(fields) != 1:
            return None
        who = _dec_who(fields[0])
        return None if who is None else make(who)

    return read


def _read_move(fields: list[str]) -> Intent | None:
    if len(fields) != 2:
        return None
    who, group = _dec_who(fields[0]), _dec_group(fields[1], allow_empty=True)
    return None if who is None or group is None else Move(who, group)


def _read_flag(fields: list[str]) -> Intent | None:
    if len(fields) != 3 or fields[1] not in FLAGS:
        return None
    who, value = _dec_who(fields[0]), _dec_bool(fields[2])
    if who is None or value is None:
        return None
    return SetFlag(who, fields[1], value)  # type: ignore[arg-type]  # checked against FLAGS


def _read_delete(fields: list[str]) -> Intent | None:
    if len(fields) != 2:
        return None
    who, confirmed = _dec_who(fields[0]), _dec_bool(fields[1])
    return None if who is None or confirmed is None else Delete(who, confirmed)


def _read_members(fields: list[str]) -> Intent | None:
    if len(fields) != 2:
        return None
    group, page = _dec_group(fields[0]), _parse_id(fields[1], MAX_PAGE)
    return None if group is None or page is None else Members(group, page)


def _read_pending(fields: list[str]) -> Intent | None:
    page = _parse_id(fields[0], MAX_PAGE) if len(fields) == 1 else None
    return None if page is None else Pending(page)


def _read_all(fields: list[str]) -> Intent | None:
    if len(fields) != 1:
        return None
    parts = fields[0].split(",")
    if len(parts) > MAX_BATCH:
        return None
    ids = tuple(_parse_id(p) for p in parts)
    if any(i is None for i in ids):
        return None
    return ApproveAll(ids)  # type: ignore[arg-type]  # no None left


def _read_undo(fields: list[str]) -> Intent | None:
    if not fields:
        return UndoLatest()
    change_id = _parse_id(fields[0]) if len(fields) == 1 else None
    return None if change_id is None else Undo(change_id)


def _read_find(fields: list[str]) -> Intent | None:
    if len(fields) != 2:
        return None
    text, page = _unquote(fields[0]), _parse_id(fields[1], MAX_PAGE)
    if text is None or page is None or not _is_search_text(text):
        return None
    return Find(text, page)


def _is_search_text(text: str) -> bool:
    """Search text as ``parse`` would produce it (see ``_search``)."""
    return (0 < len(text) <= finder.MAX_TEXT and any(ch.isalnum() for ch in text)
            and text == " ".join(text.split())
            and not any(unicodedata.category(ch).startswith("C") for ch in text))


def _read_bare(make: Callable[[], Intent]) -> Callable[[list[str]], Intent | None]:
    return lambda fields: None if fields else make()


_READERS: dict[str, Callable[[list[str]], Intent | None]] = {
    "look": _read_who(Lookup),
    "move": _read_move,
    "flag": _read_flag,
    "del": _read_delete,
    "groups": _read_bare(ListGroups),
    "mem": _read_members,
    "pend": _read_pending,
    "appr": _read_who(Approve),
    "deny": _read_who(Deny),
    "dism": _read_who(Dismiss),
    "all": _read_all,
    "hist": _read_history,
    "undo": _read_undo,
    "help": _read_bare(Help),
    "find": _read_find,
}
