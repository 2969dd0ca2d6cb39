"""Retention: old finished deliveries with the notification items they announced, and old relayed events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement import validation as check
from engagement.config import MAX_RETENTION_DAYS, MIN_RETENTION_DAYS
from engagement.models import Delivery, NotificationItem, OutboxEvent
from engagement.services.delivery.deliveries import FAILED, SENT, SKIPPED
from engagement.services.webhooks.deliveries import prune_webhook_batch
from engagement.uow import UnitOfWork

FINISHED = (SENT, SKIPPED, FAILED)
PRUNE_BATCH = 1000

# Forgetting an idempotency key is safe once nothing can write that key again. Every path
# that writes one closes long before MIN_RETENTION_DAYS (14) have passed since it did:
# - ``confirm:``, ``moderate:`` and ``approved:`` keys name an outbox event and are written in
#   the transaction that marks the event relayed; a relayed event is never relayed again.
# - ``notify:<first item id>`` is written when a due window is flushed, which assigns the
#   window's items to it in the same transaction; only unassigned items form windows, and a
#   delivery's items are pruned with it, so no item is left to open a window again.
# - ``digest:<run>:<subscriber>``: a run is started or resumed only while its period is the
#   site's latest: for one period (a week at most) after the period ended, when the run began
#   writing its keys. A runner already holding the run finishes it within hours.
# Pending and sending rows are never pruned, and a row's age counts from its last attempt
# too, so a failed mail an operator retried lately stays retryable.
# A comment a moderator withdraws and publishes again after its items were pruned is
# announced again to its followers: a new publication, not a task or relay run twice.
# Outbox events go once relayed before the cutoff: a relayed event is never relayed again, and
# the keys made of its id stay unique because no id is ever handed out twice (AUTOINCREMENT
# on SQLite, sequences on PostgreSQL). Events not yet relayed stay, however old.
# Kept: digest runs (one row per site and period, and a digest not yet sent needs its run).


@dataclass(frozen=True)
class PruneReport:
    """How many rows a prune removed."""

    deliveries: int = 0
    notification_items: int = 0
    outbox_events: int = 0
    webhook_deliveries: int = 0


def prune_deliveries(uow: UnitOfWork, older_than_days: int, *, batch: int = PRUNE_BATCH) -> PruneReport:
    """Delete sent, skipped and failed deliveries older than ``older_than_days``, with their items,
    then the outbox events relayed before then.

    Each batch of ``batch`` deliveries is its own short transaction, so neither PostgreSQL's
    row locks nor SQLite's single writer are held for long. A second run, or two at once,
    removes nothing twice.
    """
    check.integer("older_than", older_than_days, minimum=MIN_RETENTION_DAYS, maximum=MAX_RETENTION_DAYS)
    check.integer("batch", batch, minimum=1, maximum=10_000)
    cutoff = uow.now() - timedelta(days=older_than_days)
    deliveries = items = 0
    while (removed := _prune_batch(uow, cutoff, batch)) is not None:
        deliveries, items = deliveries + removed[0], items + removed[1]
    webhooks = 0
    while removed_webhooks := prune_webhook_batch(uow, cutoff, batch):
        webhooks += removed_webhooks
    events = 0
    while removed_events := _prune_events(uow, cutoff, batch):
        events += removed_events
    return PruneReport(
        deliveries=deliveries, notification_items=items, outbox_events=events, webhook_deliveries=webhooks
    )


def _prune_batch(uow: UnitOfWork, cutoff: datetime, batch: int) -> tuple[int, int] | None:
    """Remove up to ``batch`` deliveries and their items; None once none is left to remove."""
    with uow:
        session = uow.session
        ids = list(
            session.scalars(
                sa.select(Delivery.id)
                .where(_prunable(cutoff))
                .order_by(Delivery.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            return None
        # The conditions again: PostgreSQL holds these rows locked, but on SQLite the read
        # came before this transaction took the writer lock, and an operator's retry may have
        # put a row back to pending since. Items first, only of the rows that still qualify.
        chosen = sa.and_(Delivery.id.in_(ids), _prunable(cutoff))
        in_chosen = NotificationItem.delivery_id.in_(sa.select(Delivery.id).where(chosen))
        items = _deleted(session, sa.delete(NotificationItem).where(in_chosen))
        deliveries = _deleted(session, sa.delete(Delivery).where(chosen))
        uow.commit()
        return deliveries, items


def _prune_events(uow: UnitOfWork, cutoff: datetime, batch: int) -> int:
    """Remove up to ``batch`` outbox events relayed before ``cutoff``; how many went."""
    with uow:
        relayed = sa.and_(OutboxEvent.relayed_at.is_not(None), OutboxEvent.relayed_at < cutoff)
        ids = list(
            uow.session.scalars(
                sa.select(OutboxEvent.id).where(relayed).order_by(OutboxEvent.id).limit(batch)
            )
        )
        if not ids:
            return 0
        removed = _deleted(uow.session, sa.delete(OutboxEvent).where(OutboxEvent.id.in_(ids), relayed))
        uow.commit()
        return removed


def _prunable(cutoff: datetime) -> sa.ColumnElement[bool]:
    """Finished before ``cutoff``: created, and last attempted, before it."""
    return sa.and_(
        Delivery.status.in_(FINISHED),
        Delivery.created_at < cutoff,
        sa.or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at < cutoff),
    )


def _deleted(session: Session, statement: sa.Delete) -> int:
    """How many rows a DELETE removed."""
    result = session.execute(statement, execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
