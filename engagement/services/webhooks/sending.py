"""Send a batch of webhook deliveries, many at a time from one event loop, outcomes recorded in batches.

Per chunk: claim the due rows (committed), post them from the client's event loop (the
sender's concurrency in flight), and, on the calling thread, write the answers that came
back within a few milliseconds of each other in one transaction, again and again until the
chunk is done.

What a kill can cost (the issue's "at most one duplicate per kill, each carrying the same
webhook-id"): a sender killed at any point leaves every row either recorded or still
"sending" under its lease, which the resume sweep takes over once it runs out; such a row
is then sent once more, with the same ``webhook-id``. So each delivery reaches its receiver
at most once more per kill. Which deliveries: those in flight at the kill (at most the
concurrency) and those answered but not yet written: answered in the last
``GATHER_SECONDS`` (10 ms) or during the write under way (one round trip) — a few dozen at
a few thousand a second, never a whole chunk. A longer window would save little more (a
write of 30 rows costs about what a write of 5 does) and widen that set. Endpoint streaks
(deliveries given up in a row) are kept per chunk; past the limit an endpoint is disabled
and its owners get one mail.
"""

from __future__ import annotations

import asyncio
import os
import queue
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
import structlog

from engagement.config import Settings
from engagement.metrics import instruments
from engagement.models import WebhookDelivery
from engagement.services.webhooks.addresses import AddressGuard
from engagement.services.webhooks.client import TOTAL_SECONDS, Outcome, Request, WebhookClient
from engagement.services.webhooks.deliveries import FAILED, PENDING, SENDING, Claimed, claim, release
from engagement.services.webhooks.disabling import update_streaks
from engagement.services.webhooks.recording import Marks
from engagement.uow import UnitOfWork

log = structlog.get_logger(__name__)
CLAIM_CHUNK = 200
MAX_RETRY_DELAY_SECONDS = 6 * 3600
WAIT_STEP_SECONDS = 0.2  # how often a waiting sender looks at the stop flag and its lease
# Answers are written together when they come within GATHER_SECONDS of the first: a write
# costs about as much for one row as for twenty. It is also what a kill can leave unwritten.
GATHER_SECONDS, GATHER_STEP_SECONDS = 0.01, 0.002
_jitter = random.SystemRandom()
Answered = tuple[Claimed, Outcome]


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
    """What a worker process keeps for its webhook sends: the settings and the client (its loop, its pool)."""

    def __init__(
        self, settings: Settings, *, guard: AddressGuard | None = None, total_seconds: float = TOTAL_SECONDS
    ) -> None:
        self.settings = settings
        self.guard = guard or AddressGuard(allow_private=settings.webhooks_allow_private)
        connections = settings.webhook_concurrency * 2
        self.client = WebhookClient(self.guard, connections=connections, total_seconds=total_seconds)
        self.pid = os.getpid()  # a forked pool child makes its own: threads and sockets do not survive a fork

    def close(self) -> None:
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
    with Marks(uow.session_factory.kw["bind"]) as marks:
        for start in range(0, len(ids), CLAIM_CHUNK):
            if stopping():
                report.handed_back += list(ids[start:])
                break
            _send_chunk(uow, sender, marks, list(ids[start : start + CLAIM_CHUNK]), report, stopping)
    return report


@dataclass(frozen=True)
class _Verdict:
    """What became of one attempt, as recorded: sent, retry (when due) or failed (why)."""

    kind: str
    due: datetime | None = None
    error: str | None = None


def _record(marks: Marks, sender: WebhookSender, row: Claimed, outcome: Outcome, now: datetime) -> _Verdict:
    """One outcome among the marks (written at their next commit)."""
    if outcome.kind == "sent":
        marks.sent(row.id, outcome.status, now)
        return _Verdict("sent")
    if outcome.kind == "retry" and row.attempts < sender.settings.webhook_max_attempts:
        due = now + timedelta(seconds=sender.delay(row.attempts, outcome.retry_after))
        marks.finish(row.id, status=PENDING, next_attempt_at=due, response_status=outcome.status,
                     last_error=outcome.error)  # fmt: skip
        return _Verdict("retry", due=due)
    error = outcome.error or "failed"
    if outcome.kind == "retry":
        error = f"gave up after {row.attempts} attempts: {error}"
    marks.finish(row.id, status=FAILED, response_status=outcome.status, last_error=error[:2000])
    return _Verdict("failed", error=error)


