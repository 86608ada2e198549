"""CustomerService over the real client and sandbox: caching, single-flight, invalidation."""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests

from bot.config import Settings
from bot.store.connect import connect
from bot.store.errors import AmbiguousGroup, BadRequest, NotFound, Unavailable, UnknownGroup
from bot.store.models import RETAIL, Customer, CustomerChange
from bot.sandbox.threedcart import SandboxStore
from bot.store.service import CustomerService
from bot.store.threedcart import ThreeDCartClient


class Clock:
    """A timer the test moves by hand (cache expiry without sleeping)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lookups(sandbox: SandboxStore) -> int:
    return sandbox.request_count("GET", "/customers")


# ---------------------------------------------------------------------- lookups


def test_repeated_lookup_asks_the_store_once(service: CustomerService, sandbox: SandboxStore) -> None:
    first = service.find_by_email("jane@example.com")
    assert first is not None and first.id == 1
    assert service.find_by_email("  JANE@Example.COM ") is first
    assert service.get(1) is first  # cached by id too
    assert lookups(sandbox) == 1
    assert sandbox.requests[0].query["email"] == "jane@example.com"


def test_the_address_is_sent_as_typed_and_matched_exactly(service: CustomerService, sandbox: SandboxStore) -> None:
    """A store whose filter matches partially: only the exact address (any case) counts."""
    answer = [{"CustomerID": 50, "Email": "xjane@example.com"}, {"CustomerID": 1, "Email": "jane@example.com"}]
    sandbox.fail_next(1, 200, json.dumps(answer))
    assert service.find_by_email("  jane@example.com ").id == 1
    assert sandbox.requests[0].query["email"] == "jane@example.com"
    sandbox.fail_next(1, 200, json.dumps(answer[:1]))
    assert service.find_by_email("ane@example.com") is None


def test_twenty_concurrent_identical_lookups_make_one_request(service: CustomerService, sandbox: SandboxStore) -> None:
    sandbox.latency = 0.2
    barrier = threading.Barrier(20)

    def look(_: int) -> Customer | None:
        barrier.wait()
        return service.find_by_email("grace@example.com")

    with ThreadPoolExecutor(20) as pool:
        found = list(pool.map(look, range(20)))
    assert {c.id for c in found} == {7}
    assert sandbox.request_count() == 1


def test_concurrent_misses_share_the_error(service: CustomerService, sandbox: SandboxStore) -> None:
    sandbox.latency = 0.2
    sandbox.fail_next(1, 400, json.dumps([{"Message": "Bad email"}]))
    barrier = threading.Barrier(8)

    def look(_: int) -> str:
        barrier.wait()
        try:
            service.get(3)
        except BadRequest as exc:
            return exc.message
        return "no error"

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(look, range(8))) == {"Bad email"}
    assert sandbox.request_count() == 1
    assert service.get(3).email == "carol@example.com"  # errors are not cached


def test_negative_cache_expires(sandbox: SandboxStore, client: ThreeDCartClient) -> None:
    clock = Clock()
    service = CustomerService(client, negative_ttl=10, timer=clock)
    assert service.find_by_email("new@example.com") is None
    new_id = sandbox.add_customer(Email="new@example.com")
    assert service.find_by_email("new@example.com") is None  # still remembered as missing
    assert lookups(sandbox) == 1
    clock.now += 11
    assert service.find_by_email("new@example.com").id == new_id
    assert lookups(sandbox) == 2


def test_positive_entries_expire_after_ttl(sandbox: SandboxStore, client: ThreeDCartClient) -> None:
    clock = Clock()
    service = CustomerService(client, ttl=60, timer=clock)
    service.get(2)
    clock.now += 59
    service.get(2)
    assert sandbox.request_count() == 1
    clock.now += 2
    service.get(2)
    assert sandbox.request_count() == 2


def test_get_fresh_always_asks_and_refreshes(service: CustomerService, sandbox: SandboxStore) -> None:
    assert service.get(2).enabled is True
    sandbox.add_customer(CustomerID=2, Email="bob@example.com", Enabled=False)  # changed behind our back
    assert service.get(2).enabled is True  # cached
    assert service.get_fresh(2).enabled is False
    assert service.get_fresh(2).enabled is False
    assert sandbox.request_count() == 3
    assert service.get(2).enabled is False and service.find_by_email("bob@example.com").enabled is False
    assert sandbox.request_count() == 3


def test_get_fresh_of_a_deleted_customer_drops_it(service: CustomerService, client: ThreeDCartClient) -> None:
    service.find_by_email("dave@example.com")
    client.delete_customer(4)
    with pytest.raises(NotFound):
        service.get_fresh(4)
    with pytest.raises(NotFound):
        service.get(4)
    assert service.find_by_email("dave@example.com") is None


def test_get_fresh_clears_a_negative_entry(service: CustomerService, sandbox: SandboxStore) -> None:
    assert service.find_by_email("late@example.com") is None
    late = sandbox.add_customer(Email="late@example.com")
    service.get_fresh(late)
    before = sandbox.request_count()
    assert service.find_by_email("late@example.com").id == late
    assert sandbox.request_count() == before


def test_cache_is_bounded(client: ThreeDCartClient) -> None:
    service = CustomerService(client, maxsize=3)
    for customer_id in range(1, 9):
        service.get(customer_id)
        service.count_members(customer_id % 4 + 1)
    info = service.cache_info()
    assert info["customers"] == 3 and info["emails"] == 3 and info["lists"] == 3


def test_zero_ttl_disables_caching(sandbox: SandboxStore, client: ThreeDCartClient) -> None:
    service = CustomerService(client, ttl=0, negative_ttl=0)
    service.get(1)
    service.get(1)
    assert service.find_by_email("nobody@example.com") is None
    assert service.find_by_email("nobody@example.com") is None
    assert sandbox.request_count() == 4


# ---------------------------------------------------------------------- writes invalidate


def test_write_invalidates_by_id_email_and_member_lists(service: CustomerService, sandbox: SandboxStore) -> None:
    assert service.find_by_email("jane@example.com").group_id == 1
    assert [c.id for c in service.group_members(2)] == [2, 3]
    assert service.count_members(2) == 2
    assert len(service.pending_applicants()) == 2
    before = sandbox.request_count("GET")

    result = service.move(1, 2)
    assert (result.record_id, result.ok, result.status) == (1, True, 200)
    assert sandbox.requests[-1].body == {"CustomerGroupID": 2}

    assert service.find_by_email("jane@example.com").group_id == 2
    assert service.get(1).group_id == 2
    assert [c.id for c in service.group_members(2)] == [1, 2, 3]
    assert service.count_members(2) == 3
    assert sandbox.request_count("GET") == before + 3  # email, members, count; get(1) came with the email


def test_set_flags_updates_the_pending_list(service: CustomerService, sandbox: SandboxStore) -> None:
    assert [c.id for c in service.pending_applicants()] == [3, 7]
    service.set_flags(3, enabled=True)
    assert sandbox.requests[-1].body == {"Enabled": True}
    assert [c.id for c in service.pending_applicants()] == [7]
    with pytest.raises(ValueError):
        service.set_flags(3)


def test_failed_single_writes_raise_typed_errors(service: CustomerService, sandbox: SandboxStore) -> None:
    with pytest.raises(BadRequest) as caught:
        service.move(1, 99)
    assert caught.value.message == "CustomerGroupID 99 does not exist."
    with pytest.raises(NotFound):
        service.set_flags(999, enabled=True)
    with pytest.raises(NotFound):
        service.delete(999)


def test_a_failed_write_still_invalidates(service: CustomerService, sandbox: SandboxStore) -> None:
    service.get(1)
    sandbox.fail_next(1, 503)
    with pytest.raises(Unavailable):
        service.set_flags(1, mail_list=True)
    before = sandbox.request_count()
    service.get(1)
    assert sandbox.request_count() == before + 1


def test_delete(service: CustomerService, sandbox: SandboxStore) -> None:
    assert service.find_by_email("henry@example.com").id == 8
    assert service.delete(8).ok
    assert sandbox.customer(8) is None
    assert service.find_by_email("henry@example.com") is None


def test_update_many_is_one_bulk_put(service: CustomerService, sandbox: SandboxStore) -> None:
    pending = service.pending_applicants()
    sandbox.fail_ids({7})
    results = service.update_many([CustomerChange(c.id, enabled=True) for c in pending] + [CustomerChange(999, enabled=True)])
    assert [(r.record_id, r.ok) for r in results] == [(3, True), (7, False), (999, False)]
    assert sandbox.request_count("PUT") == 1
    assert [c.id for c in service.pending_applicants()] == [7]
    assert service.update_many([]) == []
    assert sandbox.request_count("PUT") == 1


def test_invalidate_customers_is_public(service: CustomerService, sandbox: SandboxStore) -> None:
    jane = service.get(1)
    service.invalidate_customers([jane, 2])
    service.get(1)
    assert sandbox.request_count() == 2


# ---------------------------------------------------------------------- groups


def test_groups_are_cached_and_named(service: CustomerService, sandbox: SandboxStore) -> None:
    assert [g.name for g in service.groups()] == ["VIP", "Wholesale", "Staff", "Distributors"]
    assert service.group(0) is RETAIL and service.group(4).name == "Distributors" and service.group(99) is None
    assert service.group_name(0) == "No group (retail)"
    assert service.group_name(2) == "Wholesale"
    assert service.group_name(99) == "Group #99"
    assert sandbox.request_count() == 1


def test_group_name_survives_a_store_outage(make_client, sandbox: SandboxStore) -> None:
    service = CustomerService(make_client(retries=1))
    sandbox.stop()
    assert service.group_name(2) == "Group #2"
    with pytest.raises(Unavailable):
        service.groups()


def test_more_than_a_hundred_groups(sandbox: SandboxStore, make_client) -> None:
    sandbox.add_groups(150)
    service = CustomerService(make_client(scan_page_size=100))
    groups = service.groups()
    assert len(groups) == 154 and len({g.id for g in groups}) == 154
    assert service.resolve_group("group 150").id == 154
    assert service.group_name(154) == "Group 150"
    assert sandbox.request_count() == 2


@pytest.mark.parametrize(("text", "group_id"), [
    ("2", 2), ("#4", 4), ("0", 0), ("wholesale", 2), ("WHOLESALE", 2), ("  Staff ", 3), ("dist", 4),
    ("v", 1), ("retail", 0), ("None", 0), ("no group", 0), ("No group (retail)", 0),
])
def test_resolve_group(service: CustomerService, text: str, group_id: int) -> None:
    assert service.resolve_group(text).id == group_id


def test_resolve_group_ambiguous_and_exact_wins(service: CustomerService, sandbox: SandboxStore) -> None:
    eu = sandbox.add_group("Wholesale EU")
    with pytest.raises(AmbiguousGroup) as caught:
        service.resolve_group("whole")
    assert {g.id for g in caught.value.candidates} == {2, eu}
    assert service.resolve_group("Wholesale").id == 2


def test_resolve_group_unknown_suggests_the_nearest(service: CustomerService, sandbox: SandboxStore) -> None:
    with pytest.raises(UnknownGroup) as caught:
        service.resolve_group("Wholsale")
    assert caught.value.candidates[0].name == "Wholesale"
    assert len(caught.value.candidates) == 4
    with pytest.raises(UnknownGroup):
        service.resolve_group("99")
    with pytest.raises(UnknownGroup):
        service.resolve_group("")


def test_resolve_group_finds_a_group_created_after_caching(service: CustomerService, sandbox: SandboxStore) -> None:
    service.groups()
    new = sandbox.add_group("Brand new")
    assert service.resolve_group(str(new)).name == "Brand new"
    assert service.group(new).name == "Brand new"  # the list was refreshed


def test_search_groups(service: CustomerService, sandbox: SandboxStore) -> None:
    sandbox.add_group("Resale")
    assert [g.name for g in service.search_groups("re")] == ["No group (retail)", "Resale"]
    assert [g.name for g in service.search_groups("sale")] == ["Wholesale", "Resale"]
    assert [g.id for g in service.search_groups("s")] == [3, 2, 4, 5]  # prefix first, then substring
    assert service.search_groups("4")[0].name == "Distributors"
    assert len(service.search_groups("", limit=3)) == 3


def test_group_members_pages_and_counts(service: CustomerService, sandbox: SandboxStore) -> None:
    sandbox.add_customers(5, group_id=2)
    assert [c.id for c in service.group_members(2, limit=3)] == [2, 3, 9]
    assert [c.id for c in service.group_members(2, limit=3, page=2)] == [10, 11, 12]
    assert [c.id for c in service.group_members(2, limit=3, offset=6)] == [13]
    assert service.group_members(2, limit=3, page=4) == []
    assert service.count_members(2) == service.count_members(2) == 7
    before = sandbox.request_count()
    service.group_members(2, limit=3, page=2)
    assert sandbox.request_count() == before


# ---------------------------------------------------------------------- pending and polling


def test_pending_applicants_are_exactly_the_disabled_in_non_autoapprove_groups(
        service: CustomerService, sandbox: SandboxStore) -> None:
    assert [c.email for c in service.pending_applicants()] == ["carol@example.com", "grace@example.com"]
    scanned = {r.path.split("/")[-2] for r in sandbox.requests if r.path.lower().endswith("/customers")}
    assert scanned == {"2", "4"}  # only the groups that need approval
    late = sandbox.add_customer(Email="late@example.com", CustomerGroupID=4, Enabled=False)
    assert [c.id for c in service.pending_applicants()] == [3, 7]  # cached
    assert [c.id for c in service.pending_applicants(fresh=True)] == [3, 7, late]
    assert [c.id for c in service.pending_applicants()] == [3, 7, late]


def test_changed_since(service: CustomerService, sandbox: SandboxStore) -> None:
    now = datetime.now().replace(microsecond=0)
    assert [c.id for c in service.changed_since(now - timedelta(hours=36))] == [3]
    assert [c.id for c in service.changed_since(now - timedelta(days=3))] == [3, 7]
    assert sandbox.requests[-1].query["lastupdatestart"] == (now - timedelta(days=3)).strftime("%m/%d/%Y %H:%M:%S")
    service.move(4, 1)
    assert [c.id for c in service.changed_since(datetime.now(timezone.utc) - timedelta(minutes=1))] == [4]
    assert service.changed_since(datetime.now() + timedelta(minutes=1)) == []


def test_concurrent_reads_and_writes_stay_consistent(service: CustomerService, sandbox: SandboxStore) -> None:
    def work(i: int) -> None:
        service.find_by_email("jane@example.com")
        service.group_members(1)
        if i % 5 == 0:
            service.set_flags(1, mail_list=bool(i % 2))
        service.get(1)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(work, range(40)))
    assert service.get_fresh(1).mail_list == sandbox.customer(1)["MailList"]
    assert service.get(1) == service.get_fresh(1)


def test_cache_info_and_clear(service: CustomerService) -> None:
    service.get(1)
    service.groups()
    service.find_by_email("nobody@example.com")
    info = service.cache_info()
    assert (info["customers"], info["groups"], info["negative"], info["in_flight"]) == (1, 4, 1, 0)
    service.clear()
    info = service.cache_info()
    assert (info["customers"], info["groups"], info["negative"]) == (0, 0, 0)


# ---------------------------------------------------------------------- connect


def test_connect_without_credentials_runs_on_the_embedded_sandbox(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    settings = Settings(_env_file=None, threedcart_secure_url="", threedcart_private_key="", threedcart_token="")
    connection = connect(settings)
    try:
        assert connection.sandbox is not None
        assert connection.service.find_by_email("jane@example.com").id == 1
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "DEMO DATA" in warnings[0].getMessage()
        assert connection.sandbox.url in warnings[0].getMessage()
        assert connection.backend.limiter is None
    finally:
        connection.close()
    with pytest.raises(requests.ConnectionError):
        requests.get(connection.sandbox.url, timeout=1)  # close() stopped the sandbox


def test_connect_with_credentials_uses_them(sandbox: SandboxStore) -> None:
    settings = Settings(
        _env_file=None, threedcart_api_url=sandbox.url, threedcart_secure_url=sandbox.secure_url,
        threedcart_private_key=sandbox.private_key, threedcart_token=sandbox.token,
        store_timeout_seconds=2, store_requests_per_second=5, store_burst=7, cache_ttl_seconds=30,
    )
    connection = connect(settings)
    try:
        assert connection.sandbox is None
        assert connection.service.ttl == 30
        assert (connection.backend.limiter.rate, connection.backend.limiter.burst) == (5, 7)
        assert connection.service.group_name(2) == "Wholesale"
        assert sandbox.request_count() == 1
    finally:
        connection.close()


def test_changed_since_clears_lists_only_when_something_differs(service: CustomerService, sandbox: SandboxStore) -> None:
    since = datetime.now() - timedelta(days=3)
    service.changed_since(since)  # the first look fills the id cache
    service.pending_applicants()
    sandbox.reset_counts()
    service.changed_since(since)  # nothing changed: the pending list stays cached
    service.pending_applicants()
    assert sandbox.request_count() == 1
    headers = {"SecureURL": sandbox.secure_url, "PrivateKey": sandbox.private_key, "Token": sandbox.token}
    requests.put(f"{sandbox.url}Customers/3", json={"Enabled": True}, headers=headers, timeout=5)
    service.changed_since(since)  # Carol was approved in the store admin
    assert [c.id for c in service.pending_applicants()] == [7]


def test_a_fresh_read_that_finds_a_change_drops_the_cached_lists(service: CustomerService, sandbox: SandboxStore) -> None:
    assert [c.id for c in service.pending_applicants()] == [3, 7]
    headers = {"SecureURL": sandbox.secure_url, "PrivateKey": sandbox.private_key, "Token": sandbox.token}
    requests.put(f"{sandbox.url}Customers/3", json={"Enabled": True}, headers=headers, timeout=5)
    service.get_fresh(3)  # e.g. the re-read before a click that turns out to be a no-op
    service.changed_since(datetime.now() - timedelta(days=3))
    assert [c.id for c in service.pending_applicants()] == [7]
