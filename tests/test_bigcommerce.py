"""The BigCommerce v2 client over real HTTP against the BigCommerce sandbox: every operation,
empty lists as 204 and ``[]``, paging past 250, 429 with ``X-Rate-Limit-Time-Reset-Ms``, string
money and ids, and proof that nothing ever sends the bulk ``DELETE /customers``."""

from __future__ import annotations

import inspect
import json
from datetime import datetime, timedelta, timezone

import pytest
import requests

from bot.sandbox.bigcommerce import APPLICANT_GROUP, BigCommerceSandbox
from bot.store.bigcommerce import mapping as v2
from bot.store.bigcommerce.client import BigCommerceClient, customer_path
from bot.store.errors import AuthFailed, BadRequest, NotFound, RateLimited, Unavailable
from bot.store.models import Customer, CustomerChange, CustomerQuery, WriteResult

JANE, BOB, CAROL, DAVE, HENRY = 1, 2, 3, 4, 8
VIP, WHOLESALE, APPLICANTS = 1, 2, 5


def ids(customers: list[Customer]) -> list[int]:
    return [c.id for c in customers]


def bulk_deletes(store: BigCommerceSandbox) -> list[str]:
    """Requests that would delete the whole collection (``DELETE /customers`` with or without .json)."""
    return [r.path for r in store.requests
            if r.method == "DELETE" and r.path.rstrip("/").removesuffix(".json").endswith("/customers")]


# ---------------------------------------------------------------------- mapping


def test_mapping_parses_string_money_ids_and_rfc2822_dates() -> None:
    raw = {"id": "7", "email": " a@b.c ", "first_name": "Random ", "last_name": "Joe Bob", "company": None,
           "store_credit": "12.5000", "customer_group_id": "3", "notes": "vip",
           "date_modified": "Tue, 13 Nov 2012 21:16:41 +0000"}
    customer = v2.customer_from_v2(raw)
    assert customer == Customer(id=7, email="a@b.c", first_name="Random", last_name="Joe Bob", company="",
                                group_id=3, store_credit=12.5, comments="vip",
                                last_update=datetime(2012, 11, 13, 21, 16, 41, tzinfo=timezone.utc))
    assert v2.customer_from_v2({"id": 1, "store_credit": "not money", "date_modified": "yesterday"}).store_credit == 0.0
    assert v2.customer_from_v2({"id": 1, "date_modified": "yesterday"}).last_update is None
    assert v2.money_text(25) == "25.0000"


def test_queries_are_sent_in_v2_names_and_rfc2822() -> None:
    since = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    params = v2.query_params(CustomerQuery(email="a@b.c", first_name="A", last_name="B", company="C", phone="P",
                                           updated_since=since), group_id=5)
    assert params == {"email": "a@b.c", "first_name": "A", "last_name": "B", "company": "C", "phone": "P",
                      "min_date_modified": "Tue, 02 Jan 2024 01:04:05 +0000", "customer_group_id": "5"}
    with pytest.raises(ValueError):
        v2.query_params(CustomerQuery(city="Leeds"))  # not a v2 customer filter: never silently ignored


def test_changes_map_to_customer_group_id_only() -> None:
    assert v2.change_to_v2(CustomerChange(1, group_id=4)) == {"customer_group_id": 4}
    for change in (CustomerChange(1, enabled=True), CustomerChange(1, group_id=2, mail_list=False), CustomerChange(1)):
        with pytest.raises(ValueError):
            v2.change_to_v2(change)


# ---------------------------------------------------------------------- reads


def test_headers_and_base_path(bc_client: BigCommerceClient, bc_sandbox: BigCommerceSandbox) -> None:
    seen: list[requests.PreparedRequest] = []
    bc_client.http.session.hooks["response"].append(lambda r, *a, **k: seen.append(r.request))
    bc_client.get_customer(JANE)
    bc_client.update_customer(CustomerChange(JANE, group_id=WHOLESALE))
    get, put = seen
    assert get.url == bc_sandbox.url + "customers/1.json"
    assert get.headers["X-Auth-Token"] == bc_sandbox.access_token and get.headers["Accept"] == "application/json"
    assert "Content-Type" not in get.headers
    assert put.headers["Content-Type"] == "application/json" and json.loads(put.body) == {"customer_group_id": 2}