async def _post_all(
    client: WebhookClient,
    rows: list[Claimed],
    concurrency: int,
    answered: queue.SimpleQueue[Answered],
    halt: threading.Event,
) -> list[Claimed]:
    """Post ``rows``, ``concurrency`` at a time, each answer queued as it comes; once ``halt`` is
    set no new request starts. The rows never started are returned."""
    waiting: Iterator[Claimed] = iter(rows)
    untouched: list[Claimed] = []

    async def one_after_another() -> None:
        for row in waiting:  # shared by the workers: each row is taken by one
            if halt.is_set():
                untouched.append(row)
                continue
            secret = row.secret if row.format == "standard" else None
            try:
                outcome = await client.send(Request(row.url, row.message_id, row.body, secret))
            except Exception as exc:  # a fault of ours or the library's: recorded and retried, never lost
                log.exception("webhook.send_failed", delivery_id=row.id)
                outcome = Outcome("retry", error=f"{type(exc).__name__}: {exc}"[:500])
            answered.put((row, outcome))

    await asyncio.gather(*(one_after_another() for _ in range(min(concurrency, len(rows)))))
    return untouched


def _send_chunk(
    uow: UnitOfWork,
    sender: WebhookSender,
    marks: Marks,
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
    for row in claimed:
        if not row.enabled:
            marks.finish(row.id, status=FAILED, last_error="endpoint disabled")
            report.failed += 1
    marks.commit()
    unfinished = {c.id: c for c in claimed if c.enabled}
    answered: queue.SimpleQueue[Answered] = queue.SimpleQueue()
    halt = threading.Event()
    posting = sender.client.run(
        _post_all(
            sender.client, list(unfinished.values()), sender.settings.webhook_concurrency, answered, halt
        )
    )
    lease_until = uow.clock() + timedelta(seconds=lease)
    while unfinished:
        batch = _gather(answered, len(unfinished))
        if batch:
            now = uow.clock()
            verdicts = [(row, _record(marks, sender, row, outcome, now)) for row, outcome in batch]
            marks.commit()
            for row, _ in verdicts:
                del unfinished[row.id]
            _count(verdicts, report, results)
        if stopping() and not halt.is_set():
            halt.set()  # requests in flight finish; the rest go back
        if posting.done() and answered.empty():
            _hand_back(uow, [row.id for row in posting.result()], report)
            break
        if unfinished and uow.clock() > lease_until - timedelta(seconds=lease / 2):
            lease_until = uow.clock() + timedelta(seconds=lease)  # slow receivers: keep the rest ours
            _extend(marks, list(unfinished), lease_until)
    if results:
        with uow:
            report.mails += update_streaks(uow.session, rows, results, uow.now(), sender.settings)
            uow.commit()


def _gather(answered: queue.SimpleQueue[Answered], expected: int) -> list[Answered]:
    """The answers for one write: once one is in, those that come within ``GATHER_SECONDS`` too
    (less when all ``expected`` are in), so a write carries tens of rows rather than one or two."""
    try:
        batch = [answered.get(timeout=WAIT_STEP_SECONDS)]
    except queue.Empty:
        return []
    deadline = time.monotonic() + GATHER_SECONDS
    while answered.qsize() + 1 < expected and time.monotonic() < deadline:
        time.sleep(GATHER_STEP_SECONDS)  # a few looks, not a wake-up per answer
    while True:
        try:
            batch.append(answered.get_nowait())
        except queue.Empty:
            return batch


def _hand_back(uow: UnitOfWork, ids: list[int], report: WebhookReport) -> None:
    """Rows claimed but never started go back, due at once."""
    if ids:
        with uow:
            release(uow.session, ids, uow.now())
            uow.commit()
        report.handed_back += ids
        log.info("webhook.handed_back", count=len(ids))


def _count(verdicts: list[tuple[Claimed, _Verdict]], report: WebhookReport, results: dict[int, bool]) -> None:
    """Outcomes in the batch's report and the metrics (the event type, never the URL)."""
    for row, verdict in verdicts:
        if verdict.kind == "sent":
            report.sent += 1
            results[row.id] = True
        elif verdict.kind == "retry" and verdict.due is not None:
            report.retry(row.id, verdict.due)
        else:
            log.info("webhook.failed", delivery_id=row.id, endpoint_id=row.endpoint_id, error=verdict.error)
            report.failed += 1
            results[row.id] = False
    counter = instruments().webhook_deliveries
    for (event_type, kind), count in Counter((row.event_type, v.kind) for row, v in verdicts).items():
        counter.labels(event_type, kind).inc(count)


def _extend(marks: Marks, ids: list[int], until: datetime) -> None:
    table = WebhookDelivery.__table__
    marks.connection.execute(
        sa.update(table)  # type: ignore[arg-type]
        .where(marks.ids_in(table.c.id, ids), table.c.status == SENDING)
        .values(next_attempt_at=until)
    )
    marks.commit()
