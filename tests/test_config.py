"""Settings: defaults, every ENGAGEMENT_ variable, and one clear line for a wrong value."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from engagement.cli import main
from engagement.config import ConfigError, SmtpTarget, load_settings

SECRET = "s" * 40


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No ENGAGEMENT_ setting from the host, and a fresh working folder for the relative default."""
    for name in list(os.environ):
        if name.startswith("ENGAGEMENT_") and name != "ENGAGEMENT_REQUIRE_SERVICES":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_are_the_embedded_mode(tmp_path: Path):
    settings = load_settings()

    assert settings.mode == "embedded"
    assert settings.embedded
    assert settings.data_dir == Path("data")
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'data' / 'engagement.db'}"
    assert settings.resolved_broker_url == "filesystem://"
    assert settings.smtp is None
    assert settings.resolved_smtp_url == f"file://{tmp_path / 'data' / 'mail'}"
    assert settings.base_url == "http://127.0.0.1:8000"
    assert settings.mail_from == "engagement@localhost"
    assert settings.notify_window_seconds == 120
    assert settings.delivery_retention_days == 90
    assert settings.max_mails_per_recipient_per_day == 100
    assert settings.rate_limits_enabled is True
    assert settings.resolved_rate_limit_storage_url == "memory://"


def test_embedded_secret_is_generated_once_and_kept_in_the_data_folder(tmp_path: Path):
    first = load_settings().secret_key
    second = load_settings().secret_key

    path = tmp_path / "data" / "secret_key"
    assert first == second == path.read_text().strip()
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_settings(data_dir=tmp_path / "other").secret_key != first


def test_a_given_secret_is_used_and_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ENGAGEMENT_SECRET_KEY", SECRET)

    assert load_settings().secret_key == SECRET
    assert not (tmp_path / "data" / "secret_key").exists()


@pytest.mark.parametrize(
    ("variable", "value", "attribute", "expected"),
    [
        ("DATA_DIR", "/srv/engagement", "data_dir", Path("/srv/engagement")),
        ("DATABASE_URL", "postgresql://app:pw@db/engagement", "resolved_database_url", "postgresql://app:pw@db/engagement"),
        ("BROKER_URL", "redis://redis:6379/1", "resolved_broker_url", "redis://redis:6379/1"),
        ("BROKER_URL", "redis://redis:6379/1", "resolved_rate_limit_storage_url", "redis://redis:6379/1"),
        ("SMTP_URL", "smtp+starttls://relay.example.org", "resolved_smtp_url", "smtp+starttls://relay.example.org"),
        ("SECRET_KEY", SECRET, "secret_key", SECRET),
        ("BASE_URL", "https://comments.example.org/", "base_url", "https://comments.example.org"),
        ("MAIL_FROM", "comments@example.org", "mail_from", "comments@example.org"),
        ("NOTIFY_WINDOW_SECONDS", "0", "notify_window_seconds", 0),
        ("NOTIFY_WINDOW_SECONDS", "300", "notify_window_seconds", 300),
        ("DELIVERY_RETENTION_DAYS", "0", "delivery_retention_days", 0),
        ("DELIVERY_RETENTION_DAYS", "30", "delivery_retention_days", 30),
        ("MAX_MAILS_PER_RECIPIENT_PER_DAY", "0", "max_mails_per_recipient_per_day", 0),
        ("MAX_MAILS_PER_RECIPIENT_PER_DAY", "20", "max_mails_per_recipient_per_day", 20),
        ("RATE_LIMITS_ENABLED", "false", "rate_limits_enabled", False),
        ("RATE_LIMITS_ENABLED", "0", "rate_limits_enabled", False),
        ("MODE", "embedded", "mode", "embedded"),
        ("LOG_LEVEL", "debug", "log_level", "debug"),
    ],
)  # fmt: skip
def test_each_setting_is_read_from_its_variable(monkeypatch, variable, value, attribute, expected):
    monkeypatch.setenv(f"ENGAGEMENT_{variable}", value)

    assert getattr(load_settings(), attribute) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mailpit:1025", SmtpTarget("none", "mailpit", 1025, None, None)),
        ("smtp://relay.example.org", SmtpTarget("none", "relay.example.org", 25, None, None)),
        ("smtps://user:pw@relay.example.org", SmtpTarget("implicit", "relay.example.org", 465, "user", "pw")),
        ("smtp+starttls://me%40x.org:p%40ss@mx:2525", SmtpTarget("starttls", "mx", 2525, "me@x.org", "p@ss")),
        ("smtp+starttls://relay", SmtpTarget("starttls", "relay", 587, None, None)),
    ],
)  # fmt: skip
def test_smtp_url_chooses_tls(monkeypatch, url, expected):
    monkeypatch.setenv("ENGAGEMENT_SMTP_URL", url)

    assert load_settings().smtp == expected


