"""Send a batch of webhook deliveries, a few at a time, each outcome recorded the moment it is known.

Per chunk: claim the due rows (committed), post them through a small thread pool, and mark
each row as its answer comes back, on a connection of its own in autocommit: a sender
killed at any point leaves every row sent, or claimable again once its lease runs out. Only
the requests in flight at that moment can reach their receiver twice, each with the same
``webhook-id``. Endpoint streaks (deliveries given up in a row) are kept per chunk; past the
limit an endpoint is disabled and its owners get one mail.
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import structlog

from engagement.config import Settings
from engagement.metrics import instruments
from engagement.models import WebhookDelivery
from engagement.services.webhooks.addresses import AddressGuard
from engagement.services.webhooks.client import TOTAL_SECONDS, Request, WebhookClient
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
    with _Marks(uow.session_factory.kw["bind"]) as marks:
        for start in range(0, len(ids), CLAIM_CHUNK):
            if stopping():
                report.handed_back += list(ids[start:])
                break
            _send_chunk(uow, sender, marks, list(ids[start : start + CLAIM_CHUNK]), report, stopping)
    return report


class _Marks:
    """Autocommitted connections that record outcomes, one per sending thread, so the marks of
    requests answered at once go to the database side by side instead of queueing behind one.

    On PostgreSQL without waiting for the disk flush, as mail's marks do
    (engagement/services/delivery/sending.py): a mark is visible at once, so a killed worker
    loses nothing; only a crash of the database server itself could forget the last moments'
    marks (those rows would go again, with the same webhook-id). Waiting for the flush on
    every delivery caps a fan-out near a hundred a second.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._local = threading.local()
        self._opened: list[sa.Connection] = []
        self._cursors: list[Any] = []
        self._lock = threading.Lock()
        self._sent = _SentStatement(engine.dialect)

    def __enter__(self) -> _Marks:
        return self

    def __exit__(self, *exc: object) -> None:
        for cursor in self._cursors:
            with contextlib.suppress(Exception):  # a broken connection is thrown away below
                cursor.close()
        for connection in self._opened:
            with contextlib.suppress(sa.exc.DBAPIError):
                if self._engine.dialect.name == "postgresql" and not connection.invalidated:
                    connection.exec_driver_sql("RESET synchronous_commit")
            connection.close()

    def sent(self, delivery_id: int, status: int | None, now: datetime) -> None:
        """The hot path's mark, on the thread's own driver cursor: SQLAlchemy's per-statement work
        costs as much as the round trip, and a fan-out makes one per endpoint."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            with self._lock:
                self._cursors.append(cursor)
        sql, params = self._sent.bind(delivery_id, status, now)
        dbapi_error = self._engine.dialect.loaded_dbapi.Error
        try:
            cursor.execute(sql, params)
        except dbapi_error as exc:  # the same wrapped error as any statement run through SQLAlchemy
            raise sa.exc.DBAPIError.instance(sql, params, exc, dbapi_error) from exc

    def connection(self) -> sa.Connection:
        found: sa.Connection | None = getattr(self._local, "connection", None)
        if found is None:
            found = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if self._engine.dialect.name == "postgresql":
                found.exec_driver_sql("SET synchronous_commit TO OFF")
            self._local.connection = found
            with self._lock:
                self._opened.append(found)
        return found


class _SentStatement:
    """The "sent" mark compiled once for the dialect: its SQL and a way to bind its values."""

    def __init__(self, dialect: sa.Dialect) -> None:
        table = WebhookDelivery.__table__
        stmt = (
            sa.update(table)  # type: ignore[arg-type]
            .where(table.c.id == sa.bindparam("d"), table.c.status == SENDING)
            .values(
                status=SENT, sent_at=sa.bindparam("at"), response_status=sa.bindparam("s"), last_error=None
            )
        )
        self._compiled = stmt.compile(dialect=dialect)
        self._positions = self._compiled.positiontup
        self._to_db = table.c.sent_at.type.dialect_impl(dialect).bind_processor(dialect)

    def bind(self, delivery_id: int, status: int | None, now: datetime) -> tuple[str, Any]:
        at = self._to_db(now) if self._to_db is not None else now
        values = self._compiled.construct_params({"d": delivery_id, "at": at, "s": status})
        if self._positions is None:
            return self._compiled.string, values
        return self._compiled.string, tuple(values[name] for name in self._positions)


@dataclass(frozen=True)
class _Verdict:
    """What became of one attempt, as recorded: sent, retry (when due) or failed (why)."""

    kind: str
    due: datetime | None = None
    error: str | None = None


def _deliver(marks: _Marks, sender: WebhookSender, row: Claimed, clock: Callable[[], datetime]) -> _Verdict:
    """Send one delivery and record its outcome at once (on the sending thread)."""
    secret = row.secret if row.format == "standard" else None
    outcome = sender.client.send(Request(row.url, row.message_id, row.body, secret))
    connection, now = marks.connection(), clock()
    if outcome.kind == "sent":
        marks.sent(row.id, outcome.status, now)
        return _Verdict("sent")
    if outcome.kind == "retry" and row.attempts < sender.settings.webhook_max_attempts:
        due = now + timedelta(seconds=sender.delay(row.attempts, outcome.retry_after))
        finish(connection, row.id, status=PENDING, next_attempt_at=due, response_status=outcome.status,
               last_error=outcome.error)  # fmt: skip
        return _Verdict("retry", due=due)
    error = outcome.error or "failed"
    if outcome.kind == "retry":
        error = f"gave up after {row.attempts} attempts: {error}"
    finish(connection, row.id, status=FAILED, response_status=outcome.status, last_error=error[:2000])
    return _Verdict("failed", error=error)


def _send_chunk(
    uow: UnitOfWork,
    sender: WebhookSender,
    marks: _Marks,
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
    futures: dict[Future[_Verdict], Claimed] = {}
    for row in claimed:
        if not row.enabled:
            finish(marks.connection(), row.id, status=FAILED, last_error="endpoint disabled")
            report.failed += 1
            continue
        futures[sender.pool.submit(_deliver, marks, sender, row, uow.clock)] = row
    lease_until = uow.clock() + timedelta(seconds=lease)
    # Each finished request lands in one queue: waiting costs the same however many are left
    # (concurrent.futures.wait would watch every pending future again after each completion).
    finished: queue.SimpleQueue[Future[_Verdict]] = queue.SimpleQueue()
    for future in futures:
        future.add_done_callback(finished.put)
    waiting = set(futures)
    while waiting:
        try:
            future = finished.get(timeout=WAIT_STEP_SECONDS)
        except queue.Empty:
            pass
        else:
            waiting.discard(future)
            if not future.cancelled():
                _count(futures[future], future.result(), report, results)
        if stopping() and waiting:
            waiting = _hand_back(uow, waiting, futures, report)
        if waiting and uow.clock() > lease_until - timedelta(seconds=lease / 2):
            lease_until = uow.clock() + timedelta(seconds=lease)  # slow receivers: keep the rest ours
            _extend(marks.connection(), [futures[f].id for f in waiting], lease_until)
    if results:
        with uow:
            report.mails += update_streaks(uow.session, rows, results, uow.now(), sender.settings)
            uow.commit()


def _hand_back(
    uow: UnitOfWork,
    waiting: set[Future[_Verdict]],
    futures: dict[Future[_Verdict], Claimed],
    report: WebhookReport,
) -> set[Future[_Verdict]]:
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


def _count(row: Claimed, verdict: _Verdict, report: WebhookReport, results: dict[int, bool]) -> None:
    """One delivery's outcome in the batch's report and the metrics (the event type, never the URL)."""
    instruments().webhook_deliveries.labels(row.event_type, verdict.kind).inc()
    if verdict.kind == "sent":
        report.sent += 1
        results[row.id] = True
    elif verdict.kind == "retry" and verdict.due is not None:
        report.retry(row.id, verdict.due)
    else:
        log.info("webhook.failed", delivery_id=row.id, endpoint_id=row.endpoint_id, error=verdict.error)
        report.failed += 1
        results[row.id] = False


def _extend(connection: sa.Connection, ids: list[int], until: datetime) -> None:
    table = WebhookDelivery.__table__
    connection.execute(
        sa.update(table).where(table.c.id.in_(ids), table.c.status == SENDING).values(next_attempt_at=until)  # type: ignore[arg-type]
    )
