"""Intents: what a user asked for, parsed from ``/customer`` text or decoded from a button.

Pure: no I/O, no Slack types. ``parse(text)`` reads command text; ``encode``/``decode`` turn an
intent into a compact string for a button or menu value and back. Decoded values are
*untrusted* (a client can edit them): the desk re-checks permissions and state for every one.

The package: ``types`` (the intent dataclasses and limits), ``emails`` (addresses, ids and
phone numbers in text, Slack escapes), ``parse`` (command text → intent) and ``codec`` (button
values). Import from here: ``bot.intents.parse`` is the function (it shadows its module).
"""

from .. import finder
from .codec import decode, encode
from .emails import find_customers_in, find_emails, is_email, normalize_email, unslack
from .parse import _HANDLERS, COMMANDS, USAGE, Handler, parse, suggest_command
from .types import (
    MAX_BATCH, MAX_ECHO, MAX_EMAIL, MAX_FOUND, MAX_GROUP, MAX_ID, MAX_LOCAL_PART, MAX_PAGE,
    MAX_PHONES, MAX_TEXT, MAX_VALUE, Approve, ApproveAll, Delete, Deny, Dismiss, Find, Help,
    History, Intent, ListGroups, Lookup, Members, Move, NotUnderstood, Pending, SetFlag, Undo,
    UndoLatest, Who,
)

__all__ = [
    "COMMANDS", "MAX_BATCH", "MAX_ECHO", "MAX_EMAIL", "MAX_FOUND", "MAX_GROUP", "MAX_ID",
    "MAX_LOCAL_PART", "MAX_PAGE", "MAX_PHONES", "MAX_TEXT", "MAX_VALUE", "USAGE", "Approve",
    "ApproveAll", "Delete", "Deny", "Dismiss", "Find", "Handler", "Help", "History", "Intent",
    "ListGroups", "Lookup", "Members", "Move", "NotUnderstood", "Pending", "SetFlag", "Undo",
    "UndoLatest", "Who", "decode", "encode", "find_customers_in", "find_emails", "finder",
    "is_email", "normalize_email", "parse", "suggest_command", "unslack",
]
