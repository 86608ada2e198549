"""The 3dcart demo store's REST routes: ``Customers``, ``Customers/{id}``, ``CustomerGroups``,
``CustomerGroups/{id}`` and ``CustomerGroups/{id}/Customers``, reading and writing the store's
tables the way 3dcart answers (see ``threedcart.py`` for the conventions).

A mixin of ``SandboxStore``: the store's state (``_customers``, ``_groups``, ``_updated``, the
lock, the fault switches) lives there; the route table and what each resource does live here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from .faults import Reply
from .threedcart_data import (API_PREFIX, CUSTOMER_DEFAULTS, CUSTOMER_FILTERS, CUSTOMER_MISSING, DATE_FORMAT,
                              DEFAULT_LIMIT, GROUP_DEFAULTS, GROUP_EMPTY, GROUP_MISSING, INVALID, NO_CUSTOMERS,
                              NO_GROUPS, PAST_END, _FIELD_NAMES, _as_int, _bulk_status, _coerce_fields, _filter_matches,
                              _message, _write_result)


class ThreeDCartApi:
    """The routes (``_ROUTES``: path pattern → handler) and the resources behind them."""

    _lock: Any
    _customers: dict[int, dict[str, Any]]
    _groups: dict[int, dict[str, Any]]
    _updated: dict[int, datetime]
    _next_customer: int
    _fail_ids: dict[int, int]
    _answer_as: dict[int, int]
    _drop_ids: bool
    _substring_email: bool
    _match: str
    offset_base: int
    group_offset_base: int
    max_limit: int
    add_group: Callable[..., int]

    _ROUTES = [
        (re.compile(r"customers"), "_route_customers"),
        (re.compile(r"customers/(\d+)"), "_route_customer"),
        (re.compile(r"customergroups"), "_route_groups"),
        (re.compile(r"customergroups/(\d+)"), "_route_group"),
        (re.compile(r"customergroups/(\d+)/customers"), "_route_group_members"),
    ]

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> Reply:
        lowered = path.lower()
        prefix = API_PREFIX.lower()
        if not lowered.startswith(prefix.rstrip("/")):
            raise _message(404, "No HTTP resource was found that matches the request URI.")
        rest = lowered[len(prefix):].strip("/")
        for pattern, name in self._ROUTES:
            match = pattern.fullmatch(rest)
            if match:
                return getattr(self, name)(method, query, body, *(int(g) for g in match.groups()))
        raise _message(404, "No HTTP resource was found that matches the request URI.")

    # ------------------------------------------------------------------ resources

    def _route_customers(self, method: str, query: dict[str, str], body: bytes) -> Reply:
        if method == "GET":
            with self._lock:
                return self._list(self._select(self._customers.values(), query), query, NO_CUSTOMERS)
        if method == "POST":
            return self._create_customers(_json_items(body))
        if method == "PUT":
            return self._update_customers(_json_items(body))
        raise _not_allowed(method)

    def _route_customer(self, method: str, query: dict[str, str], body: bytes, customer_id: int) -> Reply:
        return self._route_record(method, body, customer_id, "CustomerID", self._customers, CUSTOMER_MISSING,
                                  self._update_customer, self._delete_customer)

    def _route_group_members(self, method: str, query: dict[str, str], body: bytes, group_id: int) -> Reply:
        if method != "GET":
            raise _not_allowed(method)
        with self._lock:
            if group_id not in self._groups:
                raise _message(404, GROUP_EMPTY)
            members = [c for c in self._customers.values() if _as_int(c.get("CustomerGroupID")) == group_id]
            return self._list(self._select(members, query), query, GROUP_EMPTY)

    def _route_groups(self, method: str, query: dict[str, str], body: bytes) -> Reply:
        if method == "GET":
            with self._lock:
                return self._list([g for _, g in sorted(self._groups.items())], query, NO_GROUPS,
                                  base=self.group_offset_base)
        if method == "POST":
            return self._create_groups(_json_items(body))
        if method == "PUT":
            items = _json_items(body)
            results = [self._update_group(_as_int(item.get("CustomerGroupID")), item) for item in items]
            return Reply(_bulk_status(results, 200), results)
        raise _not_allowed(method)

    def _route_group(self, method: str, query: dict[str, str], body: bytes, group_id: int) -> Reply:
        return self._route_record(method, body, group_id, "CustomerGroupID", self._groups, GROUP_MISSING,
                                  self._update_group, self._delete_group)

    def _route_record(self, method: str, body: bytes, record_id: int, key: str, table: dict[int, dict[str, Any]],
                      missing: str, update: Callable[[int, dict[str, Any]], dict[str, Any]],
                      delete: Callable[[int], bool]) -> Reply:
        """GET / PUT / DELETE of one customer or one group: the two behave alike."""
        if method == "GET":
            with self._lock:
                if table is self._customers:
                    record_id = self._answer_as.get(record_id, record_id)
                record = table.get(record_id)
                if record is None:
                    raise _message(404, missing)
                return Reply(200, [self._served(record)])
        if method == "PUT":
            if not body.lstrip().startswith(b"{"):  # one record: one object, as the docs show
                raise _message(400, INVALID)
            items = _json_items(body)
            result = update(record_id, items[0])
            return Reply(int(result["Status"]), [result])
        if method == "DELETE":
            if not delete(record_id):
                return Reply(404, [_write_result(key, record_id, 404, missing)])
            return Reply(200, [_write_result(key, record_id, 200, "Deleted successfully")])
        raise _not_allowed(method)

    def _delete_customer(self, customer_id: int) -> bool:
        with self._lock:
            self._updated.pop(customer_id, None)
            return self._customers.pop(customer_id, None) is not None

    def _delete_group(self, group_id: int) -> bool:
        """Deleting a group moves its members to no group (0)."""
        with self._lock:
            if self._groups.pop(group_id, None) is None:
                return False
            now = datetime.now().replace(microsecond=0)
            for record in self._customers.values():
                if _as_int(record.get("CustomerGroupID")) == group_id:
                    record["CustomerGroupID"] = 0
                    self._updated[record["CustomerID"]] = now
        return True

    # ------------------------------------------------------------------ reading

    def _select(self, records: Iterable[dict[str, Any]], query: dict[str, str]) -> list[dict[str, Any]]:
        """Filter and sort by ID (caller holds the lock; the records are live, not copies)."""
        start = _parse_date(query.get("lastupdatestart"))
        end = _parse_date(query.get("lastupdateend"))
        wanted = {CUSTOMER_FILTERS[p]: v.strip().lower() for p, v in query.items() if p in CUSTOMER_FILTERS}
        inside = self._match == "substring"
        chosen = []
        substring = self._substring_email
        for record in records:
            if any(not _filter_matches(str(record.get(name) or "").strip().lower(), value,
                                       substring=inside or (substring and name == "Email"))
                   for name, value in wanted.items()):
                continue
            stamp = self._updated.get(record["CustomerID"])
            if (start and (stamp is None or stamp < start)) or (end and (stamp is None or stamp > end)):
                continue
            chosen.append(record)
        chosen.sort(key=lambda r: r["CustomerID"])
        return chosen

    def _list(self, records: list[dict[str, Any]], query: dict[str, str], empty: str, *,
              base: int | None = None) -> Reply:
        """One page of ``records`` as 3dcart answers it (caller holds the lock: the reply is
        serialised here, which is what snapshots the records)."""
        if _truthy(query.get("countonly")):
            return Reply(200, {"TotalCount": len(records)})
        if not records:
            raise _message(404, empty)
        limit = _query_int(query, "limit", DEFAULT_LIMIT)
        base = self.offset_base if base is None else base
        offset = _query_int(query, "offset", base)
        if limit < 1 or offset < 0:
            raise _message(400, INVALID)
        start = max(0, offset - base)
        if start >= len(records):
            raise _message(400, PAST_END)
        return Reply(200, [self._served(r) for r in records[start:start + min(limit, self.max_limit)]])

    def _served(self, record: dict[str, Any]) -> dict[str, Any]:
        """A record as sent (caller holds the lock): fault knob ``drop_ids`` strips CustomerID."""
        if self._drop_ids and "Email" in record:
            return {k: v for k, v in record.items() if k != "CustomerID"}
        return record

    # ------------------------------------------------------------------ writing

    def _create_customers(self, items: list[dict[str, Any]]) -> Reply:
        results = []
        for item in items:
            fields = {k: v for k, v in item.items() if k in CUSTOMER_DEFAULTS and k != "CustomerID"}
            with self._lock:
                error = self._customer_error(None, fields)
                if error is None:
                    coerced, error = _coerce_fields(fields)
                if error is not None:
                    results.append(_write_result("CustomerID", 0, 400, error))
                    continue
                customer_id = self._next_customer
                self._next_customer += 1
                self._customers[customer_id] = {**CUSTOMER_DEFAULTS, **coerced, "CustomerID": customer_id, "Password": ""}
                self._updated[customer_id] = datetime.now().replace(microsecond=0)
            results.append(_write_result("CustomerID", customer_id, 201, "Created successfully"))
        return Reply(_bulk_status(results, 201), results)

    def _update_customers(self, items: list[dict[str, Any]]) -> Reply:
        results = []
        for item in items:
            customer_id = _as_int(item.get("CustomerID"))
            if not customer_id:
                results.append(_write_result("CustomerID", "", 400, "CustomerID is required."))
            else:
                results.append(self._update_customer(customer_id, item))
        return Reply(_bulk_status(results, 200), results)

    def _update_customer(self, customer_id: int, item: Mapping[str, Any]) -> dict[str, str]:
        """Partial update: only the fields sent change."""
        fields = {k: v for k, v in item.items() if k in CUSTOMER_DEFAULTS and k not in ("CustomerID", "Password")}
        with self._lock:
            record = self._customers.get(customer_id)
            if record is None:
                return _write_result("CustomerID", customer_id, 404, CUSTOMER_MISSING)
            if customer_id in self._fail_ids:
                return _write_result("CustomerID", customer_id, self._fail_ids[customer_id],
                                     "Simulated failure (sandbox fail_ids).")
            error = self._customer_error(customer_id, fields)
            if error is None:
                coerced, error = _coerce_fields(fields)
            if error is not None:
                return _write_result("CustomerID", customer_id, 400, error)
            record.update(coerced)
            self._updated[customer_id] = datetime.now().replace(microsecond=0)
        return _write_result("CustomerID", customer_id, 200, "updated successfully")

    def _customer_error(self, customer_id: int | None, fields: Mapping[str, Any]) -> str | None:
        """Why these fields can't be written (caller holds the lock), or None."""
        if customer_id is None and not str(fields.get("Email") or "").strip():
            return "Email is required."
        if "Email" in fields:
            email = str(fields.get("Email") or "").strip().lower()
            if not email:
                return "Email is required."
            if any(str(c.get("Email") or "").strip().lower() == email and c["CustomerID"] != customer_id
                   for c in self._customers.values()):
                return f"A customer with the email {email} already exists."
        if "CustomerGroupID" in fields and fields["CustomerGroupID"] is not None:
            group_id = _as_int(fields["CustomerGroupID"])
            if group_id and group_id not in self._groups:
                return f"CustomerGroupID {fields['CustomerGroupID']} does not exist."
        return None

    def _create_groups(self, items: list[dict[str, Any]]) -> Reply:
        results = []
        for item in items:
            fields = {k: v for k, v in item.items() if k in GROUP_DEFAULTS and k != "CustomerGroupID"}
            coerced, error = _coerce_fields(fields)
            if error is not None:
                results.append(_write_result("CustomerGroupID", 0, 400, error))
                continue
            if not str(coerced.get("Name") or "").strip():
                results.append(_write_result("CustomerGroupID", 0, 400, "Name is required."))
                continue
            group_id = self.add_group(**coerced)
            results.append(_write_result("CustomerGroupID", group_id, 201, "Created successfully"))
        return Reply(_bulk_status(results, 201), results)

    def _update_group(self, group_id: int, item: Mapping[str, Any]) -> dict[str, str]:
        fields = {k: v for k, v in item.items() if k in GROUP_DEFAULTS and k != "CustomerGroupID"}
        with self._lock:
            record = self._groups.get(group_id)
            if record is None:
                return _write_result("CustomerGroupID", group_id, 404, GROUP_MISSING)
            coerced, error = _coerce_fields(fields)
            if error is not None:
                return _write_result("CustomerGroupID", group_id, 400, error)
            if "Name" in coerced and not coerced["Name"].strip():
                return _write_result("CustomerGroupID", group_id, 400, "Name is required.")
            record.update(coerced)
        return _write_result("CustomerGroupID", group_id, 200, "updated successfully")


# ---------------------------------------------------------------------- request helpers


def _json_items(body: bytes) -> list[dict[str, Any]]:
    """A write body: an array of objects, or one object. Property names bind case-insensitively
    (``{"enabled": false}`` sets ``Enabled``), as ASP.NET Web API's JSON formatter does."""
    try:
        data = json.loads(body or b"null")
    except (ValueError, RecursionError):
        raise _message(400, INVALID) from None
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(item, dict) for item in items):
        raise _message(400, INVALID)
    return [{_FIELD_NAMES.get(str(k).lower(), k): v for k, v in item.items()} for item in items]



def _query_int(query: Mapping[str, str], name: str, default: int) -> int:
    value = query.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise _message(400, INVALID) from None


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("1", "true", "yes")


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    for fmt in (DATE_FORMAT, "%m/%d/%Y"):
        try:
            return datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
    raise _message(400, f"Invalid date: {value} (expected mm/dd/yyyy hh:mm:ss).")


def _not_allowed(method: str) -> Reply:
    return Reply(405, {"Message": f"The requested resource does not support http method '{method}'."})


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return media in ("application/json", "text/json")
