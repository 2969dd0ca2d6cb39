"""How many tasks wait in each queue of the broker, asked the broker's own way (any transport)."""

from __future__ import annotations

from typing import Any

import structlog
from celery import Celery
from kombu.exceptions import ChannelError

from workers.app import QUEUES

log = structlog.get_logger(__name__)
TIMEOUT_SECONDS = 2


def queue_lengths(app: Celery) -> dict[str, int]:
    """Each queue's waiting tasks (0 for a queue never used); empty when the broker is away."""
    lengths: dict[str, int] = {}
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=TIMEOUT_SECONDS)
            channel: Any = conn.default_channel  # a virtual transport's channel: queue_declare
            for name in QUEUES:
                try:
                    lengths[name] = channel.queue_declare(queue=name, passive=True).message_count
                except ChannelError:  # not declared yet: nothing ever waited there
                    lengths[name] = 0
    except Exception as exc:  # a broker away leaves the gauge out, never fails the scrape
        log.warning("metrics.broker_unreachable", error=str(exc).splitlines()[0] if str(exc) else repr(exc))
        return {}
    return lengths
