"""Delivery bookkeeping: a row per mail written before the send, claimed atomically, marked once.

A delivery moves ``pending → sending → sent``, or to ``skipped`` (with the reason nobody got
it) or ``failed`` (with its last error). ``next_attempt_at`` says when a row may next be
claimed: for a pending row, when it is due; for a sending row, when its claim (lease) runs
out, after which another worker presumes the first one dead and takes it over.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session

from engagement import validation as check
from engagement.config import Settings
from engagement.db import insert_ignoring_conflict, insert_many_ignoring_conflict
from engagement.errors import InvalidInput
from engagement.models import Delivery, Suppression
from engagement.models.delivery import DELIVERY_STATUSES
from engagement.uow import UnitOfWork

PENDING, SENDING, SENT, FAILED, SKIPPED = DELIVERY_STATUSES
MAX_RETRY_DELAY_SECONDS = 6 * 3600
_jitter = random.SystemRandom()


@dataclass(frozen=True)
class NewDelivery:
    """A mail to write down before it is sent; ``key`` makes it unique forever."""

    key: str
    recipient: str
    template: str
    site_id: int | None
    context: dict[str, Any]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how late a mail that failed for a passing reason is tried again."""

    base_seconds: float
    max_attempts: int
    lease_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            base_seconds=settings.delivery_retry_seconds,
            max_attempts=settings.delivery_max_attempts,
            lease_seconds=settings.delivery_lease_seconds,
        )

    def delay(self, attempts: int) -> float:
        """Exponential backoff with jitter, so retries of a batch do not arrive all at once."""
        ceiling = min(self.base_seconds * 2.0 ** max(attempts - 1, 0), MAX_RETRY_DELAY_SECONDS)
        return ceiling / 2 + _jitter.uniform(0, ceiling / 2)


