"""The transactional outbox: event kinds, and the reads the relay makes of unrelayed events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement.models import OutboxEvent

COMMENT_PUBLISHED = "comment.published"
COMMENT_PENDING = "comment.pending"
CONFIRMATION_REQUESTED = "subscriber.confirmation_requested"
# Events no mail follows; webhooks carry them (engagement/services/webhooks/).
COMMENT_REPORTED = "comment.reported"
COMMENT_REMOVED = "comment.removed"
SUBSCRIPTION_CONFIRMED = "subscription.confirmed"
EVENT_KINDS = (
    COMMENT_PUBLISHED,
    COMMENT_PENDING,
    CONFIRMATION_REQUESTED,
    COMMENT_REPORTED,
    COMMENT_REMOVED,
    SUBSCRIPTION_CONFIRMED,
)


def claim_unrelayed(
    session: Session, *, older_than: datetime | None = None, limit: int = 100
) -> Sequence[OutboxEvent]:
    """Lock up to ``limit`` unrelayed events that no other relay holds (SKIP LOCKED on PostgreSQL)."""
    stmt = sa.select(OutboxEvent).where(OutboxEvent.relayed_at.is_(None))
    if older_than is not None:
        stmt = stmt.where(OutboxEvent.created_at <= older_than)
    stmt = stmt.order_by(OutboxEvent.id).limit(limit).with_for_update(skip_locked=True)
    return session.scalars(stmt).all()


@dataclass(frozen=True)
class Backlog:
    """Events written but not yet relayed: how many, and when the oldest was written."""

    pending: int
    oldest: datetime | None

    def lag_seconds(self, now: datetime) -> float:
        """How long the oldest has waited; 0 when none waits."""
        return max(0.0, (now - self.oldest).total_seconds()) if self.oldest is not None else 0.0


def unrelayed_backlog(session: Session) -> Backlog:
    """One indexed read (``ix_outbox_events_unrelayed``) of what the relay has still to do."""
    waiting = OutboxEvent.relayed_at.is_(None)
    pending, oldest = session.execute(
        sa.select(sa.func.count(), sa.func.min(OutboxEvent.created_at)).where(waiting)
    ).one()
    return Backlog(int(pending), oldest)
