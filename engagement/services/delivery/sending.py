"""Send a batch of deliveries over one connection, each at most once, one bad recipient never blocking.

For each small chunk: claim the due rows (one conditional UPDATE, committed), compose them,
then per mail: wait for the rate gate, send, and commit its outcome at once, so that a worker
killed at any point leaves every row either sent or claimable again. The one window no
protocol closes (RFC 1047: the server accepted, the worker died before recording it) is
that of a single message; its Message-ID stays the same when it is sent again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
import structlog

from engagement.mail.mailer import Mailer, Outgoing, Skip
from engagement.mail.transport import Connection as SMTPConnection
from engagement.mail.transport import ConnectionLost, RecipientRefused, SendError
from engagement.metrics import instruments
from engagement.models import Delivery
from engagement.services.delivery.compose import compose
from engagement.services.delivery.deliveries import (
    RetryPolicy,
    SentStatement,
    claim_deliveries,
    extend_lease,
    mark_failed,
    mark_for_retry,
    mark_skipped,
    release_deliveries,
    suppress,
)
from engagement.uow import UnitOfWork

log = structlog.get_logger(__name__)
CLAIM_CHUNK = 200  # one claim (and one set of reads) per send task's batch
# Two connection failures in a row: the server is down; the rest of the chunk waits for a retry.
CONNECTION_FAILURES_TO_GIVE_UP = 2


@dataclass
class SendReport:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retry_at: datetime | None = None  # the earliest retry this batch scheduled
    retry_ids: list[int] = field(default_factory=list)
    handed_back: list[int] = field(default_factory=list)  # not sent because the sender is stopping

    def retry(self, delivery_id: int, due: datetime) -> None:
        self.retry_ids.append(delivery_id)
        self.retry_at = due if self.retry_at is None else min(self.retry_at, due)


def _never() -> bool:
    return False


def send_deliveries(
    uow: UnitOfWork, mailer: Mailer, ids: Sequence[int], *, stopping: Callable[[], bool] = _never
) -> SendReport:
    """Send those of ``ids`` that are due; sent, claimed or finished rows are left alone.

    Once ``stopping()`` turns true (the worker is shutting down), the mail on the wire is
    finished and the rest given back at once, due again: ``report.handed_back`` lists them
    for another worker, which need not wait for a lease to run out.
    """
    policy = RetryPolicy.from_settings(mailer.settings)
    report = SendReport()
    with mailer.transport.connect() as connection, uow, _sent_marks(uow) as marks:
        for start in range(0, len(ids), CLAIM_CHUNK):
            chunk = list(ids[start : start + CLAIM_CHUNK])
            if stopping():
                report.handed_back += list(ids[start:])  # not claimed: nothing to release
                break
            _send_chunk(uow, mailer, connection, marks, chunk, policy, report, stopping)
    return report


class _SentMarks:
    """Records "sent" on a connection of its own: one autocommitted, precompiled statement a mail.

    One round trip and no per-statement SQLAlchemy work, and on PostgreSQL without waiting
    for the disk flush: the mark is visible at once, so a killed worker loses nothing; only
    a crash of the database server itself could forget the last few hundred milliseconds of
    marks. Waiting for the flush, BEGIN and COMMIT on every mail would slow a large fan-out
    several times over.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self._postgres = engine.dialect.name == "postgresql"
        self._connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if self._postgres:
            self._connection.exec_driver_sql("SET synchronous_commit TO OFF")
        self._statement = SentStatement(engine.dialect)
        # The driver's own cursor: SQLAlchemy's per-execution work would double the mark's cost.
        self._cursor = self._connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    def mark(self, item: Outgoing, now: datetime) -> None:
        sql, params = self._statement.bind(item.delivery_id, item.message_id, item.template, now)
        try:
            self._cursor.execute(sql, params)
        except self._connection.dialect.loaded_dbapi.Error as exc:
            # The same wrapped error (and pool invalidation) as any statement run through SQLAlchemy.
            raise sa.exc.DBAPIError.instance(
                sql, params, exc, self._connection.dialect.loaded_dbapi.Error
            ) from exc

    def close(self) -> None:
        # A connection that broke meanwhile is thrown away by the pool; nothing to reset then.
        with contextlib.suppress(sa.exc.DBAPIError, self._connection.dialect.loaded_dbapi.Error):
            self._cursor.close()
            if self._postgres:
                self._connection.exec_driver_sql("RESET synchronous_commit")
        self._connection.close()


@contextmanager
def _sent_marks(uow: UnitOfWork) -> Iterator[_SentMarks]:
    engine = uow.session.get_bind()
    assert isinstance(engine, sa.Engine)
    marks = _SentMarks(engine)
    try:
        yield marks
    finally:
        marks.close()


