"""BigCommerce v2 customers and customer groups ↔ the bot's models, in one module.

v2 ``/customers`` is deprecated in favour of ``/v3/customers``; everything v2-shaped (field
names, string money, RFC 2822 dates, filter names) lives here so a v3 mapping can stand beside
it later. Facts from seed 003 and ``reference/bigcommerce.md``:

* Ids and money may arrive as strings (``"store_credit": "0.0000"``): parsed, never trusted.
* Dates are RFC 2822 (``"Tue, 13 Nov 2012 21:16:41 +0000"``); ``date_modified`` becomes
  ``Customer.last_update`` (aware), and ``updated_since`` is sent as ``min_date_modified``.
* There is no Enabled and no MailList: a change that sets them is a programming error here (the
  desk asks ``Backend.capabilities`` first), and customers read back with the model defaults.
* ``notes`` (store owner notes) is shown as the customer's comments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from ..models import Customer, CustomerChange, CustomerGroup, CustomerQuery, filter_params

MAX_LIMIT = 250
"""v2's most records per page."""

CUSTOMER_FIELDS: dict[str, str] = {
    "id": "id",
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company",
    "phone": "phone",
    "group_id": "customer_group_id",
    "store_credit": "store_credit",
    "comments": "notes",
}
"""``Customer`` attribute → v2 field. ``last_update`` is read from ``date_modified``."""

WRITABLE = ("email", "first_name", "last_name", "company", "phone", "group_id", "store_credit", "comments")
"""What POST / PUT may send (seed 003's field tables, minus ``_authentication``)."""

QUERY_PARAMS: dict[str, str] = {
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company",
    "phone": "phone",
    "updated_since": "min_date_modified",
    "updated_until": "max_date_modified",
}
UNSUPPORTED_FILTERS = ("country", "state", "city")
"""``CustomerQuery`` filters v2 ``/customers`` does not offer (on addresses only)."""

UNSUPPORTED_CHANGES = ("enabled", "mail_list")


def text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def integer(value: Any, default: int = 0) -> int:
    """An id or count that may come as ``5``, ``"5"`` or ``"5.0"``; ``default`` if it is not one."""
    if isinstance(value, bool) or value is None:
        return default
    if isinstance(value, int):
        return value
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return default
    return int(number) if number.is_finite() and number == number.to_integral_value() else default


def money(value: Any) -> float:
    """``"0.0000"``, ``"12.5"``, ``12.5`` → a float; anything else → 0.0."""
    if value is None or isinstance(value, bool):
        return 0.0
    try:
        number = float(Decimal(str(value).strip()))
    except (InvalidOperation, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def money_text(value: float) -> str:
    """How v2 writes money: a decimal string with four places."""
    return f"{Decimal(str(value)).quantize(Decimal('0.0001'))}"


def parse_date(value: Any) -> datetime | None:
    """An RFC 2822 date → an aware datetime; None when missing or unreadable."""
    raw = text(value)
    if not raw:
        return None
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def format_date(moment: datetime) -> str:
    """A moment as v2 filters want it: RFC 2822 in UTC (a naive moment is this host's local time)."""
    aware = moment if moment.tzinfo is not None else moment.astimezone()
    return format_datetime(aware.astimezone(timezone.utc))


def customer_from_v2(raw: Mapping[str, Any]) -> Customer:
    """A v2 customer object → ``Customer`` (missing or null fields get the model defaults)."""
    get = lambda attr: raw.get(CUSTOMER_FIELDS[attr])  # noqa: E731
    return Customer(
        id=integer(get("id")),
        email=text(get("email")),
        first_name=text(get("first_name")),
        last_name=text(get("last_name")),
        company=text(get("company")),
        phone=text(get("phone")),
        group_id=integer(get("group_id")),
        store_credit=money(get("store_credit")),
        comments=text(get("comments")),
        last_update=parse_date(raw.get("date_modified")),
    )


def group_from_v2(raw: Mapping[str, Any]) -> CustomerGroup:
    """A v2 customer group → ``CustomerGroup``. v2 groups have no approval setting: every group
    "auto-approves" (approvals on BigCommerce use named applicant groups instead)."""
    return CustomerGroup(id=integer(raw.get("id")), name=text(raw.get("name")), auto_approve=True)


def change_to_v2(change: CustomerChange) -> dict[str, Any]:
    """Only the fields that change (v2 PUT is partial)."""
    unsupported = [name for name in UNSUPPORTED_CHANGES if getattr(change, name) is not None]
    if unsupported:
        raise ValueError("BigCommerce customers have no " + " or ".join(unsupported) + " setting")
    if change.group_id is None:
        raise ValueError(f"nothing to change for customer #{change.customer_id}")
    return {CUSTOMER_FIELDS["group_id"]: int(change.group_id)}


def customer_to_v2(customer: Customer | Mapping[str, Any]) -> dict[str, Any]:
    """A new customer (model, or mapping of model or v2 field names) → a POST body. The store
    assigns the id; ``first_name``, ``last_name`` and ``email`` are required by the store."""
    if isinstance(customer, Customer):
        items = {attr: getattr(customer, attr) for attr in WRITABLE}
    else:
        items = dict(customer)
    body: dict[str, Any] = {}
    for key, value in items.items():
        if key in ("id", "last_update", CUSTOMER_FIELDS["id"]):
            continue
        field = CUSTOMER_FIELDS.get(key, key)
        if field == "store_credit" and value is not None and not isinstance(value, str):
            value = money_text(float(value))
        body[field] = value
    return body


def query_params(query: CustomerQuery | None, *, group_id: int | None = None) -> dict[str, str]:
    """``CustomerQuery`` (and a group) → v2 filter parameters; unset fields are not sent."""
    params: dict[str, str] = {}
    if query is not None:
        unsupported = [name for name in UNSUPPORTED_FILTERS if getattr(query, name)]
        if unsupported:
            raise ValueError("BigCommerce v2 cannot filter customers by " + ", ".join(unsupported))
        params.update(filter_params(query, QUERY_PARAMS, format_date))
    if group_id is not None:
        params["customer_group_id"] = str(int(group_id))
    return params


def store_message(body: Any) -> str:
    """The store's own error text: ``[{"status": 400, "message": "..."}]`` or ``{"title": ...}``."""
    items = body if isinstance(body, list) else [body]
    messages = []
    for item in items:
        if isinstance(item, Mapping):
            messages.append(text(item.get("message") or item.get("title") or item.get("error")))
    return "; ".join(dict.fromkeys(m for m in messages if m))[:500]


def parse_count(body: Any) -> int:
    """``{"count": N}`` (N possibly a string); raises ValueError when it is not a count."""
    if isinstance(body, Mapping) and "count" in body:
        value = integer(body["count"], default=-1)
        if value >= 0:
            return value
    raise ValueError("not a count")
