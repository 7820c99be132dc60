"""Typed settings read from the environment, with safe local defaults."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"expected true or false, got {value!r}")


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc


def _secret_key(var_dir: Path) -> str:
    """The SECRET_KEY variable, or a key generated once and kept under var/ for local use."""
    configured = os.environ.get("SECRET_KEY", "").strip()
    if configured:
        return configured
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Written with 0600 so other local users cannot forge sessions.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment. Build with `Settings.from_env()`."""

    database_url: str
    secret_key: str
    environment: str = "development"  # development | test | production
    var_dir: Path = DEFAULT_VAR_DIR
    redis_url: str | None = None
    cookie_secure: bool = False
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    max_request_bytes: int = 2 * 1024 * 1024
    max_upload_bytes: int = 200 * 1024 * 1024
    upload_dir: Path = field(default=DEFAULT_VAR_DIR / "uploads")
    sign_in_failure_limit: int = 10
    sign_in_lockout_minutes: int = 15
    log_level: str = "INFO"
    smtp_url: str | None = None
    mail_from: str = "marketplace@hhs.gov"
    public_base_url: str = "http://127.0.0.1:8000"
    reuse_sla_business_days: int = 10  # a reuse decision is due this many business days on

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls) -> Settings:
        """Read settings from the environment (documented in the README)."""
        environment = os.environ.get("MARKETPLACE_ENV", "development").strip() or "development"
        if environment not in {"development", "test", "production"}:
            raise SettingsError(
                f"MARKETPLACE_ENV must be development, test or production, got {environment!r}"
            )
        var_dir = Path(os.environ.get("MARKETPLACE_VAR_DIR", str(DEFAULT_VAR_DIR)))
        database_url = os.environ.get("DATABASE_URL", "").strip() or default_database_url(var_dir)
        if environment == "production" and not os.environ.get("SECRET_KEY"):
            raise SettingsError("SECRET_KEY must be set when MARKETPLACE_ENV=production")
        return cls(
            database_url=normalise_database_url(database_url),
            secret_key=_secret_key(var_dir),
            environment=environment,
            var_dir=var_dir,
            redis_url=os.environ.get("REDIS_URL") or None,
            cookie_secure=_flag(
                os.environ.get("SESSION_COOKIE_SECURE"), environment == "production"
            ),
            session_idle_minutes=_int("SESSION_IDLE_MINUTES", 30),
            session_absolute_hours=_int("SESSION_ABSOLUTE_HOURS", 12),
            max_request_bytes=_int("MAX_REQUEST_BYTES", 2 * 1024 * 1024),
            max_upload_bytes=_int("MAX_UPLOAD_BYTES", 200 * 1024 * 1024),
            upload_dir=Path(os.environ.get("UPLOAD_DIR", str(var_dir / "uploads"))),
            log_level=os.environ.get("LOG_LEVEL", "INFO").upper(),
            smtp_url=os.environ.get("SMTP_URL") or None,
            mail_from=os.environ.get("MAIL_FROM", "marketplace@hhs.gov"),
            public_base_url=os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            reuse_sla_business_days=_int("REUSE_SLA_BUSINESS_DAYS", 10),
        )


def default_database_url(var_dir: Path) -> str:
    return f"sqlite:///{var_dir / 'marketplace.db'}"


def normalise_database_url(url: str) -> str:
    """Accept the common `postgres://` and `postgresql://` spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
