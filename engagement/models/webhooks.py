"""Webhook endpoints a site's owner registers, and one delivery row per event and endpoint."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engagement.models.base import Base, Timestamp, intpk

WEBHOOK_FORMATS = ("standard", "slack", "discord")


class WebhookEndpoint(Base):
    """A URL that receives a site's events, in one body format, signed with its own secret."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[intpk]
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    events: Mapped[list[Any]] = mapped_column(default=list)
    format: Mapped[str] = mapped_column(sa.String(16), default="standard")
    # whsec_<base64>: kept, not hashed, since every delivery is signed with it.
    secret: Mapped[str] = mapped_column(sa.String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(200))
    # Deliveries given up in a row; a sent one sets it back to 0.
    failure_streak: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[Timestamp]
    disabled_at: Mapped[Timestamp | None]


class WebhookDelivery(Base):
    """One event to one endpoint; written before the send, unique by ``idempotency_key``.

    It moves ``pending → sending → sent`` or ``failed``, as a mail's delivery row does;
    ``next_attempt_at`` is when it is due, or when a sending row's lease runs out.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.Index("ix_webhook_deliveries_status", "status", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[intpk]
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(sa.String(64))
    # The webhook-id header: the same on every attempt, so receivers drop a duplicate.
    message_id: Mapped[str] = mapped_column(sa.String(64))
    body: Mapped[str] = mapped_column(sa.Text)  # built once, when planned: every attempt sends the same
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    response_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[Timestamp]
    next_attempt_at: Mapped[Timestamp]
    sent_at: Mapped[Timestamp | None]
