"""One contract, every backend: the 3dcart client over the 3dcart sandbox, the BigCommerce client
over the BigCommerce sandbox, and the in-memory ``FakeBackend`` the service and desk tests use.

Both sandboxes hold the same eight demo customers (ids 1–8) and groups 1–4, so each test reads
the same on every store. What differs is declared by ``Backend.capabilities`` and tested as such.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from bot.store.errors import NotFound
from bot.store.models import CustomerChange, CustomerQuery

try:
    from fake_backend import BIGCOMMERCE_LIKE, THREEDCART_LIKE, FakeBackend
except ImportError:  # pragma: no cover - imported as the tests package
    from tests.fake_backend import BIGCOMMERCE_LIKE, THREEDCART_LIKE, FakeBackend

JANE, BOB, CAROL, DAVE, HENRY = 1, 2, 3, 4, 8
VIP, WHOLESALE, STAFF = 1, 2, 3


@dataclass
class Store:
    backend: Any
    add_customers: Callable[..., list[int]]
    requests: Callable[[], int]
    """Requests the store received so far (the fake counts calls instead)."""


@pytest.fixture(params=["threedcart", "bigcommerce", "fake", "fake-bigcommerce"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "threedcart":
        sandbox = request.getfixturevalue("sandbox")
        yield Store(request.getfixturevalue("client"), sandbox.add_customers, sandbox.request_count)
    elif request.param == "bigcommerce":
        sandbox = request.getfixturevalue("bc_sandbox")
        yield Store(request.getfixturevalue("bc_client"), sandbox.add_customers, sandbox.request_count)
    else:
        fake = FakeBackend(capabilities=BIGCOMMERCE_LIKE if request.param == "fake-bigcommerce" else THREEDCART_LIKE)
        yield Store(fake, fake.add_customers, lambda: sum(v for k, v in fake.calls.items() if k != "close"))


def ids(items: Any) -> list[int]:
    return [c.id for c in items]


def test_find_by_email_in_any_case(store: Store) -> None:
    found = store.backend.find_customers(CustomerQuery(email="jane@example.com"))
    assert ids(found) == [JANE] and found[0].full_name == "Jane Doe" and found[0].company == "Acme Ltd"
    assert store.backend.find_customers(CustomerQuery(email="nobody@example.com")) == []
    assert list(store.backend.all_customers(CustomerQuery(email="nobody@example.com"))) == []


def test_get_one_and_not_found(store: Store) -> None:
    jane = store.backend.get_customer(JANE)
    assert (jane.email, jane.group_id, jane.store_credit) == ("jane@example.com", VIP, 25.0)
    with pytest.raises(NotFound):
        store.backend.get_customer(999)


def test_groups(store: Store) -> None:
    groups = {g.id: g.name for g in store.backend.list_groups()}
    assert {VIP: "VIP", WHOLESALE: "Wholesale", STAFF: "Staff", 4: "Distributors"}.items() <= groups.items()
    assert store.backend.get_group(VIP).name == "VIP"
    with pytest.raises(NotFound):
        store.backend.get_group(999)


def test_members_counts_and_paging(store: Store) -> None:
    assert ids(store.backend.group_members(VIP)) == [JANE, HENRY]
    assert store.backend.count_group_members(VIP) == 2
    assert store.backend.count_customers(CustomerQuery()) == 8
    made = store.add_customers(30, group_id=STAFF)
    everyone = [5, *made]
    assert ids(store.backend.all_group_members(STAFF)) == everyone
    assert store.backend.count_group_members(STAFF) == 31
    assert ids(store.backend.group_members(STAFF, limit=10, offset=10)) == everyone[10:20]
    assert ids(store.backend.group_members(STAFF, limit=10, offset=25)) == everyone[25:31]
    assert store.backend.group_members(STAFF, limit=10, offset=40) == []


def test_changed_since(store: Store) -> None:
    since = datetime.now(timezone.utc) - timedelta(days=3)
    assert ids(store.backend.all_customers(CustomerQuery(updated_since=since))) == [CAROL, 7]


def test_move_is_partial_and_read_back(store: Store) -> None:
    result = store.backend.update_customer(CustomerChange(JANE, group_id=WHOLESALE))
    assert result.ok and result.record_id == JANE
    jane = store.backend.get_customer(JANE)
    assert jane.group_id == WHOLESALE and jane.email == "jane@example.com" and jane.store_credit == 25.0
    assert store.backend.update_customer(CustomerChange(JANE, group_id=0)).ok
    assert store.backend.get_customer(JANE).group_id == 0


def test_refused_writes_are_results_not_exceptions(store: Store) -> None:
    missing = store.backend.update_customer(CustomerChange(999, group_id=VIP))
    assert not missing.ok and missing.status == 404
    bad_group = store.backend.update_customer(CustomerChange(JANE, group_id=777))
    assert not bad_group.ok and bad_group.status == 400
    assert store.backend.get_customer(JANE).group_id == VIP


def test_update_many_reports_each_record_in_order(store: Store) -> None:
    changes = [CustomerChange(JANE, group_id=STAFF), CustomerChange(999, group_id=STAFF), CustomerChange(HENRY, group_id=STAFF)]
    results = store.backend.update_customers(changes)
    assert [(r.record_id, r.ok) for r in results] == [(JANE, True), (999, False), (HENRY, True)]
    assert ids(store.backend.all_group_members(STAFF)) == [JANE, 5, HENRY]
    assert store.backend.update_customers([]) == []


def test_delete_one(store: Store) -> None:
    assert store.backend.delete_customer(DAVE).ok
    with pytest.raises(NotFound):
        store.backend.get_customer(DAVE)
    again = store.backend.delete_customer(DAVE)
    assert not again.ok and again.status == 404
    assert store.backend.count_customers(CustomerQuery()) == 7


def test_capabilities_are_what_the_store_does(store: Store) -> None:
    caps = store.backend.capabilities
    assert caps.page_size >= 100 and caps.bulk_update_size >= 1
    assert store.backend.hints.label and store.backend.hints.credentials
    before = store.requests()
    if caps.has_enabled:
        assert store.backend.update_customer(CustomerChange(JANE, enabled=False)).ok
        assert store.backend.get_customer(JANE).enabled is False
    else:
        with pytest.raises(ValueError):
            store.backend.update_customer(CustomerChange(JANE, enabled=False))
        with pytest.raises(ValueError):
            store.backend.update_customers([CustomerChange(JANE, group_id=2), CustomerChange(HENRY, mail_list=True)])
        assert store.requests() == before  # refused before anything was sent
        assert store.backend.get_customer(JANE).group_id == VIP  # the valid change in the batch was not sent
    if caps.lists_customers_without_group:
        assert ids(store.backend.group_members(0)) == [DAVE]
