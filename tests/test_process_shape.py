"""Several web workers are a supported shape only with REDIS_URL, and never in sandbox mode —
checked with a real gunicorn (its master refuses before any worker starts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.config import ConfigError, load_settings
from bot.processes import check_process_shape
from bot.sandbox.threedcart import SandboxStore

try:
    from bot_processes import BotProcess, clean_env
    from slack_helpers import BOT_TOKEN, SIGNING_SECRET
except ImportError:  # pragma: no cover
    from tests.bot_processes import BotProcess, clean_env
    from tests.slack_helpers import BOT_TOKEN, SIGNING_SECRET


def settings(**overrides: Any):  # noqa: ANN201
    base = {"threedcart_secure_url": None, "threedcart_private_key": None, "threedcart_token": None,
            "redis_url": None}
    return load_settings(**{**base, **overrides})


def real_store(**overrides: Any):  # noqa: ANN201
    return settings(threedcart_secure_url="s.example", threedcart_private_key="k", threedcart_token="t", **overrides)


def test_one_worker_needs_nothing_shared() -> None:
    check_process_shape(settings(), 1)
    check_process_shape(real_store(), 1)


def test_several_workers_without_redis_are_refused_with_the_reason() -> None:
    with pytest.raises(ConfigError) as refused:
        check_process_shape(real_store(), 3)
    message = str(refused.value)
    assert "REDIS_URL" in message and "3 web workers" in message and "twice" in message


def test_several_workers_with_redis_are_fine() -> None:
    check_process_shape(real_store(redis_url="redis://127.0.0.1:6379/0"), 4)


def test_several_workers_in_sandbox_mode_are_refused_even_with_redis() -> None:
    with pytest.raises(ConfigError) as refused:
        check_process_shape(settings(redis_url="redis://127.0.0.1:6379/0"), 2)
    assert "sandbox" in str(refused.value) and "python -m bot sandbox" in str(refused.value)


# ---------------------------------------------------------------------- a real gunicorn


@pytest.fixture
def store() -> SandboxStore:
    with SandboxStore(port=0) as sandbox:
        yield sandbox


def env_for(tmp_path: Path, store: SandboxStore | None, **extra: Any) -> dict[str, str]:
    credentials = store.credentials() if store is not None else {}
    return clean_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, DATA_DIR=tmp_path / "data",
                     SLACK_API_URL="http://127.0.0.1:9/api/", **credentials, **extra)


def test_gunicorn_with_two_workers_and_no_redis_refuses_to_start(tmp_path: Path, store: SandboxStore) -> None:
    bot = BotProcess.gunicorn(env_for(tmp_path, store), tmp_path / "log", "--workers", "2")
    try:
        assert bot.wait_exit() != 0
        assert "2 web workers need REDIS_URL" in bot.log
        assert "Booting worker" not in bot.log  # refused in the master, before any worker
    finally:
        bot.stop()


def test_web_concurrency_counts_as_workers(tmp_path: Path, store: SandboxStore) -> None:
    bot = BotProcess.gunicorn(env_for(tmp_path, store, WEB_CONCURRENCY=3), tmp_path / "log")
    try:
        assert bot.wait_exit() != 0
        assert "3 web workers need REDIS_URL" in bot.log
    finally:
        bot.stop()


def test_the_projects_gunicorn_conf_applies_without_a_config_flag(tmp_path: Path, store: SandboxStore) -> None:
    """gunicorn reads ./gunicorn.conf.py from the project folder by itself."""
    bot = BotProcess.gunicorn(env_for(tmp_path, store), tmp_path / "log", "--workers", "2", config=False)
    try:
        assert bot.wait_exit() != 0
        assert "2 web workers need REDIS_URL" in bot.log
    finally:
        bot.stop()


def test_gunicorn_with_two_workers_in_sandbox_mode_refuses_to_start(tmp_path: Path) -> None:
    bot = BotProcess.gunicorn(env_for(tmp_path, None), tmp_path / "log", "--workers", "2")
    try:
        assert bot.wait_exit() != 0
        assert "sandbox mode would each run their own demo store" in bot.log
    finally:
        bot.stop()


def test_gunicorn_with_one_worker_starts_without_redis(tmp_path: Path, store: SandboxStore) -> None:
    """The positive control: the same command with one worker serves."""
    bot = BotProcess.gunicorn(env_for(tmp_path, store), tmp_path / "log", "--workers", "1")
    try:
        bot.wait_healthy()
    finally:
        bot.stop()


def test_gunicorn_with_two_workers_and_redis_starts(tmp_path: Path, store: SandboxStore, redis_url: str,
                                                     redis_prefix: str) -> None:
    bot = BotProcess.gunicorn(env_for(tmp_path, store, REDIS_URL=redis_url, REDIS_KEY_PREFIX=redis_prefix),
                              tmp_path / "log", "--workers", "2")
    try:
        bot.wait_healthy()
        assert bot.log.count("Booting worker") == 2
    finally:
        bot.stop()
        from bot.state.shared import connect_redis
        connect_redis(redis_url, prefix=redis_prefix).delete_prefixed()
