"""The 3dcart demo store's data: its documented record shapes, messages and demo records, and how
it binds written values (field types, case-insensitive names).

Kept apart from the HTTP routes (``threedcart_api.py``) and the store itself (``threedcart.py``)
so each reads on its own; everything here is plain data or a pure function.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from .faults import Reply

API_PREFIX = "/3dCartWebAPI/v1/"
DEMO_SECURE_URL = "sandbox.3dcart.local"
DEMO_PRIVATE_KEY = "sandbox-private-key"
DEMO_TOKEN = "sandbox-token"
DATE_FORMAT = "%m/%d/%Y %H:%M:%S"
MAX_LIMIT = 500
DEFAULT_LIMIT = 10

AUTH_FAILURE = ("Authentication failure. The PrivateKey/Token/SecureURL combination is invalid, "
                "or the application scope does not have the correct read/write privileges.")
NO_CUSTOMERS = "No Customer records found."
GROUP_EMPTY = "The Customer Group was not found and/or contains no customer records."
CUSTOMER_MISSING = "The Customer record was not found."
NO_GROUPS = "There are no Customer Groups."
GROUP_MISSING = "The specified Customer Group does not exist."
PAST_END = "Offset amount exceeds the total number of records"
INVALID = "The request is invalid."
UNSUPPORTED_MEDIA = ("The request entity's media type is not supported for this resource "
                     "(send Content-Type: application/json).")

CUSTOMER_DEFAULTS: dict[str, Any] = {
    "CustomerID": 0, "Email": "", "Password": "", "BillingCompany": "", "BillingFirstName": "",
    "BillingLastName": "", "BillingAddress1": "", "BillingAddress2": "", "BillingCity": "",
    "BillingState": "", "BillingZipCode": "", "BillingCountry": "", "BillingPhoneNumber": "",
    "BillingTaxID": "", "ShippingCompany": "", "ShippingFirstName": "", "ShippingLastName": "",
    "ShippingAddress1": "", "ShippingAddress2": "", "ShippingCity": "", "ShippingState": "",
    "ShippingZipCode": "", "ShippingCountry": "", "ShippingPhoneNumber": "", "ShippingAddressType": 0,
    "CustomerGroupID": 0, "Enabled": True, "MailList": False, "NonTaxable": False,
    "DisableBillingSameAsShipping": False, "Comments": "", "AdditionalField1": "",
    "AdditionalField2": "", "AdditionalField3": "", "TotalStoreCredit": 0.0, "ResetPassword": False,
}
"""The documented Customer object, field order included."""

GROUP_DEFAULTS: dict[str, Any] = {
    "CustomerGroupID": 0, "Name": "", "Description": "", "MinimumOrder": 0.0, "NonTaxable": False,
    "AllowRegistration": True, "DisableRewardPoints": False, "AutoApprove": True,
    "RegistrationMessage": "", "PriceLevel": 0,
}

CUSTOMER_FILTERS = {  # query parameter → customer field
    "email": "Email", "firstname": "BillingFirstName", "lastname": "BillingLastName",
    "country": "BillingCountry", "state": "BillingState", "city": "BillingCity", "phone": "BillingPhoneNumber",
}

DEMO_GROUPS: list[dict[str, Any]] = [
    {"Name": "VIP", "Description": "Best customers: free shipping.", "AutoApprove": True,
     "AllowRegistration": False, "PriceLevel": 1},
    {"Name": "Wholesale", "Description": "Trade prices for resellers.", "AutoApprove": False,
     "AllowRegistration": True, "PriceLevel": 2, "MinimumOrder": 250.0,
     "RegistrationMessage": "Thanks! We review wholesale applications within one business day."},
    {"Name": "Staff", "Description": "Employees.", "AutoApprove": True, "AllowRegistration": False,
     "NonTaxable": True, "DisableRewardPoints": True},
    {"Name": "Distributors", "Description": "Regional distributors.", "AutoApprove": False,
     "AllowRegistration": True, "PriceLevel": 3, "MinimumOrder": 1000.0},
]

DEMO_CUSTOMERS: list[dict[str, Any]] = [
    # (days since last update, fields)
    {"_age": 40, "Email": "jane@example.com", "BillingFirstName": "Jane", "BillingLastName": "Doe",
     "BillingCompany": "Acme Ltd", "BillingCity": "Springfield", "BillingState": "IL",
     "BillingCountry": "United States", "BillingPhoneNumber": "+1 217 555 0101", "CustomerGroupID": 1,
     "TotalStoreCredit": 25.0, "Comments": "Prefers email contact."},
    {"_age": 30, "Email": "bob@example.com", "BillingFirstName": "Bob", "BillingLastName": "Stone",
     "BillingCompany": "Stone Hardware", "BillingCity": "Portland", "BillingState": "OR",
     "BillingCountry": "United States", "BillingPhoneNumber": "+1 503 555 0102", "CustomerGroupID": 2},
    {"_age": 1, "Email": "carol@example.com", "BillingFirstName": "Carol", "BillingLastName": "Reyes",
     "BillingCompany": "Reyes Trading", "BillingCity": "Austin", "BillingState": "TX",
     "BillingCountry": "United States", "BillingPhoneNumber": "+1 512 555 0103", "CustomerGroupID": 2,
     "Enabled": False, "Comments": "Wholesale application: 3 shops in Texas."},
    {"_age": 20, "Email": "dave@example.com", "BillingFirstName": "Dave", "BillingLastName": "Kim",
     "BillingCity": "Leeds", "BillingCountry": "United Kingdom", "BillingPhoneNumber": "+44 113 555 0104",
     "MailList": True},
    {"_age": 10, "Email": "erin@example.com", "BillingFirstName": "Erin", "BillingLastName": "Walsh",
     "BillingCity": "Springfield", "BillingState": "IL", "BillingCountry": "United States",
     "CustomerGroupID": 3, "Enabled": False, "Comments": "Left the company; account disabled."},
    {"_age": 15, "Email": "frank@example.com", "BillingFirstName": "Frank", "BillingLastName": "Otto",
     "BillingCompany": "Otto Supply Co", "BillingCity": "Toronto", "BillingState": "ON",
     "BillingCountry": "Canada", "BillingPhoneNumber": "+1 416 555 0106", "CustomerGroupID": 4},
    {"_age": 2, "Email": "grace@example.com", "BillingFirstName": "Grace", "BillingLastName": "Lin",
     "BillingCompany": "Lin Imports", "BillingCity": "Vancouver", "BillingState": "BC",
     "BillingCountry": "Canada", "BillingPhoneNumber": "+1 604 555 0107", "CustomerGroupID": 4,
     "Enabled": False, "MailList": True},
    {"_age": 5, "Email": "henry@example.com", "BillingFirstName": "Henry", "BillingLastName": "Park",
     "BillingCompany": "Park & Sons", "BillingCity": "Boston", "BillingState": "MA",
     "BillingCountry": "United States", "CustomerGroupID": 1, "MailList": True, "TotalStoreCredit": 100.0},
]



def _message(status: int, text: str) -> Reply:
    return Reply(status, [{"Message": text}])


# ---------------------------------------------------------------------- value coercion

_INT_FIELDS = {"CustomerID", "CustomerGroupID", "ShippingAddressType", "PriceLevel"}
_BOOL_FIELDS = {"Enabled", "MailList", "NonTaxable", "DisableBillingSameAsShipping", "ResetPassword",
                "AllowRegistration", "DisableRewardPoints", "AutoApprove"}
_FLOAT_FIELDS = {"TotalStoreCredit", "MinimumOrder"}


def _coerce(name: str, value: Any) -> Any:
    """A written value in the field's type, like a typed store would bind it; ValueError if not."""
    if name in _BOOL_FIELDS:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError(name)
    if name in _INT_FIELDS:
        if isinstance(value, bool):
            raise ValueError(name)
        if isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,10}\s*", value)):
            number = int(value)
            if not -2**31 <= number < 2**31:  # Int32 in the real API
                raise ValueError(name)
            return number
        if isinstance(value, float) and value.is_integer() and -2**31 <= value < 2**31:
            return int(value)
        raise ValueError(name)
    if name in _FLOAT_FIELDS:
        if isinstance(value, (bool, list, dict)):
            raise ValueError(name)
        try:
            number = float(value)
        except OverflowError:  # a 401-digit integer
            raise ValueError(name) from None
        if not math.isfinite(number):
            raise ValueError(name)
        return number
    if isinstance(value, (list, dict)):  # Json.NET cannot bind an array or object to a string
        raise ValueError(name)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(name)
    return "" if value is None else str(value)


