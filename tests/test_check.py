"""``python -m bot check``: one OK/PROBLEM line per check, exit 0 or 1 (issue 11, item 11)."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from bot.check import CHECKS, main
from bot.sandbox.threedcart import SandboxStore

try:
    from fake_slack import FakeSlack
    from slack_helpers import BOT_TOKEN
except ImportError:  # pragma: no cover - imported as the tests package
    from tests.fake_slack import FakeSlack
    from tests.slack_helpers import BOT_TOKEN

NAMES = [c.name for c in CHECKS]


@pytest.fixture
def env(monkeypatch, tmp_path, sandbox: SandboxStore):
    with FakeSlack() as fake:
        values = {**sandbox.credentials(), "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": fake.api_url,
                  "DATA_DIR": str(tmp_path / "data")}
        for name in ("DATABASE_URL", "REDIS_URL", "SLACK_SIGNING_SECRET", "BOT_ADMINS", "STORE_TIMEOUT_SECONDS"):
            monkeypatch.delenv(name, raising=False)
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)
        yield values, fake


def check() -> tuple[int, dict[str, str]]:
    out = io.StringIO()
    code = main([], out)
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == NAMES  # one line per check, in order
    return code, {line.split()[1]: line for line in lines}


def test_everything_ok_is_exit_0_with_one_store_request(env, sandbox: SandboxStore) -> None:
    _, fake = env
    code, lines = check()
    assert code == 0, lines
    assert all(line.startswith("OK") for line in lines.values())
    assert sandbox.request_count() == 1  # the store is reached once, with the credentials
    assert [c.method for c in fake.calls()] == ["auth.test"]


def test_wrong_store_credentials_are_a_problem_line_and_exit_1(env, monkeypatch, sandbox: SandboxStore) -> None:
    monkeypatch.setenv("THREEDCART_TOKEN", "wrong-token-SEKRET")
    code, lines = check()
    assert code == 1
    assert lines["store"].startswith("PROBLEM") and "THREEDCART_TOKEN" in lines["store"]
    assert lines["slack"].startswith("OK")
    assert "SEKRET" not in "\n".join(lines.values())


def test_a_wrong_api_url_and_a_bad_slack_token_are_named(env, monkeypatch, sandbox: SandboxStore) -> None:
    monkeypatch.setenv("THREEDCART_API_URL", sandbox.url.replace("/v1/", "/v2/"))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-wrong")
    code, lines = check()
    assert code == 1
    assert "THREEDCART_API_URL" in lines["store"] and "SLACK_BOT_TOKEN" in lines["slack"]


def test_invalid_settings_still_print_every_line(env, monkeypatch) -> None:
    monkeypatch.setenv("UNDO_MINUTES", "inf")
    code, lines = check()
    assert code == 1
    assert "UNDO_MINUTES" in lines["settings"]
    assert all(line.startswith("PROBLEM") for line in lines.values())


def test_the_command_line_exit_code(env, tmp_path) -> None:
    values, _ = env
    blocked = tmp_path / "file"
    blocked.write_text("x")
    run = subprocess.run([sys.executable, "-m", "bot", "check"], capture_output=True, text=True, timeout=60,
                         env={**values, "PATH": "/usr/bin:/bin", "DATA_DIR": str(blocked / "data")}, cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "DATA_DIR" in run.stdout and "Traceback" not in run.stdout + run.stderr
    assert len(run.stdout.strip().splitlines()) == len(NAMES)


# ------------------------------------------------------------------------------ BigCommerce and sandbox rules


@pytest.fixture
def bc_env(env, monkeypatch, bc_sandbox):
    """The env fixture, with the BigCommerce sandbox's credentials instead of 3dcart's."""
    values, fake = env
    for name in ("THREEDCART_SECURE_URL", "THREEDCART_PRIVATE_KEY", "THREEDCART_TOKEN", "THREEDCART_API_URL",
                 "SANDBOX", "STORE_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    for name, value in bc_sandbox.credentials().items():
        monkeypatch.setenv(name, value)
    yield values, fake


def test_bigcommerce_credentials_reach_the_bigcommerce_store(bc_env, bc_sandbox, sandbox: SandboxStore) -> None:
    code, lines = check()
    assert code == 0, lines
    assert "BigCommerce" in lines["store"] and "customer groups" in lines["store"]
    assert "bigcommerce store" in lines["settings"].lower()
    assert bc_sandbox.request_count() == 1 and sandbox.request_count() == 0


def test_a_wrong_bigcommerce_token_is_a_problem_naming_it(bc_env, monkeypatch) -> None:
    monkeypatch.setenv("BIGCOMMERCE_ACCESS_TOKEN", "wrong-SEKRET")
    code, lines = check()
    assert code == 1
    assert lines["store"].startswith("PROBLEM") and "BIGCOMMERCE_ACCESS_TOKEN" in lines["store"]
    assert "SEKRET" not in "\n".join(lines.values())


def no_store(monkeypatch) -> None:
    for name in ("THREEDCART_SECURE_URL", "THREEDCART_PRIVATE_KEY", "THREEDCART_TOKEN",
                 "BIGCOMMERCE_STORE_HASH", "BIGCOMMERCE_ACCESS_TOKEN", "BIGCOMMERCE_API_URL", "SANDBOX", "STORE_BACKEND"):
        monkeypatch.delenv(name, raising=False)


def test_no_credentials_and_no_sandbox_is_the_problem_serve_refuses(env, monkeypatch) -> None:
    no_store(monkeypatch)
    code, lines = check()
    assert code == 1
    assert lines["store"].startswith("PROBLEM")
    assert "THREEDCART_TOKEN" in lines["store"] and "BIGCOMMERCE_ACCESS_TOKEN" in lines["store"]
    assert "SANDBOX" in lines["store"]
    monkeypatch.setenv("SANDBOX", "threedcart")  # positive control: saying so is fine
    code, lines = check()
    assert code == 0, lines
    assert "SANDBOX=threedcart" in lines["store"] and "3dcart demo sandbox" in lines["store"]


def test_the_bigcommerce_sandbox_is_named_and_ignores_redis_and_database(env, monkeypatch, redis_url, pg_url) -> None:
    no_store(monkeypatch)
    monkeypatch.setenv("SANDBOX", "bigcommerce")
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("DATABASE_URL", pg_url)
    code, lines = check()
    assert code == 0, lines
    assert "BigCommerce demo sandbox" in lines["store"] and "THREEDCART" not in lines["store"]
    assert "ignored in sandbox mode" in lines["redis"] and "answers" not in lines["redis"]
    assert "ignored in sandbox mode" in lines["database"] and "answers" not in lines["database"]
    assert "SQLite database under DATA_DIR opens" in lines["state"]
    monkeypatch.delenv("SANDBOX")  # positive control: on a real store both are used
    for name, value in {**env[0]}.items():
        monkeypatch.setenv(name, value)
    code, lines = check()
    assert code == 0, lines
    assert lines["redis"].endswith("REDIS_URL answers") and "DATABASE_URL answers" in lines["database"]


def test_sandbox_chosen_with_credentials_set_says_so(env, monkeypatch, sandbox: SandboxStore) -> None:
    monkeypatch.setenv("SANDBOX", "threedcart")
    code, lines = check()
    assert code == 0, lines
    assert "SANDBOX=threedcart" in lines["store"] and "not used" in lines["store"]
    assert sandbox.request_count() == 0
