"""The outbox, one row per mail meant to leave (its key makes it leave once), suppressions."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.models.base import Base, Email, Timestamp, intpk

DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "skipped")


class OutboxEvent(Base):
    """A change that must cause mail, written in the same transaction as the change."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        sa.Index("ix_outbox_events_unrelayed", "relayed_at", "id"),
        # Relayed events are pruned, and delivery keys name their event by id (confirm:<id>):
        # a new event must never take a removed one's id.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[Timestamp]
    relayed_at: Mapped[Timestamp | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)


class Delivery(Base):
    """One mail to one recipient; written before the send, unique by ``idempotency_key``."""

    __tablename__ = "deliveries"
    __table_args__ = (
        sa.Index("ix_deliveries_status", "status", "next_attempt_at"),
        # Never reuse the id of a pruned or erased delivery: a signed bounce address names it.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[intpk]
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"))
    recipient: Mapped[Email] = mapped_column(index=True)
    template: Mapped[str] = mapped_column(sa.String(64))
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(sa.String(64))  # why it was skipped or failed
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    message_id: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[Timestamp]
    next_attempt_at: Mapped[Timestamp | None]
    sent_at: Mapped[Timestamp | None]


class Suppression(Base):
    """An address that bounced, complained or asked never to be mailed again."""

    __tablename__ = "suppressions"

    id: Mapped[intpk]
    email: Mapped[Email] = mapped_column(unique=True)
    reason: Mapped[str] = mapped_column(sa.String(64))
    detail: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[Timestamp]
