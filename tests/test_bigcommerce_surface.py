"""A new user with only BigCommerce credentials: the console runs every help row the store
supports against a BigCommerce store (the BigCommerce sandbox, reached as a real store through
BIGCOMMERCE_API_URL), and says plainly what the store does not have."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from bot.console import main

pytestmark = pytest.mark.timeout(60)

JANE, DAVE = 1, 4
OTHER_STORE_VARS = ("THREEDCART_SECURE_URL", "THREEDCART_PRIVATE_KEY", "THREEDCART_TOKEN", "STORE_BACKEND",
                    "SANDBOX", "DATA_DIR", "BOT_ADMINS", "BOT_AGENTS")


def test_console_with_only_bigcommerce_credentials(bc_sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    for name in OTHER_STORE_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BIGCOMMERCE_STORE_HASH", bc_sandbox.store_hash)
    monkeypatch.setenv("BIGCOMMERCE_ACCESS_TOKEN", bc_sandbox.access_token)
    monkeypatch.setenv("BIGCOMMERCE_API_URL", bc_sandbox.url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    script = "\n".join([
        "jane@example.com",
        "move jane@example.com to Wholesale",
        "groups",
        "members wholesale",
        "disable jane@example.com",
        "subscribe jane@example.com",
        "history jane@example.com",
        "delete dave@example.com",
        "1",
        "help",
    ]) + "\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(script))
    assert main(["--as", "admin", "--user", "UME", "--name", "me"]) == 0
    out = capsys.readouterr().out
    assert f"BigCommerce at {bc_sandbox.url} (the real store" in out
    assert bc_sandbox.access_token not in out
    assert "Moved Jane Doe from VIP to Wholesale" in out and bc_sandbox.customer(JANE)["customer_group_id"] == 2
    assert "Wholesale applicants (#5)" in out and "bob@example.com" in out
    assert "BigCommerce has no account enabled/disabled setting" in out
    assert "BigCommerce has no mailing list setting" in out
    assert "Deleted Dave Kim" in out and bc_sandbox.customer(DAVE) is None
    assert "Mailing list" not in out and "Account" not in out
    assert bc_sandbox.request_count("DELETE") == 1
    assert not [r for r in bc_sandbox.requests if r.method == "DELETE" and not r.path.endswith(f"/customers/{DAVE}.json")]