def test_find_by_every_filter(bc_client: BigCommerceClient) -> None:
    assert ids(bc_client.find_customers(CustomerQuery(email="JANE@example.com"))) == [JANE]
    assert ids(bc_client.find_customers(CustomerQuery(first_name="bob"))) == [BOB]
    assert ids(bc_client.find_customers(CustomerQuery(last_name="Kim"))) == [DAVE]
    assert ids(bc_client.find_customers(CustomerQuery(company="Park & Sons"))) == [HENRY]
    assert ids(bc_client.find_customers(CustomerQuery(phone="+1 512 555 0103"))) == [CAROL]
    assert ids(bc_client.group_members(VIP)) == [JANE, HENRY]
    assert ids(bc_client.group_members(0)) == [DAVE]  # "no group" is listable on BigCommerce


def test_updated_since_filters_on_date_modified(bc_client: BigCommerceClient, bc_sandbox: BigCommerceSandbox) -> None:
    now = datetime.now(timezone.utc)
    assert ids(bc_client.find_customers(CustomerQuery(updated_since=now - timedelta(days=3)))) == [CAROL, 7]
    bc_sandbox.touch(JANE, now)
    naive_local = (now - timedelta(minutes=1)).astimezone().replace(tzinfo=None)
    assert ids(bc_client.find_customers(CustomerQuery(updated_since=naive_local))) == [JANE]
    assert "min_date_modified" in bc_sandbox.requests[-1].query


def test_get_maps_every_field(bc_client: BigCommerceClient) -> None:
    jane = bc_client.get_customer(JANE)
    assert (jane.email, jane.full_name, jane.company, jane.group_id, jane.store_credit, jane.comments) == (
        "jane@example.com", "Jane Doe", "Acme Ltd", VIP, 25.0, "Prefers email contact.")
    assert jane.last_update is not None and jane.last_update.tzinfo is not None
    with pytest.raises(NotFound):
        bc_client.get_customer(999)


@pytest.mark.parametrize("style", ["204", "[]"])
def test_empty_lists_as_204_or_empty_array(bc_client: BigCommerceClient, bc_sandbox: BigCommerceSandbox, style: str) -> None:
    bc_sandbox.empty_lists(style)
    assert bc_client.find_customers(CustomerQuery(email="nobody@example.com")) == []
    assert list(bc_client.all_customers(CustomerQuery(email="nobody@example.com"))) == []
    assert bc_client.group_members(VIP, offset=500) == []
    raw = requests.get(bc_sandbox.url + "customers.json", params={"email": "nobody@example.com"},
                       headers={"X-Auth-Token": bc_sandbox.access_token}, timeout=5)
    assert raw.status_code == (204 if style == "204" else 200) and raw.content == (b"" if style == "204" else b"[]")


def test_paging_past_250(bc_client: BigCommerceClient, bc_sandbox: BigCommerceSandbox) -> None:
    made = bc_sandbox.add_customers(600, group_id=WHOLESALE)
    bc_sandbox.reset_counts()
    members = list(bc_client.all_group_members(WHOLESALE))
    assert ids(members) == [BOB, *made]
    pages = [r.query for r in bc_sandbox.requests]
    assert [(q["page"], q["limit"]) for q in pages] == [("1", "250"), ("2", "250"), ("3", "250")]
    assert bc_client.count_group_members(WHOLESALE) == 601
    # explicit pages: on a page boundary one request, else the two pages that hold the window
    assert ids(bc_client.group_members(WHOLESALE, limit=20, offset=260)) == made[259:279]
    bc_sandbox.reset_counts()
    assert ids(bc_client.group_members(WHOLESALE, limit=20, offset=255)) == made[254:274]
    assert bc_sandbox.request_count() == 2
    assert ids(bc_client.find_customers(CustomerQuery(), limit=1000)) == list(range(1, 251))  # capped at 250


