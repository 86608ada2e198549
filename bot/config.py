"""Settings, read once from the environment (and an optional ``.env``) and passed down.

No other module reads ``os.environ``. Secrets are ``SecretStr``: their repr is ``'**********'``
and error messages name variables, never values.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

STORE_CREDENTIALS = ("THREEDCART_SECURE_URL", "THREEDCART_PRIVATE_KEY", "THREEDCART_TOKEN")

SANDBOX_STORES: dict[str, str] = {
    # SANDBOX value: the embedded demo store it starts
    "threedcart": "threedcart",
    "1": "threedcart",
    "true": "threedcart",
    "yes": "threedcart",
}
"""What ``SANDBOX`` may say (any case). One entry per embedded demo store, plus the yes-words."""


class ConfigError(Exception):
    """A setting is missing or malformed. The message names variables, never their values."""


def _id_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return [str(v).strip() for v in value if str(v).strip()]  # type: ignore[union-attr]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False,
        populate_by_name=True,
    )

    threedcart_api_url: str = "https://apirest.3dcart.com/3dCartWebAPI/v1/"
    threedcart_secure_url: SecretStr | None = None
    threedcart_private_key: SecretStr | None = None
    threedcart_token: SecretStr | None = None

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"

    # Kept as raw strings so pydantic-settings does not try to JSON-decode them.
    bot_admins_raw: str = Field(default="", alias="BOT_ADMINS")
    bot_agents_raw: str = Field(default="", alias="BOT_AGENTS")

    approvals_channel: str | None = None
    audit_channel: str | None = None
    deny_group_id: int = Field(default=0, ge=0, le=2**31 - 1)
    cache_ttl_seconds: float = Field(default=60.0, ge=0, le=86_400, allow_inf_nan=False)
    data_dir: Path = Path("./data")
    database_url: SecretStr | None = None
    settle_seconds: float = Field(default=120.0, ge=0)
    port: int = Field(default=3000, ge=1, le=65535)

    poll_seconds: float = Field(default=60.0, ge=0.1, le=86_400, allow_inf_nan=False)
    run_poller: bool = False
    undo_minutes: float = Field(default=15.0, ge=0, le=10_080, allow_inf_nan=False)
    store_timeout_seconds: float = Field(default=10.0, ge=0.1, le=300, allow_inf_nan=False)
    store_requests_per_second: float = Field(default=2.0, ge=0.01, le=1000, allow_inf_nan=False)
    store_burst: int = Field(default=40, ge=1, le=10_000)
    listener_threads: int = Field(default=32, ge=1, le=512)
    log_level: str = "INFO"
    sandbox: str | None = None
    """``SANDBOX``: the embedded demo store to run on (see ``SANDBOX_STORES``); unset = none."""

    @field_validator("sandbox", mode="before")
    @classmethod
    def _sandbox_name(cls, value: object) -> object:
        """``SANDBOX=1`` / ``true`` / ``yes`` mean ``threedcart``; empty means unset."""
        if value is None:
            return None
        text = str(value).strip().lower()
        if not text:
            return None
        if text not in SANDBOX_STORES:
            raise ValueError("unknown sandbox store")
        return SANDBOX_STORES[text]

    # Several processes or hosts (README: "Running several processes or hosts").
    redis_url: SecretStr | None = None
    redis_key_prefix: str = Field(default="customer-bot:", min_length=1)
    redis_ssl_cert_reqs: Literal["required", "optional", "none"] = "required"
    redis_ssl_ca_certs: str | None = None

    @field_validator(
        "approvals_channel", "audit_channel",
        "threedcart_secure_url", "threedcart_private_key", "threedcart_token",
        "slack_bot_token", "slack_signing_secret", "slack_app_token", "database_url", "redis_url",
        "redis_ssl_ca_certs", mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """``FOO=`` in a .env file means "not set", and stray spaces around values are dropped."""
        if isinstance(value, str):
            return value.strip() or None
        return value

    @staticmethod
    def secret(value: SecretStr | None) -> str | None:
        """The plain value of a secret setting, for the one place that sends it (a header, a token)."""
        return value.get_secret_value() if value is not None else None

    @property
    def bot_admins(self) -> frozenset[str]:
        return frozenset(_id_list(self.bot_admins_raw))

    @property
    def bot_agents(self) -> frozenset[str]:
        return frozenset(_id_list(self.bot_agents_raw))

    @property
    def sandbox_mode(self) -> bool:
        """True when the bot runs on the embedded demo store: ``SANDBOX`` is set, or no store
        credential is (``require_store`` keeps the Slack surfaces from doing the latter by accident)."""
        return self.sandbox is not None or not any(self._store_credentials().values())

    def require_store(self) -> None:
        """Refuse to serve Slack on demo data by accident: without store credentials, ``SANDBOX``
        must say so. (The console starts on the demo store without asking.)"""
        if self.sandbox is None and not any(self._store_credentials().values()):
            raise ConfigError(
                "No store credentials: set " + ", ".join(STORE_CREDENTIALS)
                + ", or SANDBOX=threedcart to run on the embedded demo store (demo data, not real customers)."
            )

    def _store_credentials(self) -> dict[str, SecretStr | None]:
        return {
            "THREEDCART_SECURE_URL": self.threedcart_secure_url,
            "THREEDCART_PRIVATE_KEY": self.threedcart_private_key,
            "THREEDCART_TOKEN": self.threedcart_token,
        }

    def check_store_credentials(self) -> None:
        """All three store credentials or none (sandbox). Anything in between is refused."""
        given = self._store_credentials()
        missing = [name for name, value in given.items() if value is None]
        if missing and len(missing) < len(given):
            raise ConfigError(
                "Store credentials are incomplete: set " + ", ".join(missing)
                + " (or unset all THREEDCART_* credentials and set SANDBOX=threedcart to run on the demo store)."
            )

    def require(self, *names: str) -> None:
        """Refuse to start without these settings (named by their environment variable)."""
        missing = [n for n in names if getattr(self, n.lower()) in (None, "")]
        if missing:
            raise ConfigError("Missing setting: " + ", ".join(missing))


def _expected(name: str) -> str:
    """What a numeric setting accepts, from its field constraints (for the error message)."""
    field = Settings.model_fields.get(name.lower())
    if field is None or field.annotation not in (int, float):
        return "check its format"
    low = high = None
    for rule in field.metadata:
        low = getattr(rule, "ge", None) if getattr(rule, "ge", None) is not None else low
        low = getattr(rule, "gt", None) if getattr(rule, "gt", None) is not None else low
        high = getattr(rule, "le", None) if getattr(rule, "le", None) is not None else high
    kind = "a whole number" if field.annotation is int else "a finite number"
    return f"expected {kind} from {low:g} to {high:g}" if low is not None and high is not None else f"expected {kind}"


def load_settings(**overrides: object) -> Settings:
    """Read settings; turn validation problems into a ``ConfigError`` that names variables only
    (and, for numbers, the range they accept — never the value given)."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        names = sorted({str(err["loc"][0]).upper() for err in exc.errors() if err.get("loc")})
        raise ConfigError("Invalid setting: " + "; ".join(f"{n} ({_expected(n)})" for n in names)) from None
    settings.check_store_credentials()
    return settings


def check_data_dir(path: Path) -> None:
    """``DATA_DIR`` must be a directory the bot can create and write: one clear line otherwise."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
        # a probe of this process's own: several processes share one DATA_DIR
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"DATA_DIR is not a writable directory ({reason.lower()}): set DATA_DIR to one the bot "
                          "can create and write.") from None
