"""Backend-neutral customer and group models.

The bot's code speaks only these types. Each backend maps its own field names onto them
(3dcart's ``BillingFirstName`` etc. live only in ``threedcart/mapping.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

NO_GROUP_ID = 0
"""``CustomerGroupID`` 0 means the customer is in no group (plain retail)."""

Flag = Literal["enabled", "mail_list"]
FLAGS: tuple[Flag, ...] = ("enabled", "mail_list")


@dataclass(frozen=True)
class Customer:
    id: int
    email: str
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    phone: str = ""
    group_id: int = NO_GROUP_ID
    enabled: bool = True
    mail_list: bool = False
    non_taxable: bool = False
    store_credit: float = 0.0
    comments: str = ""
    last_update: datetime | None = None
    """When the store last changed the record, if the store says (display and polling only).
    Aware when the store gives a zone (BigCommerce), naive store time otherwise (3dcart)."""

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name.strip(), self.last_name.strip()) if p)

    def flag(self, name: Flag) -> bool:
        return bool(getattr(self, name))


@dataclass(frozen=True)
class CustomerGroup:
    id: int
    name: str
    description: str = ""
    auto_approve: bool = True
    allow_registration: bool = True
    non_taxable: bool = False
    minimum_order: float = 0.0
    price_level: int = 0
    disable_reward_points: bool = False
    registration_message: str = ""


@dataclass(frozen=True)
class CustomerChange:
    """Fields to change on one customer. ``None`` means "leave as it is"."""

    customer_id: int
    group_id: int | None = None
    enabled: bool | None = None
    mail_list: bool | None = None

    def is_empty(self) -> bool:
        return self.group_id is None and self.enabled is None and self.mail_list is None


@dataclass(frozen=True)
class WriteResult:
    """The store's answer for one record of a write."""

    record_id: int | None
    ok: bool
    status: int
    message: str = ""


@dataclass(frozen=True)
class CustomerQuery:
    """Filters shared by the customer list endpoints. Unset fields are not sent."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    country: str | None = None
    state: str | None = None
    city: str | None = None
    phone: str | None = None
    company: str | None = None
    """Not every store filters by it (3dcart does not; BigCommerce does)."""
    updated_since: datetime | None = None
    """Changed at or after this moment; each backend formats it its own way (an aware time is
    converted to the store's clock, a naive one is taken as this host's local time)."""
    updated_until: datetime | None = None


def filter_params(query: CustomerQuery, names: Mapping[str, str], format_date: Callable[[datetime], str]) -> dict[str, str]:
    """A query's set fields as a store's request parameters: ``names`` maps ``CustomerQuery``
    fields to the store's parameter names, ``format_date`` writes a time the store's way; unset
    and blank fields are not sent. Each backend's mapping module supplies the two."""
    params: dict[str, str] = {}
    for attr, param in names.items():
        value = getattr(query, attr)
        if isinstance(value, datetime):
            params[param] = format_date(value)
        elif value is not None and str(value).strip():
            params[param] = str(value).strip()
    return params


RETAIL = CustomerGroup(id=NO_GROUP_ID, name="No group (retail)", auto_approve=True)
"""The pseudo-group for ``CustomerGroupID`` 0, so "move to retail" reads like any other move."""


@dataclass(frozen=True)
class SearchAnswer:
    """What the store answered to one search (``CustomerService.search_customers``): the bot
    decides what really matches (``bot/finder.py``)."""

    customers: tuple[Customer, ...]
    """Each customer once, in the order the store answered."""
    requests: int
    full: bool
    """Some filtered page came back full: the store may hold more than it answered."""
    scan_only: frozenset[int] = frozenset()
    """IDs seen only on the unfiltered page (not by any filter)."""
    scan_full: bool = False
    """The unfiltered page came back full: the store holds customers the bot did not see."""
