"""``python -m bot check``: is this configuration ready to run? One line per check, exit 0 or 1.

Checks are a table (``CHECKS``): each entry is a name and a function of the settings that
returns what it found (the OK line) or raises ``Problem`` (the problem line). Adding a check —
say, for a new state store — is one entry. A check never prints a secret: messages name
variables, and store / Slack errors are the already-scrubbed typed errors.

* ``settings`` — every setting valid; ``DATA_DIR`` writable.
* ``store``    — one request to the store the settings choose (3dcart or BigCommerce, built by
  ``bot.store.registry``) with its credentials (the group count); in sandbox mode it says why
  (``SANDBOX``, or no credentials) instead, and without credentials or ``SANDBOX`` it is the
  problem ``serve`` would refuse to start with.
* ``slack``    — Slack's ``auth.test`` with ``SLACK_BOT_TOKEN``.
* ``state``    — the SQLite database under ``DATA_DIR`` opens and answers.
* ``database`` / ``redis`` — ``DATABASE_URL`` / ``REDIS_URL`` answer, when they are set; in
  sandbox mode the runtime ignores both (the demo's state is its own), and so do these lines.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from .config import ConfigError, Settings, check_data_dir, load_settings


class Problem(Exception):
    """What a check found wrong, as one line (names variables, never values)."""


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[Settings], str]


def check_settings(settings: Settings) -> str:
    check_data_dir(settings.data_dir)
    label = _store_label(settings)
    mode = f"sandbox ({label} demo store)" if settings.sandbox_mode else f"{label} store"
    return f"valid; DATA_DIR writable; {mode}"


def _store_label(settings: Settings) -> str:
    from .store.registry import factory

    return factory(settings.backend).label


def _credential_names(settings: Settings) -> str:
    from .config import BACKEND_CREDENTIALS

    return BACKEND_CREDENTIALS[settings.backend][0].split("_")[0] + "_*"


def check_store(settings: Settings) -> str:
    from .console.main import safe_url
    from .store.errors import StoreError
    from .store.registry import factory

    chosen = factory(settings.backend)
    if settings.sandbox_mode:
        settings.require_store()  # what `serve` refuses: no credentials and no SANDBOX
        if settings.sandbox is not None:
            why = f"SANDBOX={settings.sandbox}"
            if any(v is not None for v in settings._store_credentials().values()):
                why += " (the store credentials that are set are not used)"
        else:
            why = f"no {_credential_names(settings)} credentials"
        return f"{why}: the bot runs on the embedded {chosen.label} demo sandbox (no real store)"
    client = chosen.client(settings, None)
    try:
        groups = client.count_groups()
    except StoreError as exc:
        raise Problem(exc.message) from None
    finally:
        client.close()
    return f"reached {chosen.label} at {safe_url(chosen.api_url(settings))} with the credentials ({groups} customer groups)"


def check_slack(settings: Settings) -> str:
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError, SlackClientError

    token = settings.secret(settings.slack_bot_token)
    if not token:
        raise Problem("SLACK_BOT_TOKEN is not set")
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    try:
        answer = WebClient(token=token, base_url=base_url, timeout=10).auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "error") if exc.response is not None else "error"
        raise Problem(f"Slack refused SLACK_BOT_TOKEN (auth.test: {error})") from None
    except (SlackClientError, OSError) as exc:
        raise Problem(f"could not reach Slack at SLACK_API_URL ({type(exc).__name__})") from None
    return f"auth.test ok: bot {answer.get('user', '?')} in {answer.get('team', '?')}"


def _open_state(settings: Settings, url: str | None) -> str:
    """Open the state database without migrating it; say which schema revision it is at."""
    from .state.engine import Database
    from .state.migrate import current, head

    db = Database(settings.data_dir, url=url, migrate=False)
    try:
        revision = current(db)
    finally:
        db.close()
    latest = head()
    if revision == latest:
        return f"schema up to date ({revision})"
    return f"schema at {revision or 'none'}; the next start upgrades it to {latest}"


IGNORED = "set but ignored in sandbox mode (the demo's state is its own)"


def _state_url(settings: Settings, name: str) -> str | None:
    """``DATABASE_URL`` / ``REDIS_URL`` as the runtime uses them: never in sandbox mode."""
    return None if settings.sandbox_mode else _optional_secret(settings, name)


def check_state(settings: Settings) -> str:
    if _state_url(settings, "database_url"):
        return "state is in DATABASE_URL (see the database line); DATA_DIR holds only the console log"
    try:
        return "SQLite database under DATA_DIR opens; " + _open_state(settings, None)
    except Exception as exc:  # noqa: BLE001 — any failure is the one line
        raise Problem(f"the SQLite database under DATA_DIR does not open ({type(exc).__name__})") from None


def check_database(settings: Settings) -> str:
    url = _state_url(settings, "database_url")
    if not url:
        if _optional_secret(settings, "database_url"):
            return f"DATABASE_URL {IGNORED}: SQLite under DATA_DIR is used"
        return "DATABASE_URL not set (SQLite under DATA_DIR is used)"
    try:
        return "DATABASE_URL answers; " + _open_state(settings, url)
    except Exception as exc:  # noqa: BLE001 — the message may quote the URL: name the variable only
        raise Problem(f"DATABASE_URL does not answer ({type(exc).__name__})") from None


def check_redis(settings: Settings) -> str:
    url = _state_url(settings, "redis_url")
    if not url:
        if _optional_secret(settings, "redis_url"):
            return f"REDIS_URL {IGNORED}: cache and locks are per process"
        return "REDIS_URL not set (cache and locks are per process)"
    from .state.shared import connect_redis

    try:
        shared = connect_redis(url, prefix=settings.redis_key_prefix, ssl_cert_reqs=settings.redis_ssl_cert_reqs,
                               ssl_ca_certs=settings.redis_ssl_ca_certs, timeout=5)
    except ValueError:
        raise Problem("REDIS_URL is not a redis://, rediss:// or unix:// URL") from None
    try:
        if not shared.ping():
            raise Problem("REDIS_URL does not answer")
    finally:
        shared.close()
    return "REDIS_URL answers"


def _optional_secret(settings: Settings, name: str) -> str | None:
    """A setting another part of the bot may define (plain or SecretStr); None when absent."""
    value = getattr(settings, name, None)
    if value is None:
        return None
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    return str(value).strip() or None


CHECKS: tuple[Check, ...] = (
    Check("settings", check_settings),
    Check("store", check_store),
    Check("slack", check_slack),
    Check("state", check_state),
    Check("database", check_database),
    Check("redis", check_redis),
)


def run(settings: Settings | None, out: TextIO, *, problem: str | None = None) -> int:
    """Run every check, print one line each; 0 when all are OK, else 1."""
    width = max(len(c.name) for c in CHECKS)
    failed = False
    for check in CHECKS:
        if settings is None:
            ok, line = False, (problem or "settings did not load") if check.name == "settings" else "skipped (settings)"
        else:
            try:
                ok, line = True, check.run(settings)
            except (Problem, ConfigError) as exc:
                ok, line = False, str(exc)
            except Exception as exc:  # noqa: BLE001 — a check must never end in a traceback
                ok, line = False, f"unexpected {type(exc).__name__}"
        failed = failed or not ok
        print(f"{'OK     ' if ok else 'PROBLEM'}  {check.name.ljust(width)}  {line}", file=out)
    return 1 if failed else 0


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        settings = load_settings()
    except ConfigError as exc:
        return run(None, out, problem=str(exc))
    return run(settings, out)


__all__ = ["CHECKS", "Check", "Problem", "main", "run"]
