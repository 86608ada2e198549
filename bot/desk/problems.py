"""What goes wrong, as the desk tells it: the desk's own exceptions and the friendly Reply for
each store or group-lookup error.

The use cases raise (``Missing``, ``Refused``, ``WriteInDoubt``, the store's typed errors);
``Desk.handle`` catches them and answers with ``store_problem`` / ``group_problem``, so no
handler words an error itself and nothing user-facing shows a traceback or a secret.
"""

from __future__ import annotations

from ..reply import Reply
from ..store.backend import StoreHints
from ..store.errors import (
    AmbiguousGroup, AuthFailed, BadRequest, GroupLookupError, NotFound, RateLimited, StoreError, Unavailable,
    WrongRecord,
)
from .wording import clip, code, group_label


class Missing(NotFound):
    """A customer the user named is not in the store; the message says what to do."""


class WriteInDoubt(Exception):
    """A write was sent and the store failed while handling it: it may or may not have applied.

    Only these get the "can't tell whether it was saved" answer; a failure before any write was
    sent (the fresh re-read, the group list) changed nothing, and the user is told so.
    """

    def __init__(self, cause: StoreError) -> None:
        super().__init__(str(cause))
        self.cause = cause


class Refused(Exception):
    """The actor may not do this; carries the reply that says who may."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.text)
        self.reply = reply


def in_doubt(exc: StoreError) -> Exception:
    """Failures of a sent write: only a timeout or a 5xx leaves its outcome unknown."""
    return WriteInDoubt(exc) if isinstance(exc, Unavailable) else exc


def store_problem(exc: StoreError, *, writing: bool = False, hints: StoreHints | None = None) -> Reply:
    """A store error as a short, friendly message that says what to do. Never a secret.

    ``hints`` come from the backend: which settings to check when the credentials are refused."""
    if isinstance(exc, Missing):
        return Reply.notice("warn", str(exc))
    if isinstance(exc, NotFound):
        return Reply.notice("warn", "That customer no longer exists in the store.")
    if isinstance(exc, WrongRecord):
        return Reply.notice("error", exc.message)
    if isinstance(exc, AuthFailed):
        check = hints.credentials if hints is not None else "the store credentials and the app's read/write access"
        return Reply.notice("error", f"The store rejected the bot's credentials. An admin should check {check}.")
    if isinstance(exc, RateLimited):
        return Reply.notice("warn", "The store is busy right now (rate limited). Nothing was changed — try again in a minute.")
    if isinstance(exc, Unavailable):
        if writing and exc.status is None:
            return Reply.notice("error", "The store did not answer, so I can't tell whether the change was saved. "
                                "Look the customer up again in a minute to check.")
        if writing:
            return Reply.notice("error", "The store answered with an error, so the change may not have been saved. "
                                "Look the customer up again in a minute to check.")
        return Reply.notice("error", "The store is not answering right now. Nothing was changed — try again in a minute.")
    if isinstance(exc, BadRequest):
        return Reply.notice("error", f"The store refused that: {clip(exc.message, 300).rstrip('. ')}. Nothing was changed.")
    return Reply.notice("error", "The store had a problem. Nothing was changed — try again in a minute.")


def group_problem(exc: GroupLookupError) -> Reply:
    names = ", ".join(code(group_label(g)) for g in exc.candidates[:10])
    if isinstance(exc, AmbiguousGroup):
        text = f"{code(clip(exc.text, 60))} matches several groups: {names}. Type more of the name, or use the group ID."
    else:
        text = f"There is no group called {code(clip(exc.text, 60))}." + (f" Groups: {names}." if names else "")
        text += " Try `/customer groups` for the full list."
    return Reply.notice("warn", text, markup=True)
