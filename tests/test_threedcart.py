"""ThreeDCartClient over real HTTP against the sandbox: the 13 operations, paging, mapping."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.store.errors import NotFound, Unavailable
from bot.store.models import Customer, CustomerChange, CustomerGroup, CustomerQuery, WriteResult
from bot.sandbox.threedcart import SandboxStore
from bot.store.threedcart import ThreeDCartClient

ALL = CustomerQuery()


def ids(records) -> list[int]:
    return [r.id for r in records]


# ---------------------------------------------------------------------- 1. list customers


def test_find_by_email_maps_every_field(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    [jane] = client.find_customers(CustomerQuery(email="JANE@example.com"))
    assert jane == Customer(
        id=1, email="jane@example.com", first_name="Jane", last_name="Doe", company="Acme Ltd",
        phone="+1 217 555 0101", group_id=1, enabled=True, mail_list=False, non_taxable=False,
        store_credit=25.0, comments="Prefers email contact.", last_update=None,
    )
    sent = sandbox.requests[-1]
    assert sent.method == "GET" and sent.path.endswith("/Customers")
    assert sent.query == {"email": "JANE@example.com", "limit": "100"}


@pytest.mark.parametrize(("query", "expected"), [
    (CustomerQuery(first_name="grace"), [7]),
    (CustomerQuery(last_name="Stone"), [2]),
    (CustomerQuery(city="Springfield"), [1, 5]),
    (CustomerQuery(city="Springfield", state="IL", country="United States"), [1, 5]),
    (CustomerQuery(country="Canada"), [6, 7]),
    (CustomerQuery(phone="+1 503 555 0102"), [2]),
])
def test_every_filter_is_sent_and_applied(client: ThreeDCartClient, query: CustomerQuery, expected: list[int]) -> None:
    assert ids(client.find_customers(query)) == expected


def test_filter_parameter_names(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    query = CustomerQuery(email="a@b.c", first_name="A", last_name="B", country="C", state="D", city="E",
                          phone="F", updated_since=datetime(2024, 1, 2, 3, 4, 5),
                          updated_until=datetime(2030, 12, 31, 23, 59, 59))
    assert client.find_customers(query, limit=5) == []
    assert sandbox.requests[-1].query == {
        "email": "a@b.c", "firstname": "A", "lastname": "B", "country": "C", "state": "D", "city": "E",
        "phone": "F", "lastupdatestart": "01/02/2024 03:04:05", "lastupdateend": "12/31/2030 23:59:59",
        "limit": "5",
    }


def test_no_match_is_an_empty_list_not_an_error(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    assert client.find_customers(CustomerQuery(email="nobody@example.com")) == []
    assert list(client.all_customers(CustomerQuery(email="nobody@example.com"))) == []
    assert sandbox.request_count("GET") == 2


def test_limit_is_always_sent_and_capped(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    client.find_customers(ALL, limit=5000)
    assert sandbox.requests[-1].query["limit"] == "300"
    client.find_customers(ALL, limit=0)
    assert sandbox.requests[-1].query["limit"] == "1"


def test_count_customers(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    assert client.count_customers(ALL) == 8
    assert sandbox.requests[-1].query == {"countonly": "1"}
    assert client.count_customers(CustomerQuery(city="Springfield")) == 2
    assert client.count_customers(CustomerQuery(email="nobody@example.com")) == 0


def test_count_tolerates_other_shapes(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    sandbox.fail_next(1, 200, json.dumps([{"TotalCount": "12"}]))
    assert client.count_customers(ALL) == 12
    sandbox.fail_next(1, 200, "7")
    assert client.count_customers(ALL) == 7
    sandbox.fail_next(1, 404, json.dumps([{"Message": "No Customer records found."}]))
    assert client.count_customers(ALL) == 0


# ---------------------------------------------------------------------- paging


@pytest.mark.parametrize(("base", "pages"), [(1, 4), (0, 3)])
def test_full_scan_pages_without_trusting_the_offset_base(base: int, pages: int) -> None:
    """1-based store: pages overlap by one record (de-duplicated) and the 4th request answers
    400 "Offset amount exceeds…" (the end). 0-based: the 3rd page is short (the end)."""
    with SandboxStore(offset_base=base) as store:
        with ThreeDCartClient(store.url, store.secure_url, store.private_key, store.token,
                              requests_per_second=None, scan_page_size=3) as client:
            assert ids(client.all_customers(ALL)) == [1, 2, 3, 4, 5, 6, 7, 8]
        assert store.request_count("GET", "/customers") == pages
        offsets = [r.query.get("offset") for r in store.requests]
        assert offsets[:3] == [None, "3", "6"]
        assert all(r.query["limit"] == "3" for r in store.requests)


def test_scan_stops_on_a_page_with_nothing_new(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    """A store that ignores ``offset`` must not make the scan loop forever."""
    page = json.dumps([{"CustomerID": i, "Email": f"c{i}@x.com"} for i in (1, 2, 3)])
    sandbox.fail_next(2, 200, page)
    small = ThreeDCartClient(sandbox.url, sandbox.secure_url, sandbox.private_key, sandbox.token,
                             requests_per_second=None, scan_page_size=3)
    try:
        assert ids(small.all_customers(ALL)) == [1, 2, 3]
    finally:
        small.close()
    assert sandbox.request_count("GET") == 2


@pytest.mark.parametrize("base", [0, 1])
def test_explicit_page_uses_the_detected_offset_base(base: int) -> None:
    with SandboxStore(offset_base=base) as store:
        with ThreeDCartClient(store.url, store.secure_url, store.private_key, store.token,
                              requests_per_second=None) as client:
            assert ids(client.find_customers(ALL, limit=3)) == [1, 2, 3]
            assert ids(client.find_customers(ALL, limit=3, offset=3)) == [4, 5, 6]
            assert ids(client.find_customers(ALL, limit=3, offset=6)) == [7, 8]
            assert client.find_customers(ALL, limit=3, offset=30) == []
        # two probes of the same endpoint detect its base, once
        probes = [r for r in store.requests if r.query.get("limit") == "1"]
        assert [(r.path.rsplit("/", 1)[-1], r.query.get("offset")) for r in probes] == [("Customers", None), ("Customers", "1")]
        assert store.request_count("GET", "/customergroups") == 0


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(total=st.integers(0, 14), page=st.integers(1, 6), base=st.sampled_from([0, 1]))
def test_scan_returns_every_record_exactly_once(total: int, page: int, base: int) -> None:
    with SandboxStore(seed_demo=False, offset_base=base) as store:
        created = store.add_customers(total)
        with ThreeDCartClient(store.url, store.secure_url, store.private_key, store.token,
                              requests_per_second=None, scan_page_size=page) as client:
            assert ids(client.all_customers(ALL)) == created


def test_groups_list_reads_every_page(sandbox: SandboxStore, make_client) -> None:
    sandbox.add_groups(150)
    groups = make_client(scan_page_size=40).list_groups()
    assert len(groups) == 154
    assert len({g.id for g in groups}) == 154
    assert groups[-1].name == "Group 150"
    # 40 + 40 + 40 + 34: shorter than pages already answered, so not a capped page: the end
    assert sandbox.request_count("GET", "/customergroups") == 4


# ---------------------------------------------------------------------- 2. get one


def test_get_customer(client: ThreeDCartClient) -> None:
    carol = client.get_customer(3)
    assert (carol.id, carol.email, carol.group_id, carol.enabled) == (3, "carol@example.com", 2, False)


def test_get_missing_customer_is_not_found(client: ThreeDCartClient) -> None:
    with pytest.raises(NotFound) as caught:
        client.get_customer(999)
    assert caught.value.status == 404


def test_get_accepts_a_bare_object(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    sandbox.fail_next(1, 200, json.dumps({"CustomerID": 42, "Email": "bare@example.com"}))
    assert client.get_customer(42).email == "bare@example.com"


def test_mapping_tolerates_strings_nulls_and_missing_fields(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    odd = sandbox.add_customer(
        Email=" odd@example.com ", CustomerGroupID="2", Enabled="false", MailList="1", NonTaxable=None,
        TotalStoreCredit="12.50", BillingCompany=None, BillingFirstName=None, LastUpdate="01/02/2024 10:00:00",
    )
    customer = client.get_customer(odd)
    assert customer == Customer(id=odd, email="odd@example.com", group_id=2, enabled=False, mail_list=True,
                                non_taxable=False, store_credit=12.5, company="", first_name="",
                                last_name="", phone="", last_update=datetime(2024, 1, 2, 10, 0, 0))
    sandbox.fail_next(1, 200, json.dumps([{"CustomerID": "77"}]))
    assert client.get_customer(77) == Customer(id=77, email="")


# ---------------------------------------------------------------------- 3./4. update


def test_update_sends_only_the_changed_fields(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    before = sandbox.customer(1)
    result = client.update_customer(CustomerChange(1, mail_list=True))
    assert result == WriteResult(1, True, 200, "updated successfully")
    put = sandbox.requests[-1]
    assert (put.method, put.path, put.body) == ("PUT", "/3dCartWebAPI/v1/Customers/1", {"MailList": True})
    after = sandbox.customer(1)
    assert after == {**before, "MailList": True}


def test_update_missing_customer_is_a_failed_result(client: ThreeDCartClient) -> None:
    result = client.update_customer(CustomerChange(999, enabled=True))
    assert (result.record_id, result.ok, result.status) == (999, False, 404)


def test_update_rejected_value_carries_the_store_message(client: ThreeDCartClient) -> None:
    result = client.update_customer(CustomerChange(1, group_id=99))
    assert (result.ok, result.status, result.message) == (False, 400, "CustomerGroupID 99 does not exist.")


def test_empty_change_is_refused_before_any_request(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    with pytest.raises(ValueError):
        client.update_customer(CustomerChange(1))
    assert sandbox.request_count() == 0


def test_bulk_update_one_request_partial_results(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    sandbox.fail_ids({7}, status=400)
    results = client.update_customers([
        CustomerChange(3, enabled=True), CustomerChange(999, enabled=True),
        CustomerChange(7, enabled=True), CustomerChange(5, group_id=1, mail_list=True),
    ])
    assert [(r.record_id, r.ok, r.status) for r in results] == [(3, True, 200), (999, False, 404), (7, False, 400), (5, True, 200)]
    assert results[2].message == "Simulated failure (sandbox fail_ids)."
    assert sandbox.request_count("PUT") == 1
    assert sandbox.requests[-1].body == [
        {"CustomerID": 3, "Enabled": True}, {"CustomerID": 999, "Enabled": True},
        {"CustomerID": 7, "Enabled": True}, {"CustomerID": 5, "CustomerGroupID": 1, "MailList": True},
    ]
    assert sandbox.customer(3)["Enabled"] is True and sandbox.customer(7)["Enabled"] is False
    assert (sandbox.customer(5)["CustomerGroupID"], sandbox.customer(5)["MailList"]) == (1, True)


def test_bulk_update_all_missing(client: ThreeDCartClient) -> None:
    results = client.update_customers([CustomerChange(998, enabled=True), CustomerChange(999, enabled=False)])
    assert [(r.record_id, r.ok, r.status) for r in results] == [(998, False, 404), (999, False, 404)]


def test_bulk_update_of_nothing_sends_nothing(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    assert client.update_customers([]) == []
    assert sandbox.request_count() == 0


@pytest.mark.parametrize("body", ["", "[]", json.dumps({"Status": "ok"}), json.dumps([{"Key": "CustomerID"}])])
def test_write_answer_that_confirms_nothing_is_in_doubt(client: ThreeDCartClient, sandbox: SandboxStore, body: str) -> None:
    """Reproducer (issue 11, item 3): an empty 200, ``[]`` and ``{"Status":"ok"}`` counted as done."""
    sandbox.fail_next(1, 200, body)
    try:
        result = client.update_customer(CustomerChange(2, enabled=False))
    except Unavailable as exc:
        assert "may or may not" in exc.message
    else:
        assert not result.ok, result


def test_write_record_with_error_status_is_failed(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    """Reproducer: ``[{"Value":"1","Status":"Error","Message":"Could not save"}]`` with HTTP 200."""
    sandbox.fail_next(1, 200, json.dumps([{"Value": "1", "Status": "Error", "Message": "Could not save"}]))
    result = client.update_customer(CustomerChange(1, mail_list=True))
    assert (result.ok, result.record_id, result.message) == (False, 1, "Could not save")


def test_bulk_write_without_a_result_for_a_record_fails_that_record(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    sandbox.fail_next(1, 200, json.dumps([{"Key": "CustomerID", "Value": "3", "Status": "200", "Message": "ok"}]))
    results = client.update_customers([CustomerChange(3, enabled=True), CustomerChange(7, enabled=True)])
    assert [(r.record_id, r.ok) for r in results] == [(3, True), (7, False)]
    assert "may or may not" in results[1].message


# ---------------------------------------------------------------------- 5. delete, 6. create


def test_delete_customer(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    assert client.delete_customer(4) == WriteResult(4, True, 200, "Deleted successfully")
    assert sandbox.customer(4) is None
    again = client.delete_customer(4)
    assert (again.ok, again.status) == (False, 404)
    with pytest.raises(NotFound):
        client.get_customer(4)


def test_create_customers_from_models_and_dicts(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    results = client.create_customers([
        Customer(id=0, email="new1@example.com", first_name="New", last_name="One", group_id=2, enabled=False),
        {"email": "new2@example.com", "company": "Two Ltd", "mail_list": True},
        {"Email": "new3@example.com", "BillingCity": "Oslo", "Password": "s3cret!"},
        {"email": "jane@example.com"},
    ])
    assert [(r.ok, r.status) for r in results] == [(True, 201), (True, 201), (True, 201), (False, 400)]
    new_ids = [r.record_id for r in results[:3]]
    assert new_ids == [9, 10, 11]
    first = sandbox.customer(9)
    assert (first["Email"], first["BillingFirstName"], first["CustomerGroupID"], first["Enabled"]) == ("new1@example.com", "New", 2, False)
    assert sandbox.customer(10)["BillingCompany"] == "Two Ltd" and sandbox.customer(10)["MailList"] is True
    assert sandbox.customer(11)["BillingCity"] == "Oslo"
    assert "already exists" in results[3].message
    posts = [r for r in sandbox.requests if r.method == "POST"]
    assert len(posts) == 4 and all(isinstance(r.body, dict) for r in posts)  # one object each, as the docs show


# ---------------------------------------------------------------------- 7. group members


def test_group_members_and_count(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    assert ids(client.group_members(2)) == [2, 3]
    assert sandbox.requests[-1].path.endswith("/CustomerGroups/2/Customers")
    assert sandbox.requests[-1].query == {"limit": "100"}
    assert ids(client.group_members(4, CustomerQuery(first_name="Grace"))) == [7]
    assert client.count_group_members(4) == 2
    assert client.group_members(999) == []
    assert client.count_group_members(999) == 0


def test_all_group_members_across_pages(sandbox: SandboxStore, make_client) -> None:
    added = sandbox.add_customers(10, group_id=3)
    members = list(make_client(scan_page_size=4).all_group_members(3))
    assert ids(members) == [5, *added]


# ---------------------------------------------------------------------- 8.–13. groups


def test_get_group_maps_every_field(client: ThreeDCartClient) -> None:
    assert client.get_group(2) == CustomerGroup(
        id=2, name="Wholesale", description="Trade prices for resellers.", auto_approve=False,
        allow_registration=True, non_taxable=False, minimum_order=250.0, price_level=2,
        disable_reward_points=False,
        registration_message="Thanks! We review wholesale applications within one business day.",
    )
    with pytest.raises(NotFound):
        client.get_group(99)


def test_list_and_count_groups(client: ThreeDCartClient) -> None:
    assert [g.name for g in client.list_groups()] == ["VIP", "Wholesale", "Staff", "Distributors"]
    assert client.count_groups() == 4


def test_group_writes(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    created = client.create_groups([
        CustomerGroup(id=0, name="Resellers", auto_approve=False, price_level=4),
        {"name": "Partners", "minimum_order": 50},
    ])
    assert [(r.ok, r.status, r.record_id) for r in created] == [(True, 201, 5), (True, 201, 6)]
    assert sandbox.group(5)["AutoApprove"] is False and sandbox.group(6)["MinimumOrder"] == 50.0

    assert client.update_group(5, {"description": "Resale partners"}).ok
    assert sandbox.requests[-1].body == {"Description": "Resale partners"}
    assert sandbox.group(5)["Name"] == "Resellers" and sandbox.group(5)["Description"] == "Resale partners"

    results = client.update_groups([{"id": 5, "auto_approve": True}, CustomerGroup(id=77, name="Ghost")])
    assert [(r.record_id, r.ok, r.status) for r in results] == [(5, True, 200), (77, False, 404)]
    assert sandbox.group(5)["AutoApprove"] is True

    assert client.delete_group(2) == WriteResult(2, True, 200, "Deleted successfully")
    assert sandbox.group(2) is None and sandbox.customer(3)["CustomerGroupID"] == 0
    assert client.delete_group(2).status == 404
    with pytest.raises(ValueError):
        client.update_groups([{"name": "no id"}])


# ---------------------------------------------------------------------- connection details


def test_secure_url_may_be_a_full_url(sandbox: SandboxStore, make_client) -> None:
    full = make_client(secure_url="https://" + sandbox.secure_url + "/")
    assert full.get_customer(1).email == "jane@example.com"


def test_client_works_as_a_context_manager(sandbox: SandboxStore) -> None:
    with ThreeDCartClient(sandbox.url.rstrip("/"), sandbox.secure_url, sandbox.private_key, sandbox.token,
                          requests_per_second=None) as client:
        assert client.name == "3dcart"
        assert client.get_group(1).name == "VIP"
