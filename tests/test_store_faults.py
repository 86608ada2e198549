"""The client under store faults: retries, budgets, typed errors, and no secret anywhere."""

from __future__ import annotations

import json
import logging
import time

import pytest

from bot.store.errors import AuthFailed, BadRequest, RateLimited, StoreError, Unavailable
from bot.store.models import CustomerChange, CustomerQuery
from bot.sandbox.threedcart import SandboxStore
from bot.store.service import CustomerService
from bot.store.threedcart import ThreeDCartClient


def timed(fn, *args, **kwargs):
    started = time.monotonic()
    try:
        return fn(*args, **kwargs), time.monotonic() - started
    except StoreError as exc:
        return exc, time.monotonic() - started


# ---------------------------------------------------------------------- reads are retried


@pytest.mark.parametrize(("failures", "status"), [(1, 500), (2, 500), (1, 502), (2, 503), (1, 504)])
def test_transient_server_errors_are_retried(client: ThreeDCartClient, sandbox: SandboxStore,
                                             failures: int, status: int) -> None:
    sandbox.fail_next(failures, status)
    assert client.get_customer(1).email == "jane@example.com"
    assert sandbox.request_count("GET") == failures + 1


def test_persistent_server_errors_end_as_unavailable(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    sandbox.fail_next(10, 500)
    error, elapsed = timed(client.get_customer, 1)
    assert isinstance(error, Unavailable) and error.status == 500
    assert sandbox.request_count("GET") == 5  # the first try and four retries
    assert elapsed < 3


def test_429_waits_for_retry_after_within_the_budget(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    sandbox.rate_limit_next(1, retry_after=1)
    customer, elapsed = timed(client.get_customer, 1)
    assert customer.id == 1
    assert 0.9 <= elapsed < 2.5
    assert sandbox.request_count("GET") == 2


def test_retry_after_beyond_the_budget_fails_fast(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    sandbox.rate_limit_next(1, retry_after=30)
    error, elapsed = timed(client.get_customer, 1)
    assert isinstance(error, RateLimited)
    assert error.retry_after == 30
    assert elapsed < 1
    assert sandbox.request_count() == 1


def test_hang_is_unavailable_within_the_bound(sandbox: SandboxStore, make_client) -> None:
    client = make_client(timeout=0.3, total_budget=0.8)
    sandbox.hang_next(5, seconds=3)
    error, elapsed = timed(client.get_customer, 1)
    assert isinstance(error, Unavailable)
    assert elapsed < 0.8  # within the budget: no attempt is started that could not finish in it
    assert sandbox.request_count("GET") == 2  # after 0.3 s a whole retry fitted; after 0.6 s not


def test_connection_refused_is_unavailable(sandbox: SandboxStore, client: ThreeDCartClient) -> None:
    assert client.get_customer(1).id == 1  # a pooled connection exists
    sandbox.stop()
    error, elapsed = timed(client.get_customer, 1)
    assert isinstance(error, Unavailable)
    assert elapsed < 3.5


# ---------------------------------------------------------------------- answers that are not JSON


@pytest.mark.parametrize(("status", "html"), [(500, True), (200, True), (200, False)])
def test_html_or_empty_answers_are_unavailable(client: ThreeDCartClient, sandbox: SandboxStore,
                                               status: int, html: bool) -> None:
    sandbox.fail_next(10, status, html=html)
    error, _ = timed(client.find_customers, CustomerQuery(email="jane@example.com"))
    assert isinstance(error, Unavailable)
    assert "<html" not in error.message


@pytest.mark.parametrize("body", [
    json.dumps([{"Message": "The email parameter is not valid."}]),
    json.dumps({"Message": "The email parameter is not valid."}),
])
def test_400_carries_the_store_message(client: ThreeDCartClient, sandbox: SandboxStore, body: str) -> None:
    sandbox.fail_next(1, 400, body)
    with pytest.raises(BadRequest) as caught:
        client.find_customers(CustomerQuery(email="x"))
    assert caught.value.message == "The email parameter is not valid."
    assert caught.value.status == 400
    assert sandbox.request_count() == 1  # 400 is not retried


def test_400_without_body_is_a_generic_bad_request(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    sandbox.fail_next(1, 400, "")
    with pytest.raises(BadRequest, match="HTTP 400"):
        client.get_group(1)


# ---------------------------------------------------------------------- writes are not retried


@pytest.mark.parametrize("status", [500, 503])
def test_put_is_not_retried(service: CustomerService, sandbox: SandboxStore, status: int) -> None:
    sandbox.fail_next(1, status)
    with pytest.raises(Unavailable):
        service.move(4, 2)
    assert sandbox.request_count("PUT") == 1
    assert sandbox.customer(4)["CustomerGroupID"] == 0


def test_bulk_put_post_and_delete_are_not_retried(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    sandbox.fail_next(3, 500)
    for write in (lambda: client.update_customers([CustomerChange(3, enabled=True)]),
                  lambda: client.create_customers([{"email": "x@example.com"}]),
                  lambda: client.delete_customer(4)):
        with pytest.raises(Unavailable):
            write()
    assert sandbox.request_count() == 3


def test_429_on_a_write_is_retried_because_the_store_did_nothing(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    sandbox.rate_limit_next(1, retry_after=0.2)
    result = client.update_customer(CustomerChange(1, enabled=False))
    assert result.ok and sandbox.customer(1)["Enabled"] is False
    assert sandbox.request_count("PUT") == 2  # the refused attempt and the one that worked


def test_429_on_a_write_beyond_the_budget_is_rate_limited(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    sandbox.rate_limit_next(1, retry_after=60)
    with pytest.raises(RateLimited):
        client.update_customer(CustomerChange(1, enabled=False))
    assert sandbox.request_count("PUT") == 1
    assert sandbox.customer(1)["Enabled"] is True


def test_write_timeout_says_the_change_may_have_been_saved(sandbox: SandboxStore, make_client) -> None:
    client = make_client(timeout=0.3, total_budget=2.0)
    sandbox.hang_next(1, seconds=1)
    error, elapsed = timed(client.update_customer, CustomerChange(1, mail_list=True))
    assert isinstance(error, Unavailable) and "may or may not" in error.message
    assert elapsed < 1
    assert sandbox.request_count("PUT") == 1


# ---------------------------------------------------------------------- secrets


SECRETS = {"secure_url": "secret-store-SEKRET1.example", "private_key": "PK-SEKRET2-abcdef",
           "token": "TOKEN-SEKRET3-123456"}


def test_401_is_auth_failed_and_no_secret_leaks(caplog: pytest.LogCaptureFixture, make_client) -> None:
    caplog.set_level(logging.DEBUG)
    with SandboxStore(**SECRETS) as store:
        good = make_client(store)
        assert good.get_customer(1).id == 1  # a success logs too
        wrong = make_client(store, token="TOKEN-SEKRET4-wrong")
        error, _ = timed(wrong.get_customer, 1)
        assert isinstance(error, AuthFailed) and error.status == 401
        for name in ("THREEDCART_SECURE_URL", "THREEDCART_PRIVATE_KEY", "THREEDCART_TOKEN"):
            assert name in error.message
        assert store.request_count() == 2  # 401 is not retried
    assert "3dcart GET /Customers/1 -> 401" in caplog.text
    everything = caplog.text + error.message + repr(error)
    for secret in (*SECRETS.values(), "TOKEN-SEKRET4-wrong", "SEKRET"):
        assert secret not in everything


def test_a_store_message_echoing_a_credential_is_scrubbed(client: ThreeDCartClient, sandbox: SandboxStore) -> None:
    sandbox.fail_next(1, 400, json.dumps([{"Message": f"Token {sandbox.token} is not valid here"}]))
    with pytest.raises(BadRequest) as caught:
        client.get_customer(1)
    assert sandbox.token not in caught.value.message
    assert caught.value.message == "Token *** is not valid here"


# ---------------------------------------------------------------------- client-side pacing


def test_limiter_refuses_a_wait_beyond_the_budget(sandbox: SandboxStore, make_client) -> None:
    client = make_client(requests_per_second=1, burst=1, total_budget=0.3)
    assert client.get_customer(1).id == 1
    error, elapsed = timed(client.get_customer, 2)
    assert isinstance(error, RateLimited) and "paces" in error.message
    assert elapsed < 0.1
    assert sandbox.request_count() == 1


def test_limiter_keeps_the_bot_under_the_store_bucket(sandbox: SandboxStore, make_client) -> None:
    """The store throttles at 5 burst + 10/s; the client paces at 3 burst + 8/s: never a 429."""
    sandbox.throttle(burst=5, per_second=10)
    client = make_client(requests_per_second=8, burst=3)
    _, elapsed = timed(lambda: [client.get_customer(1) for _ in range(10)])
    assert sandbox.request_count() == 10  # no 429 → no retry
    assert elapsed >= 0.8  # (10 - 3) / 8 s of pacing
