"""Settings: sandbox mode, partial credentials refused, secrets never shown."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from bot.config import ConfigError, Settings, load_settings
from bot.runtime import RedactSecrets

SECRET = "s3cr3t-TOKEN-value-42"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """Settings read the environment: start each test from an empty one, away from any .env."""
    for name in ("THREEDCART_SECURE_URL", "THREEDCART_PRIVATE_KEY", "THREEDCART_TOKEN", "THREEDCART_API_URL",
                 "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "BOT_ADMINS", "BOT_AGENTS",
                 "PORT", "CACHE_TTL_SECONDS", "DENY_GROUP_ID", "APPROVALS_CHANNEL", "AUDIT_CHANNEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_no_store_credentials_means_sandbox_mode():
    settings = load_settings()
    assert settings.sandbox_mode
    assert settings.threedcart_api_url == "https://apirest.3dcart.com/3dCartWebAPI/v1/"
    assert settings.cache_ttl_seconds == 60 and settings.deny_group_id == 0 and settings.port == 3000
    assert str(settings.data_dir) == "data"


def test_all_three_credentials_mean_real_store(monkeypatch):
    monkeypatch.setenv("THREEDCART_SECURE_URL", "https://mystore.3dcartstores.com")
    monkeypatch.setenv("THREEDCART_PRIVATE_KEY", "pk")
    monkeypatch.setenv("THREEDCART_TOKEN", SECRET)
    settings = load_settings()
    assert not settings.sandbox_mode
    assert settings.threedcart_token.get_secret_value() == SECRET


@pytest.mark.parametrize("given", [
    ("THREEDCART_TOKEN",),
    ("THREEDCART_TOKEN", "THREEDCART_PRIVATE_KEY"),
    ("THREEDCART_SECURE_URL",),
])
def test_partial_credentials_are_refused_naming_the_missing_ones(monkeypatch, given):
    for name in given:
        monkeypatch.setenv(name, SECRET)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    missing = {"THREEDCART_SECURE_URL", "THREEDCART_PRIVATE_KEY", "THREEDCART_TOKEN"} - set(given)
    assert all(name in message for name in missing)
    assert SECRET not in message


def test_blank_credentials_count_as_unset(monkeypatch):
    monkeypatch.setenv("THREEDCART_TOKEN", "   ")
    assert load_settings().sandbox_mode


def test_invalid_value_names_the_variable_not_the_value(monkeypatch):
    monkeypatch.setenv("PORT", "not-a-port-" + SECRET)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "PORT" in str(info.value)
    assert SECRET not in str(info.value)


def test_secrets_never_in_repr_or_str(monkeypatch):
    for name in ("THREEDCART_SECURE_URL", "THREEDCART_PRIVATE_KEY", "THREEDCART_TOKEN",
                 "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.setenv(name, SECRET + name)
    settings = load_settings()
    for text in (repr(settings), str(settings), str(settings.model_dump()), settings.model_dump_json()):
        assert SECRET not in text


def test_role_lists_parse_ids(monkeypatch):
    monkeypatch.setenv("BOT_ADMINS", "U1, U2,,")
    monkeypatch.setenv("BOT_AGENTS", "U3")
    settings = load_settings()
    assert settings.bot_admins == {"U1", "U2"} and settings.bot_agents == {"U3"}


def test_env_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("BOT_ADMINS=U9\nCACHE_TTL_SECONDS=5\n")
    settings = load_settings()
    assert settings.bot_admins == {"U9"} and settings.cache_ttl_seconds == 5


def test_require_names_missing_settings():
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        Settings(_env_file=None).require("SLACK_SIGNING_SECRET")


def test_redaction_filter_blanks_secret_values(caplog):
    logger = logging.getLogger("test.redact")
    redact = RedactSecrets([SECRET])
    logger.addFilter(redact)
    try:
        with caplog.at_level(logging.INFO, logger="test.redact"):
            logger.info("token is %s", SECRET)
    finally:
        logger.removeFilter(redact)
    assert SECRET not in caplog.text and "[redacted]" in caplog.text


def test_cli_refuses_partial_credentials_without_echoing(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "THREEDCART_TOKEN": SECRET, "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "bot", "poll", "--once"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "THREEDCART_SECURE_URL" in proc.stderr and SECRET not in proc.stdout + proc.stderr


@pytest.mark.parametrize(("name", "value"), [
    ("UNDO_MINUTES", "inf"), ("UNDO_MINUTES", "1e20"), ("POLL_SECONDS", "inf"), ("POLL_SECONDS", "nan"),
    ("STORE_TIMEOUT_SECONDS", "inf"), ("STORE_TIMEOUT_SECONDS", "0"), ("CACHE_TTL_SECONDS", "-1"),
    ("STORE_REQUESTS_PER_SECOND", "1e400"), ("STORE_BURST", "0"), ("LISTENER_THREADS", "100000"),
    ("PORT", "70000"), ("DENY_GROUP_ID", "-3"),
])
def test_every_number_is_finite_and_in_range(monkeypatch, name, value):
    """Reproducer: ``UNDO_MINUTES=inf`` / ``1e20`` crashed at start, ``POLL_SECONDS=inf`` killed
    the poller, ``STORE_TIMEOUT_SECONDS=inf`` failed every store call."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert name in message and "from" in message  # names the variable and the range it accepts
    assert value not in message.replace(name, "").replace(" from 0 ", " ").replace(" 0.1 ", " ") or value == "0"


def test_an_unusable_data_dir_is_one_line_naming_it(tmp_path):
    from bot.config import check_data_dir
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError) as caught:
        check_data_dir(blocker / "data")
    assert "DATA_DIR" in str(caught.value) and "\n" not in str(caught.value)
    check_data_dir(tmp_path / "fine")  # positive control: a usable one passes
    assert (tmp_path / "fine").is_dir()


def test_the_cli_names_an_unusable_data_dir_without_a_traceback(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    env = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(blocker / "data"), "SLACK_BOT_TOKEN": "xoxb-1", "SANDBOX": "threedcart",
           "SLACK_SIGNING_SECRET": "s", "HOME": str(tmp_path)}
    run = subprocess.run([sys.executable, "-m", "bot", "serve"], env=env, capture_output=True, text=True,
                         timeout=60, cwd=tmp_path)
    assert run.returncode == 2
    assert "DATA_DIR" in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
