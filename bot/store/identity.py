"""A store answer is used only for the customer it was asked about (issue 14).

Store-neutral checks every backend applies to what it read, and the desk applies again before a
write: a fresh read by ID must answer that ID; a lookup by address keeps only records whose
address is the one asked (trimmed, case-insensitive: a store's email filter may match
substrings); a record without a usable ID is unreadable, never customer 0.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from .errors import WrongRecord
from .models import Customer

log = logging.getLogger(__name__)

DIFFERENT_CUSTOMER = "The store answered with a different customer; nothing was changed."
NO_ID = "The store answered with a customer record that has no usable ID; nothing was changed."


def email_key(email: str) -> str:
    return (email or "").strip().lower()


def require_id(customer: Customer, *, store: str = "store") -> Customer:
    """``customer``, or ``WrongRecord`` when it carries no usable ID (a positive integer)."""
    if not isinstance(customer.id, int) or isinstance(customer.id, bool) or customer.id <= 0:
        log.warning("%s answered a customer record without a usable id (%r)", store, customer.id)
        raise WrongRecord(NO_ID, answered=None)
    return customer


def same_customer(requested_id: int, customer: Customer, *, store: str = "store") -> Customer:
    """``customer`` if it is the one asked for by ID, else ``WrongRecord`` (logged with both IDs)."""
    require_id(customer, store=store)
    if customer.id != int(requested_id):
        log.warning("%s answered customer #%s when asked for customer #%s", store, customer.id, requested_id)
        raise WrongRecord(DIFFERENT_CUSTOMER, requested=int(requested_id), answered=customer.id)
    return customer


def exact_email(customers: Iterable[Customer], email: str | None) -> Iterator[Customer]:
    """Only the records whose address equals ``email`` (trimmed, any case); all when no email."""
    wanted = email_key(email or "")
    for customer in customers:
        if not wanted or email_key(customer.email) == wanted:
            yield customer
