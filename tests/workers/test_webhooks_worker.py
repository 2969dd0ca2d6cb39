"""Webhooks through real processes' wiring: a Celery worker on Redis relays the event and sends it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from celery.contrib.testing.worker import start_worker
from conftest import live_settings
from drive import post

from engagement.core import Core, build_core
from engagement.models import WebhookDelivery
from engagement.services.webhooks.addresses import AddressGuard
from engagement.services.webhooks.endpoints import add_endpoint
from workers import handoff, make_celery


@pytest.fixture
def worker_core(core: Core, site, sink, redis_broker) -> Iterator[Core]:
    url, prefix = redis_broker
    settings = live_settings(
        core, sink, broker_url=url, webhooks_allow_private=True, webhook_retry_seconds=0.2
    )
    made = build_core(settings)
    app = make_celery(settings, core=made, key_prefix=prefix)
    made.on_commit = handoff(app)
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=30):
        yield made
    if app.resources.webhook_sender is not None:  # its keep-alive connections, closed rather than collected
        app.resources.webhook_sender.close()
    made.dispose()


@pytest.mark.redis
def test_a_worker_relays_the_event_and_delivers_it_through_a_500(worker_core, receiver):
    add_endpoint(worker_core.uow(), AddressGuard(allow_private=True), "daily", receiver.url())
    receiver.answer(500)
    post(worker_core)  # committed, handed to the relay task at once

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(receiver.received) < 2:
        time.sleep(0.05)
    assert [r.answered for r in receiver.received] == [500, 204]
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    with worker_core.engine.connect() as connection:
        deadline = time.monotonic() + 10
        while connection.scalar(sa.select(WebhookDelivery.status)) != "sent" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert connection.execute(sa.select(WebhookDelivery.status, WebhookDelivery.attempts)).one() == (
            "sent",
            2,
        )