def test_production_mode_with_everything_given(monkeypatch, tmp_path: Path):
    for name, value in {
        "MODE": "production",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": "postgresql://app@db/engagement",
        "BROKER_URL": "redis://redis:6379/0",
        "SMTP_URL": "smtps://relay.example.org",
    }.items():
        monkeypatch.setenv(f"ENGAGEMENT_{name}", value)

    settings = load_settings()

    assert not settings.embedded
    assert settings.secret_key == SECRET
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MODE": "production"}, "settings: ENGAGEMENT_SECRET_KEY is required in production mode"),
        (
            {"MODE": "production", "SECRET_KEY": "short", "DATABASE_URL": "postgresql://db/e",
             "BROKER_URL": "redis://r", "SMTP_URL": "smtp://relay"},
            "settings: ENGAGEMENT_SECRET_KEY must be at least 32 characters",
        ),
        ({"MODE": "staging"}, "setting ENGAGEMENT_MODE: Input should be 'embedded' or 'production'"),
        ({"DATABASE_URL": "mysql://db/engagement"}, "setting ENGAGEMENT_DATABASE_URL: must be a postgresql"),
        ({"DATABASE_URL": "not a url"}, "setting ENGAGEMENT_DATABASE_URL: must be a postgresql"),
        ({"BROKER_URL": "redis"}, "setting ENGAGEMENT_BROKER_URL: must be a URL"),
        ({"SMTP_URL": "http://relay"}, "setting ENGAGEMENT_SMTP_URL: must look like smtp://"),
        ({"SMTP_URL": "smtp://"}, "setting ENGAGEMENT_SMTP_URL: needs a host"),
        ({"SMTP_URL": "smtp://relay:port"}, "setting ENGAGEMENT_SMTP_URL: needs a host"),
        ({"BASE_URL": "comments.example.org"}, "setting ENGAGEMENT_BASE_URL: must be an absolute http(s)"),
        ({"NOTIFY_WINDOW_SECONDS": "soon"}, "setting ENGAGEMENT_NOTIFY_WINDOW_SECONDS: Input should be"),
        ({"NOTIFY_WINDOW_SECONDS": "-1"}, "setting ENGAGEMENT_NOTIFY_WINDOW_SECONDS: Input should be"),
        ({"DELIVERY_RETENTION_DAYS": "7"}, "setting ENGAGEMENT_DELIVERY_RETENTION_DAYS: must be 0 (keep"),
        ({"DELIVERY_RETENTION_DAYS": "-1"}, "setting ENGAGEMENT_DELIVERY_RETENTION_DAYS: Input should be"),
        ({"MAX_MAILS_PER_RECIPIENT_PER_DAY": "-1"},
         "setting ENGAGEMENT_MAX_MAILS_PER_RECIPIENT_PER_DAY: Input should be greater than or equal to 0"),
        ({"MAX_MAILS_PER_RECIPIENT_PER_DAY": "lots"},
         "setting ENGAGEMENT_MAX_MAILS_PER_RECIPIENT_PER_DAY: Input should be a valid integer"),
        ({"RATE_LIMITS_ENABLED": "maybe"}, "setting ENGAGEMENT_RATE_LIMITS_ENABLED: Input should be a valid"),
        ({"COMMENT_RATE_LIMIT": "lots"}, "setting ENGAGEMENT_COMMENT_RATE_LIMIT: not a rate limit"),
    ],
)  # fmt: skip
def test_a_wrong_setting_is_one_line_naming_it(monkeypatch, env, message):
    for name, value in env.items():
        monkeypatch.setenv(f"ENGAGEMENT_{name}", value)

    with pytest.raises(ConfigError) as caught:
        load_settings()

    assert str(caught.value).startswith(f"invalid {message}")
    assert "\n" not in str(caught.value)


def test_a_secret_in_a_wrong_url_is_not_repeated(monkeypatch):
    monkeypatch.setenv("ENGAGEMENT_SMTP_URL", "smtp://user:hunter2@relay:port")

    with pytest.raises(ConfigError) as caught:
        load_settings()

    assert "hunter2" not in str(caught.value)


def test_the_cli_stops_at_start_on_a_wrong_setting():
    result = CliRunner().invoke(main, ["sites", "list"], env={"ENGAGEMENT_NOTIFY_WINDOW_SECONDS": "soon"})

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "ENGAGEMENT_NOTIFY_WINDOW_SECONDS" in result.stderr


def test_the_installed_command_stops_with_one_line(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGEMENT_")}
    env["ENGAGEMENT_MODE"] = "production"
    env["ENGAGEMENT_DATA_DIR"] = str(tmp_path / "data")

    done = subprocess.run(
        [sys.executable, "-m", "engagement.cli", "db", "upgrade"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "Error: invalid settings: ENGAGEMENT_SECRET_KEY is required in production mode"
    ]
    assert not (tmp_path / "data").exists()  # stopped before touching anything