def add_deliveries(session: Session, rows: Sequence[NewDelivery], now: datetime) -> dict[str, int]:
    """Write the rows whose key is new (never commits); return every key's delivery id."""
    if not rows:
        return {}
    values = [
        {
            "idempotency_key": row.key,
            "site_id": row.site_id,
            "recipient": row.recipient,
            "template": row.template,
            "context": row.context,
            "status": PENDING,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        for row in rows
    ]
    insert_many_ignoring_conflict(session, Delivery.__table__, values, ["idempotency_key"])  # type: ignore[arg-type]
    ids: dict[str, int] = {}
    keys = [row.key for row in rows]
    for start in range(0, len(keys), 500):
        stmt = sa.select(Delivery.idempotency_key, Delivery.id).where(
            Delivery.idempotency_key.in_(keys[start : start + 500])
        )
        ids.update(dict(session.execute(stmt).all()))
    return ids


def claim_deliveries(
    session: Session, ids: Sequence[int], now: datetime, lease_seconds: float
) -> list[Delivery]:
    """Take the due rows among ``ids`` for sending (never commits); the others are left alone.

    One conditional UPDATE: of two workers handed the same ids at once, each row goes to
    exactly one (PostgreSQL re-checks the condition after the row lock; SQLite runs writers
    one at a time). A row sent already, or claimed by a live worker, is not due.
    """
    if not ids:
        return []
    stmt = (
        sa.update(Delivery)
        .where(
            Delivery.id.in_(list(ids)),
            Delivery.status.in_((PENDING, SENDING)),
            Delivery.next_attempt_at <= now,
        )
        .values(
            status=SENDING,
            attempts=Delivery.attempts + 1,
            next_attempt_at=now + timedelta(seconds=lease_seconds),
        )
        .returning(Delivery.id)
    )
    claimed = list(session.execute(stmt, execution_options={"synchronize_session": False}).scalars())
    if not claimed:
        return []
    rows = session.scalars(sa.select(Delivery).where(Delivery.id.in_(claimed)).order_by(Delivery.id)).all()
    return list(rows)


def extend_lease(session: Session, ids: Sequence[int], until: datetime) -> None:
    """Keep rows this worker still holds from being taken over during a long batch."""
    if ids:
        session.execute(
            sa.update(Delivery)
            .where(Delivery.id.in_(list(ids)), Delivery.status == SENDING)
            .values(next_attempt_at=until),
            execution_options={"synchronize_session": False},
        )


def mark_sent(
    session: Session | Connection, delivery_id: int, *, message_id: str, template: str, now: datetime
) -> None:
    _finish(
        session, delivery_id, status=SENT, sent_at=now, message_id=message_id, template=template, reason=None
    )


class SentStatement:
    """:func:`mark_sent` compiled once, for the hot path of a large fan-out.

    The same UPDATE, with its values converted by the columns' own types, handed to the
    driver directly: SQLAlchemy's per-statement work costs as much as the round trip.
    """

    def __init__(self, dialect: Dialect) -> None:
        table = Delivery.__table__
        stmt = (
            sa.update(table)  # type: ignore[arg-type]
            .where(table.c.id == sa.bindparam("d"), table.c.status == SENDING)
            .values(status=SENT, sent_at=sa.bindparam("at"), message_id=sa.bindparam("m"),
                    template=sa.bindparam("t"), reason=None)
        )  # fmt: skip
        self._compiled = stmt.compile(dialect=dialect)
        self.sql = self._compiled.string
        self._positions = self._compiled.positiontup
        self._to_db = table.c.sent_at.type.dialect_impl(dialect).bind_processor(dialect)

    def bind(self, delivery_id: int, message_id: str, template: str, now: datetime) -> tuple[str, Any]:
        """The SQL and its parameters in the driver's own style (named or positional)."""
        at = self._to_db(now) if self._to_db is not None else now
        values = self._compiled.construct_params({"d": delivery_id, "at": at, "m": message_id, "t": template})
        if self._positions is None:
            return self.sql, values
        return self.sql, tuple(values[name] for name in self._positions)


def mark_skipped(session: Session, delivery_id: int, reason: str) -> None:
    """Record why a mail was not sent (deleted, unsubscribed, suppressed, rate_limited, nothing new…)."""
    _finish(session, delivery_id, status=SKIPPED, reason=reason)


def mark_failed(session: Session, delivery_id: int, *, reason: str, error: str) -> None:
    _finish(session, delivery_id, status=FAILED, reason=reason, last_error=error[:2000])


def mark_for_retry(
    session: Session, delivery: Delivery, *, error: str, now: datetime, policy: RetryPolicy
) -> datetime | None:
    """Put a row back for a later attempt; None (and failed) once the attempts are used up."""
    if delivery.attempts >= policy.max_attempts:
        mark_failed(session, delivery.id, reason="too_many_attempts", error=error)
        return None
    due = now + timedelta(seconds=policy.delay(delivery.attempts))
    _finish(
        session, delivery.id, status=PENDING, reason="retrying", last_error=error[:2000], next_attempt_at=due
    )
    return due


@dataclass(frozen=True)
class SuppressionView:
    """Why an address gets no mail at all: no delivery is even written for it."""

    email: str
    reason: str
    detail: str
    created_at: datetime


def suppression_of(uow: UnitOfWork, email: str) -> SuppressionView | None:
    """The suppression of ``email``, if it has one (bounced, complained…)."""
    email = check.email("recipient", email)
    with uow:
        row = uow.session.scalars(sa.select(Suppression).where(Suppression.email == email)).first()
        if row is None:
            return None
        return SuppressionView(row.email, row.reason, row.detail or "", row.created_at)


def suppress(session: Session, email: str, *, reason: str, detail: str | None, now: datetime) -> None:
    """Never mail ``email`` again (hard bounce, complaint); idempotent."""
    insert_ignoring_conflict(
        session,
        Suppression.__table__,  # type: ignore[arg-type]
        {"email": email, "reason": reason, "detail": (detail or "")[:2000], "created_at": now},
        ["email"],
    )


def _finish(session: Session | Connection, delivery_id: int, **values: Any) -> None:
    # Only the holder of the claim may finish a row: a duplicate task never overwrites "sent".
    table = Delivery.__table__
    session.execute(
        sa.update(table).where(table.c.id == delivery_id, table.c.status == SENDING).values(**values)  # type: ignore[arg-type]
    )


def release_deliveries(session: Session, ids: Sequence[int], now: datetime) -> None:
    """Give back rows this worker claimed but will not send (it is stopping): due again at once.

    The attempt did not happen, so it is not counted; a row finished meanwhile is left alone.
    """
    if ids:
        session.execute(
            sa.update(Delivery)
            .where(Delivery.id.in_(list(ids)), Delivery.status == SENDING)
            .values(status=PENDING, attempts=Delivery.attempts - 1, next_attempt_at=now),
            execution_options={"synchronize_session": False},
        )


def due_deliveries(uow: UnitOfWork, *, grace_seconds: float, limit: int = 1000) -> list[int]:
    """Rows no task seems to be carrying: claims whose lease ran out, and pending rows due for
    longer than ``grace_seconds``.

    A claim past its lease belongs to a dead worker: it is taken over at once, the lease was
    its grace. A pending row's task was lost (broker restarted, worker killed) or its retry is
    due. The sweep hands them out again; a row whose task is merely queued is claimed once,
    and the other copy finds nothing to do.
    """
    return due_rows(uow, Delivery, grace_seconds=grace_seconds, limit=limit)


def due_rows(uow: UnitOfWork, model: Any, *, grace_seconds: float, limit: int = 1000) -> list[int]:
    """``due_deliveries`` for any table of claimed sends (``status``, ``next_attempt_at``, ``id``):
    mail's deliveries and webhooks' share the discipline, so they share the sweep's question."""
    with uow:
        now = uow.now()
        cutoff = now - timedelta(seconds=grace_seconds)
        stmt = (
            sa.select(model.id)
            .where(
                sa.or_(
                    sa.and_(model.status == SENDING, model.next_attempt_at <= now),
                    sa.and_(model.status == PENDING, model.next_attempt_at <= cutoff),
                )
            )
            .order_by(model.next_attempt_at, model.id)
            .limit(limit)
        )
        return list(uow.session.scalars(stmt))


@dataclass(frozen=True)
class DeliveryView:
    """One row as an operator sees it."""

    id: int
    recipient: str
    template: str
    status: str
    reason: str | None
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def list_deliveries(
    uow: UnitOfWork,
    *,
    status: str | None = None,
    recipient: str | None = None,
    template: str | None = None,
    limit: int = 50,
) -> list[DeliveryView]:
    """The latest deliveries, optionally of one status (``failed`` shows what needs a look) or
    to one address (why someone got no mail: each skipped one says why)."""
    if status is not None:
        check.one_of("status", status, DELIVERY_STATUSES)
    if recipient is not None:
        recipient = check.email("recipient", recipient)  # stored normalised: compared alike
    limit = check.integer("limit", limit, minimum=1, maximum=10_000)
    with uow:
        stmt = sa.select(Delivery).order_by(Delivery.id.desc()).limit(limit)
        if status is not None:
            stmt = stmt.where(Delivery.status == status)
        if recipient is not None:
            stmt = stmt.where(Delivery.recipient == recipient)
        if template:
            stmt = stmt.where(Delivery.template == template)
        return [
            DeliveryView(
                id=d.id,
                recipient=d.recipient,
                template=d.template,
                status=d.status,
                reason=d.reason,
                attempts=d.attempts,
                last_error=d.last_error,
                created_at=d.created_at,
                sent_at=d.sent_at,
            )
            for d in uow.session.scalars(stmt)
        ]


def retry_failed(uow: UnitOfWork, ids: Sequence[int] | None = None) -> list[int]:
    """An operator sends failed deliveries again (all of them, or those ``ids``): back to pending."""
    with uow:
        stmt = sa.update(Delivery).where(Delivery.status == FAILED)
        if ids is not None:
            if not ids or not all(isinstance(i, int) and i > 0 for i in ids):
                raise InvalidInput("ids", "give delivery ids, or none for every failed delivery")
            stmt = stmt.where(Delivery.id.in_(list(ids)))
        stmt = stmt.values(status=PENDING, attempts=0, reason=None, next_attempt_at=uow.now())
        reset = list(
            uow.session.execute(
                stmt.returning(Delivery.id), execution_options={"synchronize_session": False}
            ).scalars()
        )
        uow.commit()
        return sorted(reset)
