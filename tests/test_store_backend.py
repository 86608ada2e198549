"""Choosing the store: STORE_BACKEND, the credentials of each store, SANDBOX, the registry."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.store.bigcommerce.client import BigCommerceClient
from bot.store.connect import connect
from bot.store.registry import BACKENDS
from bot.store.threedcart import ThreeDCartClient

SECRET = "bc-token-super-secret-1234"
STORE_VARS = ("THREEDCART_SECURE_URL", "THREEDCART_PRIVATE_KEY", "THREEDCART_TOKEN", "THREEDCART_API_URL",
              "BIGCOMMERCE_STORE_HASH", "BIGCOMMERCE_ACCESS_TOKEN", "BIGCOMMERCE_API_URL", "STORE_BACKEND", "SANDBOX")
THREEDCART = {"THREEDCART_SECURE_URL": "https://s.example.com", "THREEDCART_PRIVATE_KEY": "pk", "THREEDCART_TOKEN": "tk"}
BIGCOMMERCE = {"BIGCOMMERCE_STORE_HASH": "abc123", "BIGCOMMERCE_ACCESS_TOKEN": SECRET}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in STORE_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout


def settings_with(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def test_no_credentials_is_the_threedcart_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_with(monkeypatch, {})
    assert settings.sandbox_mode and settings.backend == "threedcart"


def test_sandbox_bigcommerce_picks_the_bigcommerce_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_with(monkeypatch, {"SANDBOX": "BigCommerce"})
    assert settings.sandbox_mode and settings.backend == "bigcommerce"
    with pytest.raises(ConfigError) as caught:
        settings_with(monkeypatch, {"SANDBOX": "shopify"})
    assert "SANDBOX" in str(caught.value)


def test_bigcommerce_credentials_choose_bigcommerce(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_with(monkeypatch, BIGCOMMERCE)
    assert not settings.sandbox_mode and settings.backend == "bigcommerce"
    assert settings.bigcommerce_url == "https://api.bigcommerce.com/stores/abc123/v2/"
    assert SECRET not in repr(settings) and settings.secret(settings.bigcommerce_access_token) == SECRET
    monkeypatch.setenv("BIGCOMMERCE_API_URL", "http://127.0.0.1:9/stores/abc123/v2/")
    assert load_settings().bigcommerce_url == "http://127.0.0.1:9/stores/abc123/v2/"


@pytest.mark.parametrize("given, missing", [
    ({"BIGCOMMERCE_STORE_HASH": "abc"}, "BIGCOMMERCE_ACCESS_TOKEN"),
    ({"BIGCOMMERCE_ACCESS_TOKEN": SECRET}, "BIGCOMMERCE_STORE_HASH"),
])
def test_partial_bigcommerce_credentials_are_refused_naming_what_is_missing(
        monkeypatch: pytest.MonkeyPatch, given: dict[str, str], missing: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_with(monkeypatch, given)
    assert missing in str(caught.value) and SECRET not in str(caught.value)


def test_both_stores_need_store_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_with(monkeypatch, {**THREEDCART, **BIGCOMMERCE})
    assert "STORE_BACKEND" in str(caught.value) and SECRET not in str(caught.value)
    monkeypatch.setenv("STORE_BACKEND", "bigcommerce")
    assert load_settings().backend == "bigcommerce"
    monkeypatch.setenv("STORE_BACKEND", "threedcart")
    assert load_settings().backend == "threedcart"


def test_store_backend_without_its_credentials_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_with(monkeypatch, {**THREEDCART, "STORE_BACKEND": "bigcommerce"})
    assert "BIGCOMMERCE_STORE_HASH" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        settings_with(monkeypatch, {"STORE_BACKEND": "magento"})
    assert "STORE_BACKEND" in str(caught.value)


def test_connect_builds_the_client_the_settings_choose(monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(BACKENDS) == {"threedcart", "bigcommerce"}
    for sandbox, client_type, label in (("threedcart", ThreeDCartClient, "3dcart"),
                                        ("bigcommerce", BigCommerceClient, "BigCommerce")):
        conn = connect(settings_with(monkeypatch, {"SANDBOX": sandbox}))
        try:
            assert isinstance(conn.backend, client_type) and conn.label == label and conn.sandbox is not None
            assert conn.service.find_by_email("jane@example.com").full_name == "Jane Doe"
        finally:
            conn.close()
    conn = connect(settings_with(monkeypatch, {"SANDBOX": "", **BIGCOMMERCE}))
    try:  # the real store: nothing is started, nothing is sent yet
        assert isinstance(conn.backend, BigCommerceClient) and conn.sandbox is None
        assert conn.backend.http.base_url == "https://api.bigcommerce.com/stores/abc123/v2/"
    finally:
        conn.close()


def test_cli_refuses_partial_credentials_without_echoing_the_token(tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "BIGCOMMERCE_ACCESS_TOKEN": SECRET}
    proc = subprocess.run([sys.executable, "-m", "bot", "serve"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert "BIGCOMMERCE_STORE_HASH" in proc.stderr and SECRET not in proc.stdout + proc.stderr
