"""Fixtures for the delivery tests: an SMTP sink, a mailer aimed at it, the CLI, a real worker on Redis.

The Redis URL and the skip-or-fail rule come from ``required_services``, shared with the root.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from click.testing import CliRunner, Result
from fleet import OwnRedis
from mailsink import MailSink
from receiver import Receiver
from required_services import REDIS_URL, missing_service

from engagement.cli import main
from engagement.config import Settings
from engagement.core import Core, build_core
from engagement.mail.mailer import Mailer, build_mailer
from workers import handoff, make_celery


@pytest.fixture
def sink() -> Iterator[MailSink]:
    server = MailSink().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def cli(core: Core, sink: MailSink, tmp_path: Path) -> Callable[..., Result]:
    """The ``engagement`` command as an operator runs it, on the test's database and sink."""

    def invoke(*args: str, **env: str) -> Result:
        environment = {
            "ENGAGEMENT_DATA_DIR": str(tmp_path),
            "ENGAGEMENT_DATABASE_URL": core.settings.database_url,
            "ENGAGEMENT_SECRET_KEY": core.settings.secret_key,
            "ENGAGEMENT_SMTP_URL": sink.url,
            "ENGAGEMENT_SMTP_RATE_PER_SECOND": "1000",
            "ENGAGEMENT_BROKER_URL": "filesystem://",
            "COLUMNS": "200",
            **env,
        }
        return CliRunner().invoke(main, list(args), env=environment, catch_exceptions=False)

    return invoke


@pytest.fixture
def mailer(core: Core, sink: MailSink) -> Mailer:
    settings = core.settings.model_copy(
        update={"smtp_url": sink.url, "smtp_rate_per_second": 10_000.0, "delivery_retry_seconds": 10.0}
    )
    return build_mailer(settings, core.keys)


@dataclass
class Live:
    """A real worker (threads) on the real Redis, over the test's database, with a real clock."""

    core: Core
    app: Any
    worker: Any


@pytest.fixture
def redis_broker() -> Iterator[tuple[str, str]]:
    """The shared Redis with a key prefix of this test's own, cleaned up afterwards."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        missing_service("Redis", str(exc))
    prefix = f"engagement-test-{secrets.token_hex(4)}:"
    try:
        yield REDIS_URL, prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        # kombu's own bookkeeping keys carry the prefix too; nothing else is touched.
        if keys:
            client.delete(*keys)
        client.close()


def live_settings(core: Core, sink: MailSink, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "smtp_url": sink.url,
        "smtp_rate_per_second": 10_000.0,
        "notify_window_seconds": 0,
        "delivery_retry_seconds": 0.5,
        "delivery_lease_seconds": 2.0,
    }
    values.update(overrides)
    return core.settings.model_copy(update=values)


@pytest.fixture
def live(core: Core, site, sink: MailSink, redis_broker) -> Iterator[Live]:
    url, prefix = redis_broker
    settings = live_settings(core, sink, broker_url=url)
    worker_core = build_core(settings)
    app = make_celery(settings, core=worker_core, key_prefix=prefix)
    worker_core.on_commit = handoff(app)
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=30) as w:
        yield Live(worker_core, app, w)
    worker_core.dispose()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A redis-server of the test's own (Debian's redis-server), which the test may kill and restart."""
    if shutil.which("redis-server") is None:
        missing_service("redis-server", "the binary is not installed")
    server = OwnRedis(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local HTTP receiver for webhooks: it records each request and answers as told."""
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()