def _coerce_fields(fields: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Every non-null value in its field's type, or ``({}, why one is not valid)``."""
    try:
        return {k: _coerce(k, v) for k, v in fields.items() if v is not None}, None
    except (ValueError, TypeError) as exc:
        return {}, f"The value for {exc} is not valid."


_FIELD_NAMES = {name.lower(): name for name in (*CUSTOMER_DEFAULTS, *GROUP_DEFAULTS)}
"""Lower-case property name → the documented one."""


def _filter_matches(stored: str, wanted: str, *, substring: bool = False) -> bool:
    return wanted in stored if substring else stored == wanted


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return 0


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return bool(value)


def _rename(fields: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    """Model attribute names (``first_name``) → 3dcart names; 3dcart names pass through."""
    return {mapping.get(key, key): value for key, value in fields.items()}


def _write_result(key: str, record_id: int | str, status: int, message: str) -> dict[str, str]:
    return {"Key": key, "Value": str(record_id), "Status": str(status), "Message": message}


def _bulk_status(results: list[dict[str, str]], success: int) -> int:
    statuses = [int(r["Status"]) for r in results]
    ok = [s for s in statuses if 200 <= s < 300]
    if len(ok) == len(statuses):
        return success
    if ok:
        return 206
    return 404 if all(s == 404 for s in statuses) else 400


def _same_secure_url(given: str, expected: str) -> bool:
    def norm(url: str) -> str:
        url = url.strip().lower()
        url = re.sub(r"^https?://", "", url)
        return url.rstrip("/")
    return bool(given) and norm(given) == norm(expected)
