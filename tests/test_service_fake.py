"""CustomerService over the in-memory FakeBackend: what it asks the backend, counted in calls."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.store.models import CustomerChange
from bot.store.service import CustomerService

try:
    from fake_backend import BIGCOMMERCE_LIKE, FakeBackend
except ImportError:  # pragma: no cover - imported as the tests package
    from tests.fake_backend import BIGCOMMERCE_LIKE, FakeBackend


def test_changed_since_hands_the_backend_a_datetime_to_format() -> None:
    fake = FakeBackend()
    since = datetime.now(timezone.utc) - timedelta(days=3)
    assert [c.id for c in CustomerService(fake).changed_since(since)] == [3, 7]
    assert fake.queries[-1].updated_since == since  # not a store-formatted string


def test_member_pages_and_counts_are_one_call_each_then_cached() -> None:
    fake = FakeBackend(capabilities=BIGCOMMERCE_LIKE)
    fake.add_customers(45, group_id=3)
    service = CustomerService(fake)
    for _ in range(3):
        assert len(service.group_members(3, limit=20, page=2)) == 20
        assert service.count_members(3) == 46
    assert fake.calls["group_members"] == 1 and fake.calls["count_group_members"] == 1
    service.move(1, 3)
    assert service.count_members(3) == 47 and fake.calls["count_group_members"] == 2  # the write dropped the lists


def test_update_many_is_one_backend_call_and_reports_each_record() -> None:
    fake = FakeBackend(capabilities=BIGCOMMERCE_LIKE)
    results = CustomerService(fake).update_many([CustomerChange(1, group_id=2), CustomerChange(99, group_id=2)])
    assert [(r.record_id, r.ok) for r in results] == [(1, True), (99, False)]
    assert fake.calls["update_customers"] == 1


def test_a_store_without_approval_settings_has_no_pending_applicants() -> None:
    fake = FakeBackend(capabilities=BIGCOMMERCE_LIKE)
    for group_id, group in fake.groups.items():
        fake.groups[group_id] = group.__class__(group.id, group.name)  # BigCommerce groups: no AutoApprove
    assert CustomerService(fake).pending_applicants() == []
    assert fake.calls["all_group_members"] == 0  # no group needs approval: no member scans
