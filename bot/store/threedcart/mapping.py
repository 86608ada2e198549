"""3dcart's records ↔ the bot's models: field names, value parsing, dates, query parameters and
the answers to writes and counts.

Everything here is pure data shaping (no HTTP), so the client (``client.py``) reads as endpoints,
paging and status rules, and the 3dcart demo store (``bot/sandbox/threedcart.py``) can share the
field names. Values arrive loosely typed (numbers and booleans as strings, field names in any
case): they are parsed, never trusted. Dates are ``mm/dd/yyyy hh:mm:ss`` in store time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, fields as dataclass_fields
from datetime import datetime
from typing import Any

from ..errors import Unavailable
from ..models import Customer, CustomerChange, CustomerGroup, CustomerQuery, WriteResult, filter_params

DATE_FORMAT = "%m/%d/%Y %H:%M:%S"
"""3dcart's dates (``lastupdatestart``), in store time."""

# ---------------------------------------------------------------------- field mapping

CUSTOMER_FIELDS: dict[str, str] = {
    "id": "CustomerID",
    "email": "Email",
    "first_name": "BillingFirstName",
    "last_name": "BillingLastName",
    "company": "BillingCompany",
    "phone": "BillingPhoneNumber",
    "group_id": "CustomerGroupID",
    "enabled": "Enabled",
    "mail_list": "MailList",
    "non_taxable": "NonTaxable",
    "store_credit": "TotalStoreCredit",
    "comments": "Comments",
}
"""``Customer`` attribute → 3dcart field. ``last_update`` is read-only (see ``LAST_UPDATE_FIELDS``)."""

LAST_UPDATE_FIELDS = ("LastUpdate", "LastUpdated", "DateUpdated")
"""Not in the documented Customer object; shown when a store sends one of these anyway."""

GROUP_FIELDS: dict[str, str] = {
    "id": "CustomerGroupID",
    "name": "Name",
    "description": "Description",
    "minimum_order": "MinimumOrder",
    "non_taxable": "NonTaxable",
    "allow_registration": "AllowRegistration",
    "disable_reward_points": "DisableRewardPoints",
    "auto_approve": "AutoApprove",
    "registration_message": "RegistrationMessage",
    "price_level": "PriceLevel",
}

QUERY_PARAMS: dict[str, str] = {
    "email": "email",
    "first_name": "firstname",
    "last_name": "lastname",
    "country": "country",
    "state": "state",
    "city": "city",
    "phone": "phone",
    "updated_since": "lastupdatestart",
    "updated_until": "lastupdateend",
}

_TRUE = {"true", "1", "yes", "y", "on"}


def field(raw: Mapping[str, Any], name: str) -> Any:
    """``raw[name]``, tolerating a store that changes the case of field names."""
    if name in raw:
        return raw[name]
    lowered = name.lower()
    for key, value in raw.items():
        if isinstance(key, str) and key.lower() == lowered:
            return value
    return None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def as_int(value: Any, default: int | None = 0) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            number = float(str(value).strip())
        except ValueError:
            return default
        return int(number) if math.isfinite(number) and number.is_integer() else default


def _float(value: Any, default: float = 0.0) -> float:
    if value is None or isinstance(value, bool):
        return default
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default


def _bool(value: Any, default: bool = False) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return default
    if isinstance(value, (int, float)):
        return value != 0
    text = str(value).strip().lower()
    if not text:
        return default
    return text in _TRUE


def _date(value: Any) -> datetime | None:
    """A 3dcart date (``mm/dd/yyyy hh:mm:ss``, or ISO) as naive store time; None if unreadable."""
    text = _text(value)
    for parse in (lambda t: datetime.strptime(t, DATE_FORMAT), lambda t: datetime.strptime(t, "%m/%d/%Y"),
                  datetime.fromisoformat):
        try:
            return parse(text)
        except ValueError:
            continue
    return None


def format_date(moment: datetime) -> str:
    """A moment as 3dcart compares it: store time, which the sandbox (and the bot) share with the
    host, so an aware time is converted to this host's local time."""
    local = moment.astimezone().replace(tzinfo=None) if moment.tzinfo is not None else moment
    return local.strftime(DATE_FORMAT)


def customer_from_3dcart(raw: Mapping[str, Any]) -> Customer:
    """A 3dcart Customer object → ``Customer``. Missing or null fields get the model defaults."""
    get = lambda attr: field(raw, CUSTOMER_FIELDS[attr])  # noqa: E731
    last_update = next((_date(field(raw, f)) for f in LAST_UPDATE_FIELDS if _date(field(raw, f))), None)
    return Customer(
        id=as_int(get("id")) or 0,
        email=_text(get("email")),
        first_name=_text(get("first_name")),
        last_name=_text(get("last_name")),
        company=_text(get("company")),
        phone=_text(get("phone")),
        group_id=as_int(get("group_id")) or 0,
        enabled=_bool(get("enabled"), default=True),
        mail_list=_bool(get("mail_list")),
        non_taxable=_bool(get("non_taxable")),
        store_credit=_float(get("store_credit")),
        comments=_text(get("comments")),
        last_update=last_update,
    )


