"""The protocol every store backend implements (3dcart now, BigCommerce next)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from .models import Customer, CustomerChange, CustomerGroup, CustomerQuery, WriteResult


class Backend(Protocol):
    """Raw store access. No caching here; ``CustomerService`` adds that.

    All methods raise ``store.errors.StoreError`` subclasses. List methods return ``[]`` when
    the store says there are no records (3dcart answers 404 for that). ``offset`` is the number
    of records to skip (``None``/0 = from the first); each backend maps it onto its own paging.
    """

    name: str

    def find_customers(self, query: CustomerQuery, *, limit: int = 100, offset: int | None = None) -> list[Customer]: ...

    def all_customers(self, query: CustomerQuery) -> Iterable[Customer]: ...

    def count_customers(self, query: CustomerQuery) -> int: ...

    def get_customer(self, customer_id: int) -> Customer: ...

    def update_customer(self, change: CustomerChange) -> WriteResult: ...

    def update_customers(self, changes: list[CustomerChange]) -> list[WriteResult]: ...

    def delete_customer(self, customer_id: int) -> WriteResult: ...

    def group_members(self, group_id: int, query: CustomerQuery | None = None, *, limit: int = 100, offset: int | None = None) -> list[Customer]: ...

    def all_group_members(self, group_id: int, query: CustomerQuery | None = None) -> Iterable[Customer]: ...

    def count_group_members(self, group_id: int, query: CustomerQuery | None = None) -> int: ...

    def list_groups(self) -> list[CustomerGroup]: ...

    def get_group(self, group_id: int) -> CustomerGroup: ...

    def close(self) -> None: ...


SEARCH_FILTERS: frozenset[str] = frozenset({"email", "first_name", "last_name", "phone"})
"""Customer filters (``CustomerQuery`` fields) a backend supports for searching, unless it says
otherwise with a ``search_filters`` attribute (BigCommerce adds ``company``)."""


def search_filters(backend: object) -> frozenset[str]:
    """The customer filters ``backend`` supports for searching."""
    return frozenset(getattr(backend, "search_filters", SEARCH_FILTERS))
