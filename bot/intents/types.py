"""The intents themselves: one frozen dataclass per thing a user can ask for, the ``Intent``
union of them all, ``Who`` (a customer as named), and the size limits every reader shares.

Plain data with no behaviour, so that the parser, the text scanners, the button codec and the
desk can all depend on it without depending on each other. A decoded intent is *untrusted*
(button values can be edited by a client): the desk re-checks permissions and state for each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from ..store.models import Flag

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
# Limits

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
