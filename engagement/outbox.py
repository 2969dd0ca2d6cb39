"""The transactional outbox: event kinds, and the reads the relay makes of unrelayed events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement.models import OutboxEvent

COMMENT_PUBLISHED = "comment.published"
COMMENT_PENDING = "comment.pending"
CONFIRMATION_REQUESTED = "subscriber.confirmation_requested"
EVENT_KINDS = (COMMENT_PUBLISHED, COMMENT_PENDING, CONFIRMATION_REQUESTED)


def claim_unrelayed(
    session: Session, *, older_than: datetime | None = None, limit: int = 100
) -> Sequence[OutboxEvent]:
    """Lock up to ``limit`` unrelayed events that no other relay holds (SKIP LOCKED on PostgreSQL)."""
    stmt = sa.select(OutboxEvent).where(OutboxEvent.relayed_at.is_(None))
    if older_than is not None:
        stmt = stmt.where(OutboxEvent.created_at <= older_than)
    stmt = stmt.order_by(OutboxEvent.id).limit(limit).with_for_update(skip_locked=True)
    return session.scalars(stmt).all()