def group_from_3dcart(raw: Mapping[str, Any]) -> CustomerGroup:
    get = lambda attr: field(raw, GROUP_FIELDS[attr])  # noqa: E731
    return CustomerGroup(
        id=as_int(get("id")) or 0,
        name=_text(get("name")),
        description=_text(get("description")),
        auto_approve=_bool(get("auto_approve"), default=True),
        allow_registration=_bool(get("allow_registration"), default=True),
        non_taxable=_bool(get("non_taxable")),
        minimum_order=_float(get("minimum_order")),
        price_level=as_int(get("price_level")) or 0,
        disable_reward_points=_bool(get("disable_reward_points")),
        registration_message=_text(get("registration_message")),
    )


def change_to_3dcart(change: CustomerChange, *, with_id: bool = False) -> dict[str, Any]:
    """Only the fields that change (3dcart's PUT leaves unsent fields alone)."""
    body: dict[str, Any] = {CUSTOMER_FIELDS["id"]: change.customer_id} if with_id else {}
    for attr in ("group_id", "enabled", "mail_list"):
        value = getattr(change, attr)
        if value is not None:
            body[CUSTOMER_FIELDS[attr]] = value
    return body


def to_3dcart(record: Any, mapping: Mapping[str, str], *, skip: Iterable[str] = ()) -> dict[str, Any]:
    """A model instance (every field) or a partial mapping (model or 3dcart names) → 3dcart JSON.

    Keys that are not model attribute names pass through unchanged, so callers can also send
    3dcart-only fields (``Password``, ``BillingAddress1`` ...).
    """
    skipped = set(skip)
    if hasattr(record, "__dataclass_fields__"):
        names = {f.name for f in dataclass_fields(record)}
        items = {k: v for k, v in asdict(record).items() if k in mapping and k in names}
    elif isinstance(record, Mapping):
        items = dict(record)
    else:
        raise TypeError(f"expected a model or a mapping, not {type(record).__name__}")
    return {mapping.get(key, key): value for key, value in items.items() if key not in skipped}


def query_params(query: CustomerQuery | None) -> dict[str, str]:
    return {} if query is None else filter_params(query, QUERY_PARAMS, format_date)


# ---------------------------------------------------------------------- answers


def records(body: Any) -> list[Mapping[str, Any]]:
    """A JSON answer as a list of objects (3dcart wraps single records in a one-element array)."""
    if isinstance(body, list):
        return [item for item in body if isinstance(item, Mapping)]
    if isinstance(body, Mapping):
        return [body]
    return []


def store_message(body: Any) -> str:
    """The store's own error text from ``[{"Message": ...}]`` or ``{"Message": ...}``."""
    messages = [_text(field(item, "Message")) for item in records(body)]
    return "; ".join(dict.fromkeys(m for m in messages if m))[:500]


def parse_count(body: Any) -> int:
    """``countonly`` answers: ``{"TotalCount": n}``, a one-element array of it, or a bare number."""
    if isinstance(body, (int, float)) and not isinstance(body, bool):
        return int(body)
    for item in records(body):
        for key in ("TotalCount", "Count", "Total"):
            value = as_int(field(item, key), default=None)
            if value is not None:
                return value
    raise Unavailable("The store answered a count request with something that is not a count.")


def parse_write_results(body: Any, http_status: int, ids: Sequence[int | None], *,
                        scrub: Callable[[str], str] = lambda text: text) -> list[WriteResult]:
    """``[{"Key", "Value", "Status", "Message"}]`` → ``WriteResult`` per record.

    ``Value``/``Status`` arrive as strings. A record is ok only when its ``Status`` is a 2xx
    number: ``"Error"``, ``"ok"`` or a missing ``Status`` is a failure, whatever the HTTP status
    says. A record's ID is ``Value`` when it is a positive number, else the ID we sent at that
    position (failed items may carry an empty ``Value``). Returns ``[]`` when the body holds no
    per-record results. Messages pass through ``scrub``.
    """
    results = []
    items = [item for item in records(body) if field(item, "Status") is not None or field(item, "Value") is not None]
    for position, item in enumerate(items):
        status = as_int(field(item, "Status"), default=None)
        value = as_int(field(item, "Value"), default=None)
        sent = ids[position] if position < len(ids) else None
        record_id = value if value and value > 0 else sent
        message = scrub(_text(field(item, "Message")))
        if status is None:
            results.append(WriteResult(record_id, False, http_status if not 200 <= http_status < 300 else 0,
                                       message or "The store's answer did not confirm this change."))
        else:
            results.append(WriteResult(record_id, 200 <= status < 300, status, message))
    return results


def by_sent_id(results: list[WriteResult], ids: Sequence[int | None]) -> list[WriteResult]:
    """One result per record sent, in order; a sent ID the store did not answer for fails."""
    if all(i is None for i in ids):
        return results
    answered = {r.record_id: r for r in results if r.record_id is not None}
    ordered = []
    for record_id in ids:
        result = answered.get(record_id)
        ordered.append(result if result is not None else WriteResult(
            record_id, False, 0, "The store sent no result for this record; it may or may not have been saved."))
    return ordered
