"""``engagement webhooks``: add (the secret shown once), list, disable, enable, rotate, remove, retry."""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from engagement.models import WebhookDelivery, WebhookEndpoint

LOOPBACK = {"ENGAGEMENT_WEBHOOKS_ALLOW_PRIVATE": "true"}


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://hooks.example.org/x", "only http:// and https:// URLs can receive webhooks"),
        ("https://me:pw@hooks.example.org/x", "must not carry credentials"),
        ("http://10.0.0.1/hook", "10.0.0.1, a private address"),
        ("http://169.254.169.254/latest", "a cloud metadata address"),
        ("http://127.0.0.1:9/hook", "a loopback address"),
        ("http://[::ffff:192.168.0.1]/hook", "a private address"),
    ],
)
def test_a_bad_url_exits_2_with_the_reason_and_adds_nothing(core, site, cli, no_sockets, url, reason):
    result = cli("webhooks", "add", "daily", url)
    assert result.exit_code == 2
    assert reason in result.stderr
    with core.engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) == 0


def test_unknown_site_event_or_format_is_refused(core, site, cli):
    assert cli("webhooks", "add", "nosuch", "http://127.0.0.1:9/h", **LOOPBACK).exit_code == 3
    assert cli("webhooks", "add", "daily", "http://127.0.0.1:9/h", "--event", "comment.liked").exit_code == 2
    assert cli("webhooks", "add", "daily", "http://127.0.0.1:9/h", "--format", "teams").exit_code == 2
    assert cli("webhooks", "disable", "99", **LOOPBACK).exit_code == 3


def test_an_endpoint_from_add_to_remove(core, site, cli):
    added = cli(
        "webhooks", "add", "daily", "http://127.0.0.1:9/hook", "--event", "comment.published", **LOOPBACK
    )
    assert added.exit_code == 0, added.output
    secret = next(line.split(": ", 1)[1] for line in added.stdout.splitlines() if line.startswith("secret: "))
    assert secret.startswith("whsec_")
    assert "not shown again" in added.stderr

    listed = cli("webhooks", "list", "--site", "daily")
    assert "http://127.0.0.1:9/hook" in listed.stdout
    assert secret not in listed.stdout
    assert "comment.published" in listed.stdout

    assert cli("webhooks", "disable", "1").exit_code == 0
    assert "off (disabled by hand)" in cli("webhooks", "list").stdout
    assert cli("webhooks", "enable", "1").exit_code == 0

    rotated = cli("webhooks", "rotate-secret", "1")
    new = rotated.stdout.strip().removeprefix("secret: ")
    assert new.startswith("whsec_")
    assert new != secret
    with core.engine.connect() as connection:
        assert connection.scalar(sa.select(WebhookEndpoint.secret)) == new

    assert cli("webhooks", "remove", "1").exit_code == 0
    assert cli("webhooks", "list").stdout.strip() == "no webhook endpoints"


def test_retry_puts_failed_deliveries_back(core, site, cli, clock):
    cli("webhooks", "add", "daily", "http://127.0.0.1:9/hook", **LOOPBACK)
    with core.engine.begin() as connection:
        connection.execute(
            sa.insert(WebhookDelivery).values(
                idempotency_key="webhook:1:1",
                endpoint_id=1,
                event_type="comment.published",
                message_id="msg_1_1",
                body="{}",
                status="failed",
                attempts=8,
                last_error="HTTP 503",
                created_at=clock.now,
                next_attempt_at=clock.now,
            )
        )
    assert "failed" in cli("webhooks", "deliveries", "--status", "failed").stdout
    result = cli("webhooks", "retry", "--endpoint", "1")
    assert result.exit_code == 0
    assert "1 webhook deliveries queued again: 1" in result.stdout
    with core.engine.connect() as connection:
        assert connection.execute(sa.select(WebhookDelivery.status, WebhookDelivery.attempts)).one() == (
            "pending",
            0,
        )
    assert cli("webhooks", "retry").stdout.strip() == "no failed webhook deliveries to retry"
