"""Send a batch of webhook deliveries, a few at a time, each outcome recorded the moment it is known.

Per chunk: claim the due rows (committed), post them through a small thread pool, and mark
each row as its answer comes back, on a connection of its own in autocommit: a sender
killed at any point leaves every row sent, or claimable again once its lease runs out. Only
the requests in flight at that moment can reach their receiver twice, each with the same
``webhook-id``. Endpoint streaks (deliveries given up in a row) are kept per chunk; past the
limit an endpoint is disabled and its owners get one mail.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
import structlog

from engagement.config import Settings
from engagement.metrics import instruments
from engagement.models import WebhookDelivery
from engagement.services.webhooks.addresses import AddressGuard
from engagement.services.webhooks.client import TOTAL_SECONDS, Outcome, Request, WebhookClient
from engagement.services.webhooks.deliveries import (
    FAILED,
    PENDING,
    SENDING,
    SENT,
    Claimed,
    claim,
    finish,
    release,
)
from engagement.services.webhooks.disabling import update_streaks
from engagement.uow import UnitOfWork

log = structlog.get_logger(__name__)
CLAIM_CHUNK = 200
MAX_RETRY_DELAY_SECONDS = 6 * 3600
WAIT_STEP_SECONDS = 0.2  # how often a waiting sender looks at the stop flag and its lease
_jitter = random.SystemRandom()


def _never() -> bool:
    return False


@dataclass
class WebhookReport:
    sent: int = 0
    failed: int = 0
    retry_at: datetime | None = None
    retry_ids: list[int] = field(default_factory=list)
    handed_back: list[int] = field(default_factory=list)
    mails: list[int] = field(default_factory=list)  # owners' mails about disabled endpoints, to send

    def retry(self, delivery_id: int, due: datetime) -> None:
        self.retry_ids.append(delivery_id)
        self.retry_at = due if self.retry_at is None else min(self.retry_at, due)


class WebhookSender:
    """What a worker process keeps for its webhook sends: the settings, the client, the pool."""

    def __init__(
        self, settings: Settings, *, guard: AddressGuard | None = None, total_seconds: float = TOTAL_SECONDS
    ) -> None:
        self.settings = settings
        self.guard = guard or AddressGuard(allow_private=settings.webhooks_allow_private)
        connections = settings.webhook_concurrency * 2
        self.client = WebhookClient(self.guard, connections=connections, total_seconds=total_seconds)
        self.pool = ThreadPoolExecutor(settings.webhook_concurrency, thread_name_prefix="webhook")
        self.pid = os.getpid()  # a forked pool child makes its own: threads and sockets do not survive a fork

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.client.close()

    def delay(self, attempts: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter; never sooner than the receiver's ``Retry-After``."""
        base = self.settings.webhook_retry_seconds
        ceiling = min(base * 2.0 ** max(attempts - 1, 0), MAX_RETRY_DELAY_SECONDS)
        chosen = ceiling / 2 + _jitter.uniform(0, ceiling / 2)
        return min(max(chosen, retry_after or 0.0), MAX_RETRY_DELAY_SECONDS)


def send_webhooks(
    uow: UnitOfWork, sender: WebhookSender, ids: Sequence[int], *, stopping: Callable[[], bool] = _never
) -> WebhookReport:
    """Send those of ``ids`` that are due; sent, claimed or finished rows are left alone."""
    report = WebhookReport()
    engine = uow.session_factory.kw["bind"]
    postgres = engine.dialect.name == "postgresql"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as marks:
        if postgres:
            # As mail's marks do (engagement/services/delivery/sending.py): visible at once, so a
            # killed worker loses nothing, without waiting for the disk flush on every delivery,
            # which would cap a fan-out near a hundred a second. Only a crash of the database
            # server itself could forget the last moments' marks (those rows go again, same id).
            marks.exec_driver_sql("SET synchronous_commit TO OFF")
        try:
            for start in range(0, len(ids), CLAIM_CHUNK):
                if stopping():
                    report.handed_back += list(ids[start:])
                    break
                _send_chunk(uow, sender, marks, list(ids[start : start + CLAIM_CHUNK]), report, stopping)
        finally:
            if postgres and not marks.invalidated:
                marks.exec_driver_sql("RESET synchronous_commit")
    return report


