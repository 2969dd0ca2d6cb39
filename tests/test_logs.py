"""Log lines: JSON in production, key=value on a terminal, the request id bound, no address."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from engagement.config import load_settings
from engagement.logs import bind_request_id, configure_logging, mask_addresses, use_json


@pytest.fixture
def configured(tmp_path):
    def configure(**settings):
        configure_logging(load_settings(data_dir=tmp_path, **settings))

    yield configure
    structlog.reset_defaults()
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != "engagement"]
    structlog.contextvars.clear_contextvars()


def test_a_json_line_carries_the_request_id_and_no_address(configured, capsys):
    configured(log_format="json")
    bind_request_id("req-123")
    structlog.get_logger("t").info("delivery.refused", error="550 <ann@example.org>: no such user", ids=[1])
    logging.getLogger("celery.worker").warning("from the standard library for bob@example.net")

    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert first["event"] == "delivery.refused"
    assert first["request_id"] == "req-123"
    assert first["level"] == "info"
    assert first["error"] == "550 <[address]>: no such user"
    assert second["event"] == "from the standard library for [address]"
    assert second["request_id"] == "req-123"


def test_an_exception_is_rendered_and_masked(configured, capsys):
    configured(log_format="json")
    try:
        raise ValueError("cannot send to eve@example.org")
    except ValueError:
        structlog.get_logger("t").exception("send.failed")

    line = json.loads(capsys.readouterr().err)
    assert "[address]" in line["exception"]
    assert "eve@example.org" not in line["exception"]


def test_console_lines_are_key_value(configured, capsys):
    configured(log_format="console")
    structlog.get_logger("t").info("http.request", route="/api/v1/comments", status=201)

    err = capsys.readouterr().err
    assert "http.request" in err
    assert "status=201" in err


def test_auto_is_json_in_production_away_from_a_terminal(tmp_path):
    production = {
        "mode": "production",
        "secret_key": "s" * 40,
        "database_url": "sqlite:///x.db",
        "broker_url": "redis://127.0.0.1:6379/0",
        "smtp_url": "smtp://127.0.0.1:25",
    }

    class Terminal:
        def isatty(self):
            return True

    class Pipe:
        def isatty(self):
            return False

    settings = load_settings(data_dir=tmp_path, **production)
    assert use_json(settings, Pipe())
    assert not use_json(settings, Terminal())
    assert not use_json(load_settings(data_dir=tmp_path), Pipe())


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("to jane.doe+x@mail.example.net now", "to [address] now"),
        (["a@b.org", ("c@d.io",)], ["[address]", ("[address]",)]),
        ({"k": "δοκιμή@παράδειγμα.δοκιμή"}, {"k": "[address]"}),
        ("no address @ here", "no address @ here"),
        (5, 5),
    ],
)
def test_addresses_are_masked_wherever_they_sit(value, masked):
    assert mask_addresses(value) == masked
