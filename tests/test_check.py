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