def chunk_sender(
    new_uow: Callable[[], UnitOfWork],
    mailer: Mailer,
    *,
    stopping: Callable[[], bool] = _never,
    hand_back: Callable[[list[int]], None] | None = None,
) -> Callable[[list[int]], tuple[int, int]]:
    """Sends a digest run's chunk over one connection; (sent, skipped) for the run's record.

    What a stopping sender hands back goes to ``hand_back`` (another worker sends it).
    """

    def send(ids: list[int]) -> tuple[int, int]:
        report = send_deliveries(new_uow(), mailer, ids, stopping=stopping)
        if report.handed_back and hand_back is not None:
            hand_back(report.handed_back)
        return report.sent, report.skipped

    return send


def _send_chunk(
    uow: UnitOfWork,
    mailer: Mailer,
    connection: SMTPConnection,
    marks: _SentMarks,
    ids: list[int],
    policy: RetryPolicy,
    report: SendReport,
    stopping: Callable[[], bool],
) -> None:
    now = uow.now()
    claimed = claim_deliveries(uow.session, ids, now, policy.lease_seconds)
    uow.commit()
    if not claimed:
        return
    composed = compose(uow.session, mailer, claimed, now)
    rows = {d.id: d for d in claimed}
    lease_until = now + timedelta(seconds=policy.lease_seconds)
    lost_in_a_row = 0
    for index, item in enumerate(composed):
        if stopping():
            rest = [c.delivery_id for c in composed[index:]]
            release_deliveries(uow.session, rest, uow.now())
            uow.commit()
            report.handed_back += rest
            log.info("delivery.handed_back", count=len(rest))
            return
        if uow.now() > lease_until - timedelta(seconds=policy.lease_seconds / 2):
            # A slow server or a low rate: keep the rest of the chunk ours.
            lease_until = uow.now() + timedelta(seconds=policy.lease_seconds)
            extend_lease(uow.session, [c.delivery_id for c in composed[index:]], lease_until)
            uow.commit()
        if isinstance(item, Skip):
            mark_skipped(uow.session, item.delivery_id, item.reason)
            uow.commit()
            report.skipped += 1
            _count(rows[item.delivery_id].template, "skipped", skip_reason=item.reason)
            continue
        if lost_in_a_row >= CONNECTION_FAILURES_TO_GIVE_UP:
            _retry(uow, rows[item.delivery_id], "not tried: the SMTP server is unreachable", policy, report)
            continue
        lost = _send_one(uow, mailer, connection, marks, item, rows, policy, report)
        lost_in_a_row = lost_in_a_row + 1 if lost else 0


def _send_one(  # the outcome of each mail is committed before the next one leaves
    uow: UnitOfWork,
    mailer: Mailer,
    connection: SMTPConnection,
    marks: _SentMarks,
    item: Outgoing,
    rows: dict[int, Delivery],
    policy: RetryPolicy,
    report: SendReport,
) -> bool:
    """Send one mail and record the outcome; True when the connection was lost."""
    mailer.gate.wait()
    try:
        with instruments().smtp_send_duration.time():
            connection.send(item.sender, item.envelope_recipient, item.data)
    except RecipientRefused as exc:
        log.info("delivery.refused", delivery_id=item.delivery_id, error=str(exc))
        suppress(uow.session, item.recipient, reason="bounced", detail=str(exc), now=uow.now())
        mark_failed(uow.session, item.delivery_id, reason="refused", error=str(exc))
        report.failed += 1
        _count(item.template, "failed")
    except SendError as exc:
        if exc.permanent:
            mark_failed(uow.session, item.delivery_id, reason="rejected", error=str(exc))
            report.failed += 1
            _count(item.template, "failed")
        else:
            _retry(uow, rows[item.delivery_id], str(exc), policy, report, commit=False)
        uow.commit()
        return isinstance(exc, ConnectionLost)
    else:
        marks.mark(item, uow.now())
        report.sent += 1
        _count(item.template, "sent")
        return False
    uow.commit()
    return False


def _retry(
    uow: UnitOfWork,
    row: Delivery,
    error: str,
    policy: RetryPolicy,
    report: SendReport,
    *,
    commit: bool = True,
) -> None:
    due = mark_for_retry(uow.session, row, error=error, now=uow.now(), policy=policy)
    if due is None:
        report.failed += 1
    else:
        report.retry(row.id, due)
    _count(row.template, "failed" if due is None else "retry")
    if commit:
        uow.commit()


def _count(template: str, status: str, *, skip_reason: str | None = None) -> None:
    """One mail's outcome in the metrics (the template and status, never the recipient)."""
    metrics = instruments()
    metrics.deliveries.labels(template, status).inc()
    if skip_reason is not None:
        metrics.delivery_skips.labels(skip_reason).inc()
