"""Sandbox mode never uses the real state: ``DATABASE_URL`` is ignored (like ``REDIS_URL``).

Demo customers share ids with real ones (Carol #3, Grace #7): their ledger rows and audit
entries in the real database would show in the real ``history`` and be picked by typed ``undo``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from bot.config import load_settings
from bot.runtime import build_runtime

pytestmark = pytest.mark.timeout(60)

NO_CREDENTIALS = {"threedcart_secure_url": "", "threedcart_private_key": "", "threedcart_token": "",
                  "bigcommerce_store_hash": "", "bigcommerce_access_token": "", "redis_url": "",
                  "store_backend": "", "settle_seconds": 0}


def tables(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


@pytest.mark.parametrize("store", ["threedcart", "bigcommerce"])
def test_sandbox_mode_ignores_database_url(store: str, pg_url: str, tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(**NO_CREDENTIALS, sandbox=store, database_url=pg_url, data_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="bot.runtime"):
        runtime = build_runtime(settings)
    try:
        assert runtime.store.sandbox is not None
        assert runtime.db.dialect == "sqlite" and str(tmp_path) in runtime.db.url
        assert runtime.settings.database_url is None
        assert any("DATABASE_URL is ignored in sandbox mode" in r.getMessage() for r in caplog.records)
        assert pg_url not in caplog.text
    finally:
        runtime.close()
    assert tables(pg_url) == []  # the real database was not even migrated


def test_a_real_store_keeps_database_url(pg_url: str, tmp_path: Path, sandbox) -> None:  # noqa: ANN001
    """Positive control: with real credentials the state is in DATABASE_URL."""
    settings = load_settings(**{**NO_CREDENTIALS, "threedcart_api_url": sandbox.url,
                                "threedcart_secure_url": sandbox.secure_url,
                                "threedcart_private_key": sandbox.private_key, "threedcart_token": sandbox.token},
                             database_url=pg_url, data_dir=tmp_path)
    runtime = build_runtime(settings)
    try:
        assert runtime.store.sandbox is None and runtime.db.dialect == "postgresql"
    finally:
        runtime.close()
    assert {"applications", "audit"} <= set(tables(pg_url))


def sandbox_line(caplog: pytest.LogCaptureFixture, **settings: object) -> str:
    from bot.store.connect import connect

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.store.connect"):
        connection = connect(load_settings(**{**NO_CREDENTIALS, **settings}))
    connection.close()
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("SANDBOX MODE")]
    return line


def test_the_sandbox_log_line_says_why(caplog: pytest.LogCaptureFixture, sandbox) -> None:  # noqa: ANN001
    credentials = {"threedcart_api_url": sandbox.url, "threedcart_secure_url": sandbox.secure_url,
                   "threedcart_private_key": sandbox.private_key, "threedcart_token": sandbox.token}
    chosen = sandbox_line(caplog, **credentials, sandbox="bigcommerce")
    assert chosen.startswith("SANDBOX MODE: SANDBOX=bigcommerce is set (the store credentials that are set are not used)")
    assert "no store credentials" not in chosen and "BigCommerce sandbox store" in chosen
    assert sandbox.token not in chosen
    bare = sandbox_line(caplog, sandbox="threedcart")
    assert bare.startswith("SANDBOX MODE: SANDBOX=threedcart is set, so") and "not used" not in bare
    unset = sandbox_line(caplog, sandbox="")
    assert unset.startswith("SANDBOX MODE: no store credentials (BIGCOMMERCE_* / THREEDCART_*) are set")
