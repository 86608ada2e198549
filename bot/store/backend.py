"""The protocol every store backend implements (3dcart, BigCommerce), and what each can do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from .models import Customer, CustomerChange, CustomerGroup, CustomerQuery, WriteResult


@dataclass(frozen=True)
class Capabilities:
    """What a store supports, so that the desk, the cards and approvals never ask "which store?".

    ``has_enabled`` / ``has_mail_list``: the store has the account-enabled flag / the mailing
    list flag (3dcart both; BigCommerce v2 neither). ``page_size``: the most records one list
    request returns. ``bulk_update_size``: customers one write request can change (1 = no bulk
    update: ``update_customers`` sends one request per customer). ``lists_customers_without_group``:
    the store can list the customers in no group (``group_members(0)``) directly.
    """

    has_enabled: bool = True
    has_mail_list: bool = True
    page_size: int = 100
    bulk_update_size: int = 1
    lists_customers_without_group: bool = False

    def has_flag(self, flag: str) -> bool:
        """Whether the store keeps this ``models.Flag`` ("enabled" / "mail_list")."""
        return {"enabled": self.has_enabled, "mail_list": self.has_mail_list}.get(flag, False)


@dataclass(frozen=True)
class StoreHints:
    """Words for users and operators that only the backend knows (its variable names)."""

    label: str
    """The store's name in messages: "3dcart", "BigCommerce"."""
    credentials: str
    """What to check when the store refuses the credentials, naming the settings."""


class Backend(Protocol):
    """Raw store access. No caching here; ``CustomerService`` adds that.

    All methods raise ``store.errors.StoreError`` subclasses. List methods return ``[]`` when
    the store says there are no records (3dcart answers 404 for that). ``offset`` is the number
    of records to skip (``None``/0 = from the first); each backend maps it onto its own paging.
    """

    name: str
    capabilities: Capabilities
    hints: StoreHints

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
