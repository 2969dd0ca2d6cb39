"""Typed settings read once from ``ENGAGEMENT_*`` variables; nothing else reads the environment."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SECRET_FILE = "secret_key"  # noqa: S105 -- a file name, not a secret
# The shortest delivery retention: engagement/services/delivery/retention.py says why.
MIN_RETENTION_DAYS = 14
MAX_RETENTION_DAYS = 36_500


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line that names it."""


# scheme -> (TLS, default port): plain, TLS from the first byte, or STARTTLS required.
SMTP_SCHEMES: dict[str, tuple[Literal["none", "implicit", "starttls"], int]] = {
    "smtp": ("none", 25),
    "smtps": ("implicit", 465),
    "smtp+starttls": ("starttls", 587),
}


@dataclass(frozen=True)
class SmtpTarget:
    """The SMTP relay named by ``ENGAGEMENT_SMTP_URL``, taken apart."""

    tls: Literal["none", "implicit", "starttls"]
    host: str
    port: int
    username: str | None
    password: str | None


class Settings(BaseSettings):
    """Everything an engagement process needs to know, frozen once built.

    ``mode`` is ``embedded`` (SQLite, serverless broker, mail to a folder: try it, develop,
    small sites) or ``production`` (PostgreSQL, Redis, SMTP relay; the secret is required).
    """

    model_config = SettingsConfigDict(env_prefix="ENGAGEMENT_", frozen=True, extra="ignore")

    mode: Literal["embedded", "production"] = "embedded"
    data_dir: Path = Path("data")
    database_url: str = ""
    broker_url: str = ""
    smtp_url: str = ""
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    mail_from: str = "engagement@localhost"
    bounce_domain: str = ""
    notify_window_seconds: int = Field(default=120, ge=0, le=86_400)
    thread_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    rate_limits_enabled: bool = True
    rate_limit_storage_url: str = ""
    comment_rate_limit: str = "5/minute;40/hour"
    subscribe_rate_limit: str = "5/minute;20/day"
    preview_rate_limit: str = "30/minute;300/hour"
    report_rate_limit: str = "10/minute;50/day"
    signin_rate_limit: str = "5/minute;30/hour"
    smtp_rate_per_second: float = Field(default=50.0, gt=0)
    # A mail that failed for a passing reason is tried again after this delay, doubled at
    # each attempt (with jitter), until the attempts run out and it stays failed.
    delivery_retry_seconds: float = Field(default=60.0, gt=0, le=86_400)
    delivery_max_attempts: int = Field(default=8, ge=1, le=50)
    # A mail claimed for sending longer ago than this is presumed abandoned by a dead worker
    # (a batch of 200 at the default rate takes 4 s, and a batch still sending renews it).
    delivery_lease_seconds: float = Field(default=60.0, ge=1, le=86_400)
    # Finished deliveries (and the notification items they sent) older than this are pruned
    # daily; 0 keeps them forever.
    delivery_retention_days: int = Field(default=90, ge=0, le=MAX_RETENTION_DAYS)
    # At most this many mails reach one address in 24 hours (confirmations aside); the rest
    # are skipped as "rate_limited" (engagement/services/delivery/recipient_cap.py); 0: no cap.
    max_mails_per_recipient_per_day: int = Field(default=100, ge=0)
    # Webhooks (engagement/services/webhooks/): loopback and private addresses are refused
    # unless this development switch is on; attempts per delivery (backoff from the retry
    # delay); deliveries failed in a row that disable an endpoint; requests in flight per batch.
    webhooks_allow_private: bool = False
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)
    webhook_retry_seconds: float = Field(default=30.0, gt=0, le=86_400)
    webhook_disable_after: int = Field(default=20, ge=1, le=10_000)
    webhook_concurrency: int = Field(default=8, ge=1, le=64)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # auto: JSON lines in production mode away from a terminal, key=value otherwise.
    log_format: Literal["auto", "json", "console"] = "auto"
    # Bearer token that /metrics (and a worker's --metrics-port) ask for; empty: open.
    metrics_token: str = ""
    # A publisher's own mail templates: DIR/emails/<name>/… for every site, DIR/emails/<site>/<name>/…
    # for one; they win over the shipped ones (engagement/mail/templates.py).
    templates_dir: Path | None = None
    # Live threads: the open streams one web process holds (past it: 503 with Retry-After, and
    # the widget polls), and the Redis channel that carries their notices between processes
    # (installations sharing one Redis each take their own).
    stream_max_connections: int = Field(default=10_000, ge=1, le=1_000_000)
    stream_channel: str = Field(default="engagement:live", min_length=1, max_length=200)

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL such as https://comments.example.org")
        return value.rstrip("/")

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in (*SMTP_SCHEMES, "file"):
            raise ValueError("must look like smtp://user:pass@host:port, smtps://… or smtp+starttls://…")
        if parts.scheme != "file":
            try:
                port = parts.port
            except ValueError:
                port = -1
            if not parts.hostname or port == -1:
                raise ValueError(
                    "needs a host and an optional port, such as smtp+starttls://user:pass@host:587"
                )
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value:
            return value
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            backend = ""
        if backend not in ("sqlite", "postgresql"):
            raise ValueError("must be a postgresql://user:pass@host/db or sqlite:///path URL")
        return value

    @field_validator("delivery_retention_days")
    @classmethod
    def _check_retention(cls, value: int) -> int:
        if 0 < value < MIN_RETENTION_DAYS:
            raise ValueError(f"must be 0 (keep forever) or at least {MIN_RETENTION_DAYS} days")
        return value

    @field_validator("templates_dir", mode="before")
    @classmethod
    def _check_templates_dir(cls, value: object) -> object:
        if value in ("", None):
            return None
        if not (Path(str(value)) / "emails").is_dir():
            raise ValueError(f"{value} holds no emails/ folder of templates")
        return value

    @field_validator("broker_url")
    @classmethod
    def _check_broker_url(cls, value: str) -> str:
        if value and "://" not in value:
            raise ValueError("must be a URL such as redis://host:6379/0")
        return value

    @field_validator(
        "comment_rate_limit",
        "subscribe_rate_limit",
        "preview_rate_limit",
        "report_rate_limit",
        "signin_rate_limit",
    )
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit such as '5/minute;40/hour' ({exc})") from None
        return value

    @model_validator(mode="after")
    def _check_production(self) -> Settings:
        if self.mode == "production":
            for name in ("secret_key", "database_url", "broker_url", "smtp_url"):
                if not getattr(self, name):
                    raise ValueError(f"ENGAGEMENT_{name.upper()} is required in production mode")
            if len(self.secret_key) < 32:
                raise ValueError("ENGAGEMENT_SECRET_KEY must be at least 32 characters")
        return self

    @property
    def embedded(self) -> bool:
        return self.mode == "embedded"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'engagement.db').resolve()}"

    @property
    def resolved_broker_url(self) -> str:
        return self.broker_url or "filesystem://"

    @property
    def mail_dir(self) -> Path:
        """Where the embedded mode writes mail instead of sending it."""
        return self.data_dir / "mail"

    @property
    def resolved_smtp_url(self) -> str:
        return self.smtp_url or f"file://{self.mail_dir.resolve()}"

    @property
    def smtp(self) -> SmtpTarget | None:
        """The SMTP relay to send through; None when mail is written to a folder (``file://``)."""
        parts = urlsplit(self.resolved_smtp_url)
        if parts.scheme not in SMTP_SCHEMES:
            return None
        tls, default_port = SMTP_SCHEMES[parts.scheme]
        return SmtpTarget(
            tls=tls,
            host=parts.hostname or "",
            port=parts.port or default_port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    @property
    def live_redis_url(self) -> str | None:
        """Where live notices cross processes: the Redis broker; None keeps them in the process."""
        broker = self.resolved_broker_url
        return broker if broker.startswith(("redis://", "rediss://")) else None

    @property
    def resolved_rate_limit_storage_url(self) -> str:
        if self.rate_limit_storage_url:
            return self.rate_limit_storage_url
        if self.resolved_broker_url.startswith(("redis://", "rediss://")):
            return self.resolved_broker_url
        return "memory://"


def _embedded_secret(data_dir: Path) -> str:
    """Generate the embedded mode's secret once and keep it in the data folder."""
    path = data_dir / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def _one_line(exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = first.get("loc") or ()
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if not loc:  # a rule across settings: its message names them
        return f"invalid settings: {message}"
    return f"invalid setting ENGAGEMENT_{str(loc[0]).upper()}: {message}"


def load_settings(**overrides: object) -> Settings:
    """Build the settings from the environment (and ``overrides``), or raise ConfigError."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None
    if not settings.secret_key:
        secret = _embedded_secret(settings.data_dir)
        settings = settings.model_copy(update={"secret_key": secret})
    return settings
