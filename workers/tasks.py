"""The tasks: each takes ids, borrows the process's core and mailer, and calls one core function.

Every task is idempotent, so a duplicate (a redelivery after a worker died, beat firing
twice, the sweep overlapping a hand-off) finds its work done and does nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
import structlog
from celery import Task

from engagement.core import Core
from engagement.logs import bind_request_id
from engagement.mail.mailer import Mailer
from engagement.services.delivery.deliveries import due_deliveries
from engagement.services.delivery.digests import due_digests, run_lease_seconds, send_digest
from engagement.services.delivery.relay import RelayResult, flush_notifications, relay_events, sweep_unrelayed
from engagement.services.delivery.retention import prune_deliveries
from engagement.services.delivery.sending import chunk_sender, send_deliveries
from engagement.services.webhooks.deliveries import due_webhooks
from engagement.services.webhooks.sending import send_webhooks
from workers.observe import cause_headers
from workers.resources import EngagementCelery

AnyTask = Task[Any, Any]
log = structlog.get_logger(__name__)
SEND_BATCH = 200  # deliveries per send task: one SMTP connection each
WEBHOOK_BATCH = 200  # webhook deliveries per task: one claim, sent a few at a time
FLUSH_CHUNK = 1000
SWEEP_CHUNK = 200
SWEEP_AGE_SECONDS = 10.0  # younger events are still on their way from the hand-off
# A pending delivery due this long lost its task (claims past their lease need no grace).
RESUME_GRACE_SECONDS = 60.0
# A database that is briefly away (restart, lock timeout) is waited for, a few times.
TRANSIENT_DATABASE_ERRORS = (sa.exc.OperationalError, sa.exc.InterfaceError)


def register(app: EngagementCelery) -> None:
    """Define the tasks on ``app`` (each app its own: tests run several apps in one process)."""
    for func, queue in TASKS:
        app.task(
            bind=True,
            name=f"engagement.{func.__name__}",
            queue=queue,
            autoretry_for=TRANSIENT_DATABASE_ERRORS,
            retry_backoff=2,
            retry_backoff_max=60,
            max_retries=8,
        )(func)


def _resources(task: AnyTask) -> tuple[Core, Mailer]:
    app: EngagementCelery = task.app  # type: ignore[assignment]
    return app.resources.get()


def _dispatch(task: AnyTask, delivery_ids: Sequence[int]) -> None:
    ids = list(delivery_ids)
    headers = cause_headers()
    for start in range(0, len(ids), SEND_BATCH):
        batch = ids[start : start + SEND_BATCH]
        task.app.send_task("engagement.send", args=[batch], queue="send", headers=headers)


def _flush_due(task: AnyTask) -> None:
    core, _ = _resources(task)
    limit = SEND_BATCH  # a first chunk of one send batch: the first mails leave sooner
    while True:
        ids = flush_notifications(core.uow(), limit=limit)
        _dispatch(task, ids)  # each chunk leaves as soon as it is committed
        if len(ids) < limit:
            return
        limit = FLUSH_CHUNK


def _dispatch_webhooks(task: AnyTask, ids: Sequence[int]) -> None:
    ids = list(ids)
    headers = cause_headers()
    for start in range(0, len(ids), WEBHOOK_BATCH):
        batch = ids[start : start + WEBHOOK_BATCH]
        task.app.send_task("engagement.webhook_send", args=[batch], queue="send", headers=headers)


def _after_relay(task: AnyTask, result: RelayResult) -> None:
    # The requests that wrote these events: this task's line and the sends it causes name them.
    if len(result.request_ids) == 1:
        bind_request_id(result.request_ids[0])
    elif result.request_ids:
        structlog.contextvars.bind_contextvars(request_ids=result.request_ids)
    _dispatch(task, result.deliveries)
    _dispatch_webhooks(task, result.webhooks)
    if result.notify_due:
        _flush_due(task)


def relay(task: AnyTask, event_ids: list[int]) -> None:
    """Relay events handed over right after their commit."""
    core, _ = _resources(task)
    window = core.settings.notify_window_seconds
    result = relay_events(
        core.uow(), event_ids, window_seconds=window, first_recipients_planned=lambda: _flush_due(task)
    )
    _after_relay(task, result)


def sweep(task: AnyTask, older_than_seconds: float = SWEEP_AGE_SECONDS) -> None:
    """Relay events whose hand-off was lost (broker down, worker killed)."""
    core, _ = _resources(task)
    window = core.settings.notify_window_seconds
    while True:
        result = sweep_unrelayed(
            core.uow(),
            older_than_seconds=older_than_seconds,
            window_seconds=window,
            limit=SWEEP_CHUNK,
            first_recipients_planned=lambda: _flush_due(task),
        )
        if result.relayed:
            log.info("outbox.swept", relayed=result.relayed)
        _after_relay(task, result)
        if result.relayed < SWEEP_CHUNK:
            return


def flush(task: AnyTask) -> None:
    """Send the coalescing windows that fell due."""
    _flush_due(task)


def send(task: AnyTask, delivery_ids: list[int]) -> None:
    """Send a batch of deliveries over one connection; schedule the retries it asks for."""
    app: EngagementCelery = task.app  # type: ignore[assignment]
    core, mailer = app.resources.get()
    report = send_deliveries(core.uow(), mailer, delivery_ids, stopping=app.resources.stopping)
    if report.handed_back:  # this worker is stopping: another one sends them now
        _dispatch(task, report.handed_back)
    if report.retry_at is not None:
        # The fast path back; should this message be lost, the resume sweep finds the rows.
        delay = max(0.0, (report.retry_at - core.clock()).total_seconds())
        task.app.send_task(
            "engagement.send", args=[report.retry_ids], countdown=delay, queue="send", headers=cause_headers()
        )


def resume(task: AnyTask, grace_seconds: float = RESUME_GRACE_SECONDS) -> None:
    """Hand out again the deliveries (mail and webhooks) that are due but whose task was lost."""
    core, _ = _resources(task)
    _dispatch(task, due_deliveries(core.uow(), grace_seconds=grace_seconds))
    _dispatch_webhooks(task, due_webhooks(core.uow(), grace_seconds=grace_seconds))


def webhook_send(task: AnyTask, delivery_ids: list[int]) -> None:
    """Send a batch of webhook deliveries; schedule their retries; mail owners of endpoints turned off."""
    app: EngagementCelery = task.app  # type: ignore[assignment]
    core, _ = app.resources.get()
    report = send_webhooks(
        core.uow(), app.resources.webhooks(), delivery_ids, stopping=app.resources.stopping
    )
    if report.handed_back:  # this worker is stopping: another one sends them now
        _dispatch_webhooks(task, report.handed_back)
    _dispatch(task, report.mails)
    if report.retry_at is not None:
        # The fast path back; should this message be lost, the resume sweep finds the rows.
        delay = max(0.0, (report.retry_at - core.clock()).total_seconds())
        task.app.send_task(
            "engagement.webhook_send",
            args=[report.retry_ids],
            countdown=delay,
            queue="send",
            headers=cause_headers(),
        )


def digest_tick(task: AnyTask) -> None:
    """Start the digest of every site whose period just ended."""
    core, _ = _resources(task)
    for site_key, period in due_digests(core.uow()):
        task.app.send_task("engagement.digest", args=[site_key, period], queue="digest")


def digest(task: AnyTask, site_key: str, period: str) -> None:
    """Run (or resume) one site's digest for its latest period."""
    app: EngagementCelery = task.app  # type: ignore[assignment]
    core, mailer = app.resources.get()
    stopping = app.resources.stopping
    sender = chunk_sender(core.uow, mailer, stopping=stopping, hand_back=lambda ids: _dispatch(task, ids))
    lease = run_lease_seconds(core.settings)
    report = send_digest(core.uow(), site_key, period, sender, lease_seconds=lease, stopping=stopping)
    log.info("digest.run", site=site_key, period=period, sent=report.sent, busy=report.busy)
    if report.stopped:  # this worker is stopping: another one goes on from where it stopped
        task.app.send_task("engagement.digest", args=[site_key, period], queue="digest")


def prune(task: AnyTask) -> None:
    """Remove finished deliveries older than the retention; a retention of 0 keeps them all."""
    core, _ = _resources(task)
    days = core.settings.delivery_retention_days
    if days:
        report = prune_deliveries(core.uow(), days)
        log.info(
            "deliveries.pruned",
            deliveries=report.deliveries,
            items=report.notification_items,
            events=report.outbox_events,
        )


def ping(task: AnyTask, reply_to: str, queue: str) -> None:
    """Answer ``engagement doctor`` on its reply queue: this worker takes tasks from ``queue``."""
    with task.app.connection_for_write() as connection:
        replies = connection.SimpleQueue(reply_to)
        try:
            replies.put({"worker": task.request.hostname, "queue": queue})
        finally:
            replies.close()


TASKS: tuple[tuple[Callable[..., None], str], ...] = (
    (relay, "relay"),
    (sweep, "relay"),
    (flush, "relay"),
    (send, "send"),
    (resume, "send"),
    (webhook_send, "send"),
    (digest_tick, "digest"),
    (digest, "digest"),
    (prune, "digest"),  # long batch work, like digests: never in the way of hand-offs or sends
    (ping, "relay"),  # the doctor sends one to every queue
)