def test_counts(bc_client: BigCommerceClient, bc_sandbox: BigCommerceSandbox) -> None:
    assert bc_client.count_customers(CustomerQuery()) == 8
    assert bc_sandbox.requests[-1].path.endswith("/customers/count.json")
    assert bc_client.count_customers(CustomerQuery(company="Acme Ltd")) == 1  # filtered: counted from the ids
    assert bc_client.count_groups() == 5
    assert bc_client.count_group_members(APPLICANTS) == 2


def test_groups(bc_client: BigCommerceClient) -> None:
    groups = bc_client.list_groups()
    assert [(g.id, g.name) for g in groups] == [(1, "VIP"), (2, "Wholesale"), (3, "Staff"), (4, "Distributors"),
                                                (5, APPLICANT_GROUP)]
    assert bc_client.get_group(5).name == APPLICANT_GROUP
    with pytest.raises(NotFound):
        bc_client.get_group(99)


def test_a_plan_without_groups_has_none(bc_client: BigCommerceClient, bc_sandbox: BigCommerceSandbox) -> None:
    bc_sandbox.fail_next(1, 403, json.dumps([{"status": 403, "message": "Customer groups are not on this plan."}]))
    assert bc_client.list_groups() == []
    bc_sandbox.fail_next(1, 403)
    with pytest.raises(AuthFailed):  # anywhere else a 403 is the credentials
        bc_client.get_customer(JANE)


# ---------------------------------------------------------------------- writes


def test_update_move_and_refusals(bc_client: BigCommerceClient, bc_sandbox: BigCommerceSandbox) -> None:
    assert bc_client.update_customer(CustomerChange(JANE, group_id=WHOLESALE)) == WriteResult(JANE, True, 200)
    assert bc_sandbox.customer(JANE)["customer_group_id"] == WHOLESALE
    refused = bc_client.update_customer(CustomerChange(JANE, group_id=77))
    assert not refused.ok and refused.status == 400 and "77" in refused.message
    missing = bc_client.update_customer(CustomerChange(999, group_id=VIP))
    assert not missing.ok and missing.status == 404
    with pytest.raises(ValueError):
        bc_client.update_customer(CustomerChange(JANE, enabled=False))


def test_update_customers_sends_one_put_each_and_reports_each(bc_client: BigCommerceClient, bc_sandbox: BigCommerceSandbox) -> None:
    bc_sandbox.fail_ids([DAVE], status=409)
    bc_sandbox.reset_counts()
    results = bc_client.update_customers([CustomerChange(JANE, group_id=3), CustomerChange(DAVE, group_id=3),
                                          CustomerChange(999, group_id=3), CustomerChange(HENRY, group_id=3)])
    assert [(r.record_id, r.ok, r.status) for r in results] == [(JANE, True, 200), (DAVE, False, 409),
                                                               (999, False, 404), (HENRY, True, 200)]
    assert bc_sandbox.request_count("PUT") == 4
    assert [r.path.rsplit("/", 1)[1] for r in bc_sandbox.requests] == ["1.json", "4.json", "999.json", "8.json"]


def test_update_customers_stops_sending_when_the_store_stops_answering(make_bc_client, bc_sandbox: BigCommerceSandbox) -> None:
    client = make_bc_client(total_budget=0.5, timeout=0.3)
    bc_sandbox.reset_counts()
    bc_sandbox.fail_next(1, 503)  # the first PUT fails after it was sent: in doubt, and not retried
    results = client.update_customers([CustomerChange(JANE, group_id=3), CustomerChange(HENRY, group_id=3)])
    assert [(r.record_id, r.ok) for r in results] == [(JANE, False), (HENRY, False)]
    assert results[1].message.startswith("Not sent")
    assert bc_sandbox.request_count("PUT") == 1 and bc_sandbox.customer(HENRY)["customer_group_id"] == VIP


