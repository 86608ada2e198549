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
BIGCOMMERCE_CREDENTIALS = ("BIGCOMMERCE_STORE_HASH", "BIGCOMMERCE_ACCESS_TOKEN")
BACKEND_CREDENTIALS: dict[str, tuple[str, ...]] = {
    # STORE_BACKEND value: the settings that connect to that store
    "threedcart": STORE_CREDENTIALS,
    "bigcommerce": BIGCOMMERCE_CREDENTIALS,
}
BIGCOMMERCE_API_BASE = "https://api.bigcommerce.com/stores/{store_hash}/v2/"

SANDBOX_STORES: dict[str, str] = {
    # SANDBOX value: the embedded demo store it starts
    "threedcart": "threedcart",
    "bigcommerce": "bigcommerce",
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

    store_backend: str | None = None
    """``STORE_BACKEND``: threedcart | bigcommerce; unset = chosen from the credentials given."""
    bigcommerce_store_hash: str | None = None
    bigcommerce_access_token: SecretStr | None = None
    bigcommerce_api_url: str | None = None
    """Default: ``BIGCOMMERCE_API_BASE`` with the store hash filled in (see ``bigcommerce_url``)."""

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
    applicant_group: str | None = None
    """Approvals by group (any store): the group applicants join, name or id."""
    approved_group: str | None = None
    """Where Approve moves an applicant when APPLICANT_GROUP is set (name or id)."""
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
        "approvals_channel", "audit_channel", "applicant_group", "approved_group",
        "threedcart_secure_url", "threedcart_private_key", "threedcart_token",
        "slack_bot_token", "slack_signing_secret", "slack_app_token", "database_url", "redis_url",
        "redis_ssl_ca_certs", "bigcommerce_store_hash", "bigcommerce_access_token", "bigcommerce_api_url",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """``FOO=`` in a .env file means "not set", and stray spaces around values are dropped."""
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("store_backend", mode="before")
    @classmethod
    def _backend_name(cls, value: object) -> object:
        """``STORE_BACKEND``: a ``BACKEND_CREDENTIALS`` name, any case; empty means unset."""
        if value is None:
            return None
        text = str(value).strip().lower()
        if not text:
            return None
        if text not in BACKEND_CREDENTIALS:
            raise ValueError("unknown store backend")
        return text

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
        """True when the bot runs on an embedded demo store: ``SANDBOX`` is set, or the chosen
        store has no credentials."""
        return self.sandbox is not None or not self._any_set(BACKEND_CREDENTIALS[self.backend])

    def require_store(self) -> None:
        """Refuse to serve Slack on demo data by accident: without store credentials, ``SANDBOX``
        must say so. (The console starts on the demo store without asking.)"""
        if self.sandbox is None and not any(self._store_credentials().values()):
            raise ConfigError(
                "No store credentials: set " + ", ".join(STORE_CREDENTIALS) + " (3dcart) or "
                + ", ".join(BIGCOMMERCE_CREDENTIALS) + " (BigCommerce), or SANDBOX=threedcart "
                "(or SANDBOX=bigcommerce) to run on an embedded demo store (demo data, not real customers)."
            )

    @property
    def backend(self) -> str:
        """The store the bot talks to: the demo store ``SANDBOX`` names, else ``STORE_BACKEND``,
        else the one whose credentials are set, else threedcart. ``check_store_credentials`` has
        refused the ambiguous and partial cases already."""
        if self.sandbox is not None:
            return self.sandbox
        if self.store_backend:
            return self.store_backend
        given = [name for name, creds in BACKEND_CREDENTIALS.items() if self._any_set(creds)]
        return given[0] if len(given) == 1 else "threedcart"

    @property
    def bigcommerce_url(self) -> str:
        """``BIGCOMMERCE_API_URL``, or the v2 base of ``BIGCOMMERCE_STORE_HASH``."""
        if self.bigcommerce_api_url:
            return self.bigcommerce_api_url
        return BIGCOMMERCE_API_BASE.format(store_hash=(self.bigcommerce_store_hash or "").strip())

    def _store_credentials(self) -> dict[str, object]:
        return {
            "THREEDCART_SECURE_URL": self.threedcart_secure_url,
            "THREEDCART_PRIVATE_KEY": self.threedcart_private_key,
            "THREEDCART_TOKEN": self.threedcart_token,
            "BIGCOMMERCE_STORE_HASH": self.bigcommerce_store_hash,
            "BIGCOMMERCE_ACCESS_TOKEN": self.bigcommerce_access_token,
        }

    def _any_set(self, names: tuple[str, ...]) -> bool:
        given = self._store_credentials()
        return any(given[name] is not None for name in names)

    def check_store_credentials(self) -> None:
        """Each store's credentials all or none; one store's, or ``STORE_BACKEND`` naming which.

        Anything in between is refused, naming the variables (never their values)."""
        given = self._store_credentials()
        chosen = [self.store_backend] if self.store_backend else list(BACKEND_CREDENTIALS)
        for name in chosen:
            creds = BACKEND_CREDENTIALS[name]
            missing = [c for c in creds if given[c] is None]
            if missing and len(missing) < len(creds):
                prefix = creds[0].split("_")[0]
                raise ConfigError(
                    "Store credentials are incomplete: set " + ", ".join(missing)
                    + f" (or unset all {prefix}_* credentials and set SANDBOX={name} to run on the demo store)."
                )
        if self.store_backend and not self._any_set(BACKEND_CREDENTIALS[self.store_backend]) \
                and any(v is not None for v in given.values()):
            raise ConfigError(
                f"STORE_BACKEND={self.store_backend} but " + ", ".join(BACKEND_CREDENTIALS[self.store_backend])
                + " are not set (the credentials that are set belong to another store)."
            )
        both = [n for n, creds in BACKEND_CREDENTIALS.items() if self._any_set(creds)]
        if len(both) > 1 and not self.store_backend:
            raise ConfigError(
                "Credentials for more than one store are set (" + ", ".join(both) + "): set STORE_BACKEND="
                + " or STORE_BACKEND=".join(BACKEND_CREDENTIALS) + " to say which store the bot serves."
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
