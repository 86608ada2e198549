"""``bot.store.http.StoreHttp`` on its own, against the sandbox over real HTTP: the hooks a second
store (BigCommerce) relies on, an injected session, and the scrubber's variants."""

from __future__ import annotations

import logging

import pytest
import requests

from bot.runtime import RedactSecrets
from bot.scrub import Scrubber
from bot.store.errors import AuthFailed, RateLimited, Unavailable
from bot.store.http import StoreHttp, reset_ms_header, requests_left_slowdown, retry_after_header
from bot.sandbox.threedcart import SandboxStore


def layer(store: SandboxStore, **options) -> StoreHttp:
    return StoreHttp(store.url, headers={"SecureURL": store.secure_url, "PrivateKey": store.private_key,
                                         "Token": store.token, "Accept": "application/json"},
                     secrets=(store.token,), timeout=2, budget=3, name="test", **options)


def test_rate_limit_header_readers() -> None:
    assert retry_after_header({"Retry-After": "3"}) == 3
    assert retry_after_header({"Retry-After": "soon"}) is None
    bigcommerce = reset_ms_header()
    assert bigcommerce({"X-Rate-Limit-Time-Reset-Ms": "1500"}) == 1.5
    assert bigcommerce({"Retry-After": "2"}) == 2  # falls back
    slowdown = requests_left_slowdown(threshold=2)
    assert slowdown({"X-Rate-Limit-Requests-Left": "2", "X-Rate-Limit-Time-Reset-Ms": "800"}) == 0.8
    assert slowdown({"X-Rate-Limit-Requests-Left": "30", "X-Rate-Limit-Time-Reset-Ms": "800"}) == 0.0


def test_a_slowdown_hook_holds_the_next_request_within_the_budget(sandbox: SandboxStore) -> None:
    http = layer(sandbox, slowdown=lambda headers: 60.0)  # "no requests left for a minute"
    assert http.call("GET", "Customers/1").status == 200
    with pytest.raises(RateLimited):
        http.call("GET", "Customers/1")  # the hold does not fit in the 3 s budget: refused at once
    assert sandbox.request_count() == 1


def test_the_retry_wait_hook_decides_the_429_wait(sandbox: SandboxStore) -> None:
    http = layer(sandbox, retry_wait=lambda headers: 30.0)
    sandbox.rate_limit_next(1, retry_after=None)
    with pytest.raises(RateLimited) as caught:
        http.call("GET", "Customers/1")
    assert caught.value.retry_after == 30.0 and sandbox.request_count() == 1


def test_an_error_hook_runs_before_the_default_mapping(sandbox: SandboxStore) -> None:
    http = layer(sandbox, errors=lambda reply, method: Unavailable("mine") if reply.status == 404 else None,
                 auth_hint="Check STORE_TOKEN.")
    with pytest.raises(Unavailable, match="mine"):
        http.call("GET", "Customers/999")
    wrong = StoreHttp(sandbox.url, headers={"Token": "x"}, auth_hint="Check STORE_TOKEN.")
    try:
        with pytest.raises(AuthFailed, match="STORE_TOKEN"):
            wrong.call("GET", "Customers/1")
    finally:
        wrong.close()
        http.close()


def test_an_injected_session_is_used_and_left_open(sandbox: SandboxStore) -> None:
    session = requests.Session()
    http = layer(sandbox, session=session)
    assert http.call("GET", "Customers/1").body[0]["Email"] == "jane@example.com"
    http.close()
    assert session.get(sandbox.url + "Customers/1", headers=dict(http.session.headers), timeout=5).status_code == 200
    session.close()


@pytest.mark.parametrize("seen", [
    "TOKEN-Abc/123", "token-abc/123", "TOKEN-Abc%2F123", "TOKEN-Abc\\/123", "shop.example.com",
    "https%3A%2F%2Fshop.example.com%2F", "HTTPS://SHOP.EXAMPLE.COM",
])
def test_scrubber_variants(seen: str) -> None:
    scrub = Scrubber(["TOKEN-Abc/123", "https://shop.example.com/"])
    assert scrub.scrub(f"before {seen} after") == "before *** after"


def test_the_log_filter_redacts_variants(caplog) -> None:
    logger = logging.getLogger("test.redact")
    caplog.set_level(logging.INFO, logger="test.redact")
    for handler in [caplog.handler]:
        handler.addFilter(RedactSecrets(["https://shop-secret.example.com"]))
    logger.info("store said %s", "SHOP-SECRET.EXAMPLE.COM is wrong")
    assert "shop-secret" not in caplog.text.lower() and "[redacted]" in caplog.text
