"""Settings, read once from `PARLEY_*` environment variables (or a `.env` file)."""

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")
# Only good enough for a laptop; `parley serve` refuses it outside development.
DEVELOPMENT_SECRET_KEY = "parley-development-secret-key-change-me"
# A placeholder (`.invalid` can never resolve): production must name a base it controls.
DEVELOPMENT_FHIR_CANONICAL_URL = "https://parley.invalid/fhir"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARLEY_", env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = "development"
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'parley.db'}"
    database_echo: bool = False
    fhir_url: str = "embedded"
    fhir_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    fhir_read_timeout_seconds: float = Field(default=10.0, gt=0)
    # Where Parley's identifier systems, extensions, code systems and profiles live: an
    # absolute http(s) URL the deployer controls (see fhir/conformance/).
    fhir_canonical_url: str = DEVELOPMENT_FHIR_CANONICAL_URL
    secret_key: SecretStr = SecretStr(DEVELOPMENT_SECRET_KEY)
    # argon2id cost, OWASP's recommended minimum: 19 MiB, 2 passes, 1 lane.
    password_hash_memory_kib: int = Field(default=19_456, ge=8_192)
    password_hash_iterations: int = Field(default=2, ge=1)
    password_hash_parallelism: int = Field(default=1, ge=1)
    access_token_minutes: int = Field(default=15, ge=1, le=60)
    refresh_token_days: int = Field(default=14, ge=1, le=90)
    # A browser's sign-in lasts this long, however active (the web pages use a cookie).
    browser_session_hours: int = Field(default=12, ge=1, le=24 * 14)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    # Failed logins and TOTP codes allowed per window before answering 429: per account from
    # one address (a stranger locks out only their own address), per address across
    # accounts, and a ceiling per account from everywhere (NIST SP 800-63B: at most 100).
    login_failures_per_account_and_address: int = Field(default=10, ge=1)
    login_failures_per_address: int = Field(default=100, ge=1)
    login_failures_per_account: int = Field(default=100, ge=100)
    login_throttle_window_seconds: int = Field(default=900, ge=1)
    # Throttling counters live in memory (one process) unless Redis is given.
    redis_url: str | None = None
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # Images and voice notes are decoded in worker processes: how many at once, the memory
    # each may use, and how long one file may take.
    media_workers: int = Field(default=2, ge=1, le=32)
    media_memory_mib: int = Field(default=2048, ge=512)
    media_seconds: float = Field(default=20.0, gt=0)
    # Seconds between keep-alive comments on an event stream.
    events_ping_seconds: float = Field(default=15.0, gt=0)
    # Largest JSON body accepted; uploads get the attachment limit instead.
    json_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    json_max_depth: int = Field(default=32, ge=4)
    # Addresses (or networks) of reverse proxies whose X-Forwarded-For is believed; none by
    # default, so a client cannot choose the address that throttling and the audit log see.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Origins allowed to call the API from a browser (CORS); none by default.
    cors_origins: list[str] = Field(default_factory=list)
    metrics_enabled: bool = False
    # Project FHIR resources that have no SQL row yet, every so many seconds (0: never).
    reconcile_seconds: float = Field(default=0, ge=0)
    # How often overdue conversations (and, later, pending notifications) are looked for.
    notify_seconds: float = Field(default=30, gt=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"

    @field_validator("database_url")
    @classmethod
    def _use_async_drivers(cls, url: str) -> str:
        """Accept the plain URLs people paste and pick the async driver we ship."""
        for plain, driver in (
            ("sqlite://", "sqlite+aiosqlite://"),
            ("postgresql://", "postgresql+psycopg://"),
            ("postgres://", "postgresql+psycopg://"),
        ):
            if url.startswith(plain):
                return driver + url.removeprefix(plain)
        return url

    @field_validator("fhir_canonical_url")
    @classmethod
    def _absolute_http_url(cls, url: str) -> str:
        parsed = urlsplit(url.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query:
            raise ValueError(
                "must be an absolute http(s) URL with no query, like https://fhir.example.org/parley"
            )
        if parsed.fragment:
            raise ValueError("must have no #fragment")
        return url.strip().rstrip("/")

    @property
    def uses_development_canonical_url(self) -> bool:
        return self.fhir_canonical_url == DEVELOPMENT_FHIR_CANONICAL_URL

    @property
    def uses_development_secret(self) -> bool:
        return self.secret_key.get_secret_value() == DEVELOPMENT_SECRET_KEY


@lru_cache
def get_settings() -> Settings:
    return Settings()