def test_create_and_delete_one(bc_client: BigCommerceClient, bc_sandbox: BigCommerceSandbox) -> None:
    made = bc_client.create_customer(Customer(id=0, email="new@example.com", first_name="New", last_name="Person",
                                              group_id=VIP, store_credit=5))
    assert made.ok and made.status == 201 and made.record_id
    raw = bc_sandbox.customer(made.record_id)
    assert raw["store_credit"] == "5.0000" and raw["customer_group_id"] == VIP
    assert bc_client.create_customers([{"email": "x@example.com"}])[0].status == 400  # names are required
    assert bc_client.delete_customer(made.record_id) == WriteResult(made.record_id, True, 204)
    assert bc_client.delete_customer(made.record_id).status == 404
    assert bc_sandbox.customer(made.record_id) is None and bc_sandbox.customer(JANE) is not None


# ---------------------------------------------------------------------- the bulk delete is unreachable


def test_the_sandbox_really_serves_bulk_delete(bc_sandbox: BigCommerceSandbox) -> None:
    """Positive control for the test below: the request it looks for is real, and destructive."""
    requests.delete(bc_sandbox.url + "customers.json", headers={"X-Auth-Token": bc_sandbox.access_token}, timeout=5)
    assert bulk_deletes(bc_sandbox) == ["/stores/sandbox1/v2/customers.json"]
    assert bc_sandbox.customers() == []


def test_no_client_path_sends_delete_customers(bc_client: BigCommerceClient, bc_sandbox: BigCommerceSandbox) -> None:
    public = {name for name, _ in inspect.getmembers(BigCommerceClient, inspect.isfunction) if not name.startswith("_")}
    assert not {n for n in public if "delete" in n} - {"delete_customer"}  # no bulk method at all
    for bad in (0, -1, True, 1.5):
        with pytest.raises((ValueError, TypeError)):
            customer_path(bad)  # type: ignore[arg-type]
        with pytest.raises((ValueError, TypeError)):
            bc_client.delete_customer(bad)  # type: ignore[arg-type]
    # Every public operation, with every argument shape it takes, against the live sandbox:
    q = CustomerQuery()
    calls = [
        lambda: bc_client.find_customers(q), lambda: list(bc_client.all_customers(q)),
        lambda: bc_client.count_customers(q), lambda: bc_client.get_customer(JANE),
        lambda: bc_client.update_customer(CustomerChange(JANE, group_id=2)),
        lambda: bc_client.update_customers([CustomerChange(BOB, group_id=1)]),
        lambda: bc_client.group_members(VIP), lambda: list(bc_client.all_group_members(VIP)),
        lambda: bc_client.count_group_members(VIP), lambda: bc_client.list_groups(), lambda: bc_client.get_group(1),
        lambda: bc_client.count_groups(), lambda: bc_client.create_customer({"email": "z@example.com", "first_name": "Z", "last_name": "Z"}),
        lambda: bc_client.delete_customer(HENRY), lambda: bc_client.delete_customer(999),
    ]
    for call in calls:
        call()
    assert bc_sandbox.request_count("DELETE") == 2 and bulk_deletes(bc_sandbox) == []
    assert len(bc_sandbox.customers()) == 8  # 8 demo - Henry + Z


# ---------------------------------------------------------------------- rate limits and errors


def test_429_waits_for_the_reset_header_then_succeeds(bc_client: BigCommerceClient, bc_sandbox: BigCommerceSandbox) -> None:
    bc_sandbox.rate_limit_next(1, retry_after=0.2)
    bc_sandbox.reset_counts()
    assert bc_client.get_customer(JANE).id == JANE
    assert bc_sandbox.request_count() == 2


def test_429_whose_reset_outlasts_the_budget_ends_at_once(bc_client: BigCommerceClient, bc_sandbox: BigCommerceSandbox) -> None:
    bc_sandbox.rate_limit_next(5, retry_after=30)
    bc_sandbox.reset_counts()
    with pytest.raises(RateLimited) as caught:
        bc_client.get_customer(JANE)
    assert caught.value.retry_after == pytest.approx(30)
    assert bc_sandbox.request_count() == 1  # no pointless retries


