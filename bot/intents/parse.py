"""Command text → :data:`Intent`: the command table (one parser per command word), the help
text, the typo and synonym suggestions, and the rule that any other text is a search.

``parse`` never raises and never guesses an action: text that is not a documented form
becomes a ``NotUnderstood`` whose ``reason`` says what is wrong and whose ``suggestion``
names the command a typo most likely meant. Pure: no I/O, no Slack types.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence

from .. import finder
from .emails import ID_RE, INT_RE, customer_ref, parse_id, strip_wrappers, tidy, unslack
from .types import (
    MAX_ECHO, MAX_GROUP, MAX_ID, MAX_PAGE, MAX_TEXT, Approve, Delete, Deny, Dismiss, Find, Help,
    History, Intent, ListGroups, Lookup, Members, Move, NotUnderstood, Pending, SetFlag,
    UndoLatest, Who,
)

# =============================================================================================
# Vocabulary

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

_EXAMPLE = "jane@example.com"
_MOVE_EXAMPLE = f"`move {_EXAMPLE} to Wholesale`"
_GROUP_TOO_LONG = f"That group name is too long (at most {MAX_GROUP} characters)."

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
    said = tidy(unslack(text))
    words = said.split(" ") if said else []
    if not words:
        return Help()
    head, args = words[0], words[1:]
    handler = _HANDLERS.get(strip_wrappers(head).lower())
    if handler is not None:
        return handler(said, strip_wrappers(head).lower(), args)
    who = customer_ref(head)
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
    bare = strip_wrappers(token) or token
    if bare.startswith("#") or bare[:3].lower() == "id:":
        return f"{_quoted(bare)} isn't a valid customer id"
    return f"{_quoted(bare)} isn't a valid address"


def _show_who(who: Who) -> str:
    return f"#{who}" if isinstance(who, int) else who


def _unknown(said: str, head: str, args: Sequence[str] = ()) -> NotUnderstood:
    """Why the first word is neither a command nor a customer, with a typo guess."""
    token = strip_wrappers(head) or head
    if token.count("@") == 1 and not token.startswith("@"):
        return _nope(said, f"{_quoted(token)} isn't a valid email address.")
    if token.isascii() and token.isdigit():
        return _nope(said, f"{_quoted(token)} isn't a command; for a customer id write `#{token[:20]}` "
                           "(a phone number needs all its digits).")
    if ID_RE.fullmatch(token) is not None or token.startswith("#") and token[1:].isdigit():
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
    token = strip_wrappers(head) or head
    if _ref_shaped(token) or any(customer_ref(a) is not None for a in args):
        return _unknown(said, head, args)
    suggestion = _suggest(token)
    if suggestion is not None and (not args or suggestion == "find"):
        return _unknown(said, head, args)
    return _search(said, strip_wrappers(said))


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


_ID_SHAPED_RE = re.compile(r"(?:#|id:)[0-9]+", re.IGNORECASE | re.ASCII)
"""What was meant as a customer id (``#`` or ``id:`` and digits), valid or not."""


def _parse_find(said: str, verb: str, args: Sequence[str]) -> Intent:
    if not args:
        return _nope(said, f"`{verb}` needs something to look for: a name, a company, a phone number or "
                           f"part of an address, like `{verb} Jane Doe` or `{verb} @acme.com`.")
    text = " ".join(args)
    if finder.is_phone(text):
        return _search(said, text)
    text = strip_wrappers(text)
    who = customer_ref(text)
    if isinstance(who, int):
        return Lookup(who)
    if _ID_SHAPED_RE.fullmatch(text) is not None:  # `#0`, a 20-digit id: a mistyped id, not a name
        return _nope(said, f"{_quoted(text)} isn't a valid customer id: ids are whole numbers from 1, "
                           "like `#123`.")
    if INT_RE.fullmatch(text) is not None and int(text) <= MAX_ID:
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
    return _suggest(strip_wrappers(word))


def _one_customer(make: Callable[[Who], Intent]) -> Handler:
    """A handler for ``<verb> <customer>``."""

    def handle(said: str, verb: str, args: Sequence[str]) -> Intent:
        example = f"`{verb} {_EXAMPLE}`"
        if not args:
            return _nope(said, f"`{verb}` needs an address, like {example}.")
        who = customer_ref(args[0])
        if who is None:
            if verb == "approve" and strip_wrappers(args[0]).lower() == "all":
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
    who = customer_ref(args[0])
    if who is None:
        if any(customer_ref(a) is not None for a in args[1:]):
            return _nope(said, f"Put the address right after `move`, like {_MOVE_EXAMPLE}.")
        return _nope(said, f"{_not_a_customer(args[0])}; {usage}")
    rest = list(args[1:])
    if rest and rest[0].lower() == "to":
        rest = rest[1:]
    group = _clean_group(rest)
    if group is None:
        return _nope(said, f"`move` needs a group after the address, like {_MOVE_EXAMPLE}.")
    if len(group) > MAX_GROUP:
        return _nope(said, _GROUP_TOO_LONG)
    if len(rest) == 1 and isinstance(customer_ref(rest[0]), str):
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
        return _nope(said, _GROUP_TOO_LONG)
    return Members(group, page)


def _parse_pending(said: str, verb: str, args: Sequence[str]) -> Intent:
    page, rest = _split_page(args)
    if page is None:
        return _nope(said, f"The page must be a number from 1 to {MAX_PAGE}, like `pending page 2`.")
    if rest:
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
        return parse_id(strip_wrappers(words[-1]), MAX_PAGE), words[:-2]
    return 1, words


def _clean_group(words: Sequence[str]) -> str | None:
    """Group text as typed: words joined by one space, without wrapping quotes or trailing
    punctuation; ``#5`` / ``id:5`` mean group id ``"5"``. ``None`` when nothing is left.

    Dropping a trailing ``.`` is safe because the desk matches groups by prefix too.
    """
    group = strip_wrappers(" ".join(words))
    match = ID_RE.fullmatch(group)
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

