"""The sandbox store speaks 3dcart's documented HTTP: auth, paging, 404s, writes, control."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest
import requests

from bot.sandbox.cli import main
from bot.sandbox.threedcart import AUTH_FAILURE, PAST_END, SandboxStore


def auth(store: SandboxStore) -> dict[str, str]:
    return {"SecureURL": store.secure_url, "PrivateKey": store.private_key, "Token": store.token,
            "Accept": "application/json"}


def call(store: SandboxStore, method: str, path: str, *, headers: dict[str, str] | None = None,
         **kwargs) -> requests.Response:
    return requests.request(method, store.url + path, headers=auth(store) if headers is None else headers,
                            timeout=5, **kwargs)


# ---------------------------------------------------------------------- auth


@pytest.mark.parametrize("missing", ["SecureURL", "PrivateKey", "Token"])
def test_each_missing_header_is_401(sandbox: SandboxStore, missing: str) -> None:
    headers = auth(sandbox)
    del headers[missing]
    answer = call(sandbox, "GET", "Customers", headers=headers)
    assert answer.status_code == 401
    assert answer.json() == [{"Message": AUTH_FAILURE}]


@pytest.mark.parametrize("wrong", ["SecureURL", "PrivateKey", "Token"])
def test_each_wrong_header_is_401(sandbox: SandboxStore, wrong: str) -> None:
    headers = {**auth(sandbox), wrong: "not-it"}
    assert call(sandbox, "GET", "Customers/1", headers=headers).status_code == 401


def test_header_names_any_case_and_secure_url_forms(sandbox: SandboxStore) -> None:
    lower = {k.lower(): v for k, v in auth(sandbox).items()}
    assert call(sandbox, "GET", "Customers/1", headers=lower).status_code == 200
    for form in (f"https://{sandbox.secure_url}", f"http://{sandbox.secure_url.upper()}/"):
        assert call(sandbox, "GET", "Customers/1", headers={**auth(sandbox), "SecureURL": form}).status_code == 200


def test_paths_are_case_insensitive(sandbox: SandboxStore) -> None:
    answer = requests.get(sandbox.url.lower() + "customergroups/2", headers=auth(sandbox), timeout=5)
    assert answer.status_code == 200 and answer.json()[0]["Name"] == "Wholesale"


# ---------------------------------------------------------------------- reading


def test_get_one_is_a_one_element_array(sandbox: SandboxStore) -> None:
    body = call(sandbox, "GET", "Customers/1").json()
    assert isinstance(body, list) and len(body) == 1
    assert body[0]["Email"] == "jane@example.com" and body[0]["CustomerGroupID"] == 1
    assert call(sandbox, "GET", "Customers/999").status_code == 404


def test_documented_404_messages(sandbox: SandboxStore) -> None:
    none = call(sandbox, "GET", "Customers", params={"email": "nobody@example.com"})
    assert (none.status_code, none.json()) == (404, [{"Message": "No Customer records found."}])
    empty_group = sandbox.add_group("Empty")
    for group in (empty_group, 999):
        answer = call(sandbox, "GET", f"CustomerGroups/{group}/Customers")
        assert answer.status_code == 404
        assert answer.json()[0]["Message"] == "The Customer Group was not found and/or contains no customer records."
    with SandboxStore(seed_demo=False) as bare:
        answer = call(bare, "GET", "CustomerGroups")
        assert (answer.status_code, answer.json()) == (404, [{"Message": "There are no Customer Groups."}])


def test_limit_defaults_to_ten(sandbox: SandboxStore) -> None:
    sandbox.add_customers(15)
    assert len(call(sandbox, "GET", "Customers").json()) == 10
    assert len(call(sandbox, "GET", "Customers", params={"limit": 20}).json()) == 20
    assert len(call(sandbox, "GET", "Customers", params={"limit": "", "offset": ""}).json()) == 10


def test_offset_is_one_based_and_zero_means_start(sandbox: SandboxStore) -> None:
    def first_id(offset: int) -> int:
        return call(sandbox, "GET", "Customers", params={"limit": 1, "offset": offset}).json()[0]["CustomerID"]
    assert (first_id(0), first_id(1), first_id(2), first_id(8)) == (1, 1, 2, 8)


def test_offset_past_the_end_is_400(sandbox: SandboxStore) -> None:
    answer = call(sandbox, "GET", "Customers", params={"limit": 5, "offset": 9})
    assert (answer.status_code, answer.json()) == (400, [{"Message": PAST_END}])
    assert call(sandbox, "GET", "CustomerGroups", params={"offset": 5}).status_code == 400


def test_countonly(sandbox: SandboxStore) -> None:
    def count(path: str, **params: str) -> object:
        answer = call(sandbox, "GET", path, params={"countonly": 1, **params})
        assert answer.status_code == 200
        return answer.json()
    assert count("Customers") == {"TotalCount": 8}
    assert count("Customers", country="canada") == {"TotalCount": 2}
    assert count("Customers", email="nobody@example.com") == {"TotalCount": 0}
    assert count("CustomerGroups/2/Customers") == {"TotalCount": 2}
    assert count("CustomerGroups") == {"TotalCount": 4}


def test_email_filter_is_exact_and_case_insensitive(sandbox: SandboxStore) -> None:
    assert [c["CustomerID"] for c in call(sandbox, "GET", "Customers", params={"email": "JANE@Example.com"}).json()] == [1]
    assert call(sandbox, "GET", "Customers", params={"email": "jane@example"}).status_code == 404


def test_last_update_filters(sandbox: SandboxStore) -> None:
    now = datetime.now().replace(microsecond=0)
    for customer_id in range(1, 9):
        sandbox.touch(customer_id, now - timedelta(days=30))
    sandbox.touch(2, now - timedelta(hours=2))
    sandbox.touch(6, now - timedelta(days=3))
    fmt = "%m/%d/%Y %H:%M:%S"

    def found(**params: str) -> list[int]:
        answer = call(sandbox, "GET", "Customers", params=params)
        return [] if answer.status_code == 404 else [c["CustomerID"] for c in answer.json()]
    assert found(lastupdatestart=(now - timedelta(days=1)).strftime(fmt)) == [2]
    assert found(lastupdatestart=(now - timedelta(days=5)).strftime(fmt)) == [2, 6]
    assert found(lastupdatestart=(now - timedelta(days=5)).strftime(fmt),
                 lastupdateend=(now - timedelta(days=1)).strftime(fmt)) == [6]
    assert call(sandbox, "GET", "Customers", params={"lastupdatestart": "yesterday"}).status_code == 400


# ---------------------------------------------------------------------- writing


def test_partial_put_and_write_result_strings(sandbox: SandboxStore) -> None:
    before = sandbox.last_update(1)
    sandbox.touch(1, datetime(2020, 1, 1))
    answer = call(sandbox, "PUT", "Customers/1", json={"MailList": True})
    assert answer.status_code == 200
    assert answer.json() == [{"Key": "CustomerID", "Value": "1", "Status": "200", "Message": "updated successfully"}]
    record = sandbox.customer(1)
    assert record["MailList"] is True and record["BillingFirstName"] == "Jane" and record["CustomerGroupID"] == 1
    assert sandbox.last_update(1) >= before


def test_create_answers_201_with_the_new_id(sandbox: SandboxStore) -> None:
    answer = call(sandbox, "POST", "Customers", json=[{"Email": "new@example.com", "BillingFirstName": "New"}])
    assert answer.status_code == 201
    assert answer.json() == [{"Key": "CustomerID", "Value": "9", "Status": "201", "Message": "Created successfully"}]
    assert sandbox.customer(9)["BillingFirstName"] == "New"


def test_bulk_put_partial_is_206_and_all_missing_is_404(sandbox: SandboxStore) -> None:
    partial = call(sandbox, "PUT", "Customers", json=[{"CustomerID": 3, "Enabled": True}, {"CustomerID": 99, "Enabled": True}])
    assert partial.status_code == 206
    assert [item["Status"] for item in partial.json()] == ["200", "404"]
    missing = call(sandbox, "PUT", "Customers", json=[{"CustomerID": 98, "Enabled": True}])
    assert missing.status_code == 404


def test_bad_values_and_bodies_are_400(sandbox: SandboxStore) -> None:
    answer = call(sandbox, "PUT", "Customers/1", json={"Enabled": "maybe"})
    assert answer.status_code == 400 and answer.json()[0]["Message"] == "The value for Enabled is not valid."
    assert call(sandbox, "PUT", "Customers/1", data="{not json", headers={**auth(sandbox), "Content-Type": "application/json"}).status_code == 400
    assert sandbox.customer(1)["Enabled"] is True


# ---------------------------------------------------------------------- faults and control


def test_control_endpoint_sets_knobs(sandbox: SandboxStore) -> None:
    answer = requests.post(sandbox.control_url, json={"fail_next": {"n": 1, "status": 503}, "latency": 0.1}, timeout=5)
    assert answer.status_code == 200 and answer.json()["queued_faults"] == 1
    started = time.monotonic()
    assert call(sandbox, "GET", "Customers/1").status_code == 503
    assert time.monotonic() - started >= 0.1
    assert call(sandbox, "GET", "Customers/1").status_code == 200
    stats = requests.get(sandbox.control_url, timeout=5).json()
    assert stats["requests"] == 2 and stats["customers"] == 8 and stats["latency"] == 0.1
    requests.post(sandbox.control_url, json={"reset_counts": True, "clear_faults": True,
                                             "add_customers": {"n": 5, "group_id": 2}}, timeout=5)
    assert sandbox.request_count() == 0 and sandbox.latency == 0
    assert len(sandbox.customers()) == 13 and sandbox.customer(13)["CustomerGroupID"] == 2
    bad = requests.post(sandbox.control_url, json={"explode": 1}, timeout=5)
    assert bad.status_code == 400 and "explode" in bad.json()["error"]


def test_rate_limit_and_html_faults(sandbox: SandboxStore) -> None:
    sandbox.rate_limit_next(1, retry_after=7)
    limited = call(sandbox, "GET", "Customers/1")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "7")
    sandbox.fail_next(1, 502, html=True)
    page = call(sandbox, "GET", "Customers/1")
    assert page.status_code == 502 and page.headers["Content-Type"].startswith("text/html")
    sandbox.fail_next(1, 500)
    empty = call(sandbox, "GET", "Customers/1")
    assert (empty.status_code, empty.content) == (500, b"")


def test_throttle_is_a_leaky_bucket(sandbox: SandboxStore) -> None:
    sandbox.throttle(burst=3, per_second=1)
    statuses = [call(sandbox, "GET", "Customers/1").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    sandbox.throttle(None)
    assert call(sandbox, "GET", "Customers/1").status_code == 200


def test_hang_ends_when_the_sandbox_stops() -> None:
    store = SandboxStore().start()
    store.hang_next(1, seconds=30)
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        threading.Timer(0.3, store.stop).start()
        call(store, "GET", "Customers/1")
    assert time.monotonic() - started < 5


def test_request_log(sandbox: SandboxStore) -> None:
    call(sandbox, "GET", "Customers", params={"email": "jane@example.com"})
    call(sandbox, "PUT", "Customers/2", json={"Enabled": False})
    assert sandbox.request_count() == 2
    assert sandbox.request_count("put") == 1
    assert sandbox.request_count(path_contains="customers/2") == 1
    first, second = sandbox.requests
    assert (first.method, first.query) == ("GET", {"email": "jane@example.com"})
    assert second.body == {"Enabled": False}
    sandbox.reset_counts()
    assert sandbox.requests == []


def test_main_reports_a_busy_port(sandbox: SandboxStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", str(sandbox.port)]) == 1
    assert f"127.0.0.1:{sandbox.port}" in capsys.readouterr().out


def test_demo_data_matches_the_docstring(sandbox: SandboxStore) -> None:
    groups = {g["CustomerGroupID"]: g for g in sandbox.groups()}
    assert {gid: (g["Name"], g["AutoApprove"]) for gid, g in groups.items()} == {
        1: ("VIP", True), 2: ("Wholesale", False), 3: ("Staff", True), 4: ("Distributors", False),
    }
    customers = sandbox.customers()
    pending = [c["CustomerID"] for c in customers
               if not c["Enabled"] and c["CustomerGroupID"] and not groups[c["CustomerGroupID"]]["AutoApprove"]]
    assert pending == [3, 7]
    jane = sandbox.customer(1)
    assert (jane["BillingFirstName"], jane["BillingLastName"], jane["BillingCompany"], jane["Enabled"]) == ("Jane", "Doe", "Acme Ltd", True)
    assert [c["CustomerID"] for c in customers if c["CustomerGroupID"] == 0] == [4]
    assert any(c["Enabled"] and c["CustomerGroupID"] == 4 for c in customers)


# ---------------------------------------------------------------------- like the real API (issue 11, item 12)


@pytest.mark.parametrize("body", [
    '{"TotalStoreCredit": 1e400}', '{"TotalStoreCredit": ' + "9" * 401 + "}", '{"CustomerGroupID": 1e400}',
    '{"CustomerGroupID": ' + "9" * 401 + "}", '{"CustomerGroupID": 1e20}', '{"Enabled": 1e400}',
    '[{"CustomerID": 1e400, "Enabled": true}]', '{"Comments": ["a", "b"]}', '{"Email": {"x": 1}}',
    '{"BillingFirstName": NaN}', "[" * 100_000, '{"CustomerID": ' + "9" * 5000 + "}",
])
def test_no_input_gets_a_500(sandbox: SandboxStore, body: str) -> None:
    """Reproducer: ``1e400`` or a 401-digit credit answered 500; arrays were stored in strings."""
    before = sandbox.customer(1)
    for method, path in (("PUT", "Customers/1"), ("PUT", "Customers"), ("POST", "Customers")):
        answer = call(sandbox, method, path, data=body, headers={**auth(sandbox), "Content-Type": "application/json"})
        assert answer.status_code in (400, 404) or answer.json()[0]["Status"] == "400", (method, path, answer.text)
    assert sandbox.customer(1) == before


def test_json_property_names_bind_in_any_case(sandbox: SandboxStore) -> None:
    """Reproducer: ``{"enabled": false}`` answered "updated" and changed nothing."""
    answer = call(sandbox, "PUT", "Customers/1", json={"enabled": False, "MAILLIST": True})
    assert answer.status_code == 200
    record = sandbox.customer(1)
    assert record["Enabled"] is False and record["MailList"] is True


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_body_that_is_not_declared_json_is_415(sandbox: SandboxStore, content_type: str | None) -> None:
    headers = {**auth(sandbox), **({"Content-Type": content_type} if content_type else {})}
    answer = call(sandbox, "PUT", "Customers/1", data=b'{"Enabled": false}', headers=headers)
    assert answer.status_code == 415
    assert sandbox.customer(1)["Enabled"] is True
    ok = call(sandbox, "PUT", "Customers/1", data=b'{"Enabled": false}',
              headers={**auth(sandbox), "Content-Type": "application/json; charset=utf-8"})
    assert ok.status_code == 200 and sandbox.customer(1)["Enabled"] is False


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS"])
def test_head_and_options_are_405_json_like_the_real_server(sandbox: SandboxStore, method: str) -> None:
    """Reproducer: HEAD/OPTIONS got http.server's HTML 501."""
    answer = call(sandbox, method, "Customers")
    assert answer.status_code == 405
    assert answer.headers["Content-Type"].startswith("application/json")
    if method == "OPTIONS":
        assert method in answer.json()["Message"]
    else:
        assert answer.content == b""