def test_writes_refused_with_429_are_sent_again_once_admitted(bc_client: BigCommerceClient, bc_sandbox: BigCommerceSandbox) -> None:
    bc_sandbox.rate_limit_next(1, retry_after=0.1)
    assert bc_client.update_customer(CustomerChange(JANE, group_id=3)).ok
    assert bc_sandbox.request_count("PUT") == 2 and bc_sandbox.customer(JANE)["customer_group_id"] == 3


def test_slows_down_as_requests_left_nears_zero(make_bc_client, bc_sandbox: BigCommerceSandbox) -> None:
    """Quota 4 per 400 ms: a client that ignored ``X-Rate-Limit-Requests-Left`` would get 429s
    (positive control first); this one holds until the window resets and is never refused."""
    bc_sandbox.throttle(quota=4, window_ms=400)
    raw = [requests.get(bc_sandbox.url + "customers/1.json", headers={"X-Auth-Token": bc_sandbox.access_token},
                        timeout=5).status_code for _ in range(6)]
    assert 429 in raw
    bc_sandbox.throttle(quota=4, window_ms=400)
    client = make_bc_client(retries=0, total_budget=3)
    for _ in range(10):
        assert client.get_customer(JANE).id == JANE
    assert bc_sandbox.request_count() == 6 + 10  # every request admitted first time


def test_bad_token_is_auth_failed_naming_the_settings(make_bc_client, bc_sandbox: BigCommerceSandbox) -> None:
    client = make_bc_client(access_token="wrong-token-value")
    with pytest.raises(AuthFailed) as caught:
        client.get_customer(JANE)
    assert "BIGCOMMERCE_ACCESS_TOKEN" in str(caught.value) and "wrong-token-value" not in str(caught.value)


def test_store_messages_never_echo_the_token(bc_client: BigCommerceClient, bc_sandbox: BigCommerceSandbox) -> None:
    bc_sandbox.fail_next(1, 400, json.dumps([{"status": 400, "message": f"bad token {bc_sandbox.access_token}"}]))
    with pytest.raises(BadRequest) as caught:
        bc_client.find_customers(CustomerQuery())
    assert bc_sandbox.access_token not in str(caught.value)


def test_5xx_and_html_are_unavailable(bc_client: BigCommerceClient, bc_sandbox: BigCommerceSandbox) -> None:
    bc_sandbox.fail_next(20, 503)
    with pytest.raises(Unavailable):
        bc_client.get_customer(JANE)
    bc_sandbox.clear_faults()
    bc_sandbox.fail_next(1, 200, "<html>oops</html>")
    with pytest.raises(Unavailable):
        bc_client.list_groups()


def test_control_endpoint(bc_sandbox: BigCommerceSandbox) -> None:
    url = bc_sandbox.control_url
    stats = requests.post(url, json={"add_customers": 3, "empty_lists": "[]", "fail_ids": [1]}, timeout=5).json()
    assert stats["customers"] == 11 and stats["empty_lists"] == "[]" and stats["fail_ids"] == [1]
    assert requests.post(url, json={"nope": 1}, timeout=5).status_code == 400
    assert requests.get(url, timeout=5).json()["requests"] == 0  # control requests are not counted


def test_answers_about_another_customer_are_refused(bc_client: BigCommerceClient, bc_sandbox: BigCommerceSandbox) -> None:
    from bot.store.errors import WrongRecord

    bc_sandbox.fail_next(1, 200, json.dumps(bc_sandbox.customer(HENRY)))
    with pytest.raises(WrongRecord):
        bc_client.get_customer(JANE)
    bc_sandbox.fail_next(1, 200, json.dumps([bc_sandbox.customer(HENRY), bc_sandbox.customer(JANE)]))
    assert ids(bc_client.find_customers(CustomerQuery(email="jane@example.com"))) == [JANE]  # substring-ish match dropped
    bc_sandbox.fail_next(1, 200, json.dumps([{"id": "", "email": "jane@example.com"}]))
    with pytest.raises(WrongRecord):
        bc_client.find_customers(CustomerQuery(email="jane@example.com"))