def _send_chunk(
    uow: UnitOfWork,
    sender: WebhookSender,
    marks: sa.Connection,
    ids: list[int],
    report: WebhookReport,
    stopping: Callable[[], bool],
) -> None:
    lease = sender.settings.delivery_lease_seconds
    with uow:
        claimed = claim(uow.session, ids, uow.now(), lease)
        uow.commit()
    if not claimed:
        return
    results: dict[int, bool] = {}  # delivery id -> sent (True) or given up (False)
    rows = {c.id: c for c in claimed}
    futures: dict[Future[Outcome], Claimed] = {}
    for row in claimed:
        if not row.enabled:
            finish(marks, row.id, status=FAILED, last_error="endpoint disabled")
            report.failed += 1
            continue
        secret = row.secret if row.format == "standard" else None
        request = Request(row.url, row.message_id, row.body, secret)
        futures[sender.pool.submit(sender.client.send, request)] = row
    lease_until = uow.clock() + timedelta(seconds=lease)
    waiting = set(futures)
    while waiting:
        done, waiting = wait(waiting, timeout=WAIT_STEP_SECONDS, return_when=FIRST_COMPLETED)
        for future in done:
            if not future.cancelled():
                _record(marks, sender, futures[future], future.result(), uow.clock(), report, results)
        if stopping() and waiting:
            waiting = _hand_back(uow, waiting, futures, report)
        if waiting and uow.clock() > lease_until - timedelta(seconds=lease / 2):
            lease_until = uow.clock() + timedelta(seconds=lease)  # slow receivers: keep the rest ours
            _extend(marks, [futures[f].id for f in waiting], lease_until)
    if results:
        with uow:
            report.mails += update_streaks(uow.session, rows, results, uow.now(), sender.settings)
            uow.commit()


def _hand_back(
    uow: UnitOfWork,
    waiting: set[Future[Outcome]],
    futures: dict[Future[Outcome], Claimed],
    report: WebhookReport,
) -> set[Future[Outcome]]:
    """Cancel what has not started; those rows go back, due at once. Requests in flight finish."""
    cancelled = [f for f in waiting if f.cancel()]
    if cancelled:
        ids = [futures[f].id for f in cancelled]
        with uow:
            release(uow.session, ids, uow.now())
            uow.commit()
        report.handed_back += ids
        log.info("webhook.handed_back", count=len(ids))
    return waiting.difference(cancelled)


def _record(
    marks: sa.Connection,
    sender: WebhookSender,
    row: Claimed,
    outcome: Outcome,
    now: datetime,
    report: WebhookReport,
    results: dict[int, bool],
) -> None:
    counter = instruments().webhook_deliveries
    if outcome.kind == "sent":
        finish(marks, row.id, status=SENT, sent_at=now, response_status=outcome.status, last_error=None)
        report.sent += 1
        results[row.id] = True
        counter.labels(row.event_type, "sent").inc()
        return
    if outcome.kind == "retry" and row.attempts < sender.settings.webhook_max_attempts:
        due = now + timedelta(seconds=sender.delay(row.attempts, outcome.retry_after))
        finish(
            marks,
            row.id,
            status=PENDING,
            next_attempt_at=due,
            response_status=outcome.status,
            last_error=outcome.error,
        )
        report.retry(row.id, due)
        counter.labels(row.event_type, "retry").inc()
        return
    error = outcome.error or "failed"
    if outcome.kind == "retry":
        error = f"gave up after {row.attempts} attempts: {error}"
    finish(marks, row.id, status=FAILED, response_status=outcome.status, last_error=error[:2000])
    log.info("webhook.failed", delivery_id=row.id, endpoint_id=row.endpoint_id, error=error)
    report.failed += 1
    results[row.id] = False
    counter.labels(row.event_type, "failed").inc()


def _extend(marks: sa.Connection, ids: list[int], until: datetime) -> None:
    table = WebhookDelivery.__table__
    marks.execute(
        sa.update(table).where(table.c.id.in_(ids), table.c.status == SENDING).values(next_attempt_at=until)  # type: ignore[arg-type]
    )
