"""Typed store errors.

Every message here is safe to show to a user or write to a log: no header values, no keys,
no tokens. Clients must build messages from status codes and the store's own error text only.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of everything a store backend raises."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message


class NotFound(StoreError):
    """The record does not exist (404 on a single-record request)."""


class AuthFailed(StoreError):
    """401: the SecureURL / PrivateKey / Token combination is wrong, or a scope is missing."""


class RateLimited(StoreError):
    """429 that outlasted the client's retry budget."""

    def __init__(self, message: str, *, status: int | None = 429, retry_after: float | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class Unavailable(StoreError):
    """5xx, timeouts, connection errors, or an answer that is not the JSON we expect."""


class BadRequest(StoreError):
    """400: the store rejected the request; ``message`` carries the store's own words."""


class GroupLookupError(Exception):
    """The text a user typed does not name exactly one customer group."""

    def __init__(self, text: str, candidates: list) -> None:
        super().__init__(text)
        self.text = text
        self.candidates = candidates


class UnknownGroup(GroupLookupError):
    """No group matches; ``candidates`` lists some existing groups to suggest."""


class AmbiguousGroup(GroupLookupError):
    """Several groups match a prefix; ``candidates`` lists them."""


class Misconfigured(Unavailable):
    """The answer shows the bot is not talking to the store's API at all (e.g. a wrong base URL
    answering an HTML 404): an operator must fix a setting, which the message names."""


class WrongRecord(StoreError):
    """The store answered with a record other than the one asked for, or one without a usable
    ID. Nothing may be written on the strength of such an answer."""

    def __init__(self, message: str, *, requested: int | str | None = None, answered: int | str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.requested = requested
        self.answered = answered
