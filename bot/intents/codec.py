"""The button and menu value codec: ``encode`` turns an intent into a short printable string
for a Slack button or menu option, ``decode`` turns such a string back into the intent.

A value comes back from the client, which can edit it, so ``decode`` is strict: it accepts
only the one canonical spelling ``encode`` produces, with the same address, id and text rules
as typed commands, and never raises. The desk still re-checks permissions and state for every
decoded intent.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, unquote

from .. import finder
from ..store.models import FLAGS
from .emails import is_email, parse_id, tidy
from .types import (
    MAX_BATCH, MAX_GROUP, MAX_PAGE, MAX_VALUE, Approve, ApproveAll, Delete, Deny, Dismiss, Find,
    Help, History, Intent, ListGroups, Lookup, Members, Move, Pending, SetFlag, Undo, UndoLatest,
    Who,
)

Reader = Callable[[list[str]], Intent | None]
"""Turns the ``:``-separated fields after a value's tag into an intent, or ``None``."""


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


# =============================================================================================
# Fields

def _dec_who(field: str) -> Who | None:
    if field.isascii() and field.isdigit():
        return parse_id(field)
    email = _unquote(field)
    return email if email is not None and is_email(email) else None


def _dec_group(field: str, *, allow_empty: bool = False) -> str | None:
    """Group text as ``parse`` would produce it: short, single-spaced, no control characters."""
    group = _unquote(field)
    if group is None or not (group or allow_empty):
        return None
    return group if len(group) <= MAX_GROUP and tidy(group) == group else None


def _dec_menu_group(field: str) -> str | None:
    """A group, or nothing: ``move:123:`` is the template a group menu fills in."""
    return _dec_group(field, allow_empty=True)


def _dec_search(field: str) -> str | None:
    """Search text as ``parse`` would produce it (see ``parse._search``)."""
    text = _unquote(field)
    if text is None or not (0 < len(text) <= finder.MAX_TEXT and any(ch.isalnum() for ch in text)):
        return None
    return text if tidy(text) == text else None


def _dec_flag(field: str) -> str | None:
    return field if field in FLAGS else None


def _dec_bool(field: str) -> bool | None:
    return {"1": True, "0": False}.get(field)


def _dec_page(field: str) -> int | None:
    return parse_id(field, MAX_PAGE)


def _unquote(field: str) -> str | None:
    try:
        return unquote(field, errors="strict")
    except UnicodeDecodeError:
        return None


# =============================================================================================
# Readers

def _read(make: Callable[..., Intent], *decoders: Callable[[str], object]) -> Reader:
    """A reader for exactly one field per decoder: ``make`` of the decoded fields, or ``None``
    when the number of fields is wrong or any of them does not decode."""

    def read(fields: list[str]) -> Intent | None:
        if len(fields) != len(decoders):
            return None
        values = [decode_field(field) for decode_field, field in zip(decoders, fields)]
        return None if any(value is None for value in values) else make(*values)

    return read


def _either(*readers: Reader) -> Reader:
    """The first of ``readers`` that reads the fields (for tags with optional fields)."""

    def read(fields: list[str]) -> Intent | None:
        for reader in readers:
            intent = reader(fields)
            if intent is not None:
                return intent
        return None

    return read


def _read_all(fields: list[str]) -> Intent | None:
    if len(fields) != 1:
        return None
    parts = fields[0].split(",")
    if len(parts) > MAX_BATCH:
        return None
    ids = tuple(parse_id(p) for p in parts)
    if any(i is None for i in ids):
        return None
    return ApproveAll(ids)  # type: ignore[arg-type]  # no None left


_READERS: dict[str, Reader] = {
    "look": _read(Lookup, _dec_who),
    "move": _read(Move, _dec_who, _dec_menu_group),
    "flag": _read(SetFlag, _dec_who, _dec_flag, _dec_bool),
    "del": _read(Delete, _dec_who, _dec_bool),
    "groups": _read(ListGroups),
    "mem": _read(Members, _dec_group, _dec_page),
    "pend": _read(Pending, _dec_page),
    "appr": _read(Approve, _dec_who),
    "deny": _read(Deny, _dec_who),
    "dism": _read(Dismiss, _dec_who),
    "all": _read_all,
    # ``hist:<who>`` (page 1, as buttons made before paging) or ``hist:<who>:<page>``
    "hist": _either(_read(History, _dec_who), _read(History, _dec_who, _dec_page)),
    "undo": _either(_read(UndoLatest), _read(Undo, parse_id)),
    "help": _read(Help),
    "find": _read(Find, _dec_search, _dec_page),
}
