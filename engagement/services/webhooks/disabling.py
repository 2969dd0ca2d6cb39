"""Endpoint streaks: deliveries given up in a row; past the limit the endpoint is off, owners told once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement.config import Settings
from engagement.db import among
from engagement.models import Admin, Site, WebhookEndpoint
from engagement.services.delivery.deliveries import NewDelivery, add_deliveries

WEBHOOK_DISABLED_TEMPLATE = "webhook_disabled"


class _Row(Protocol):
    @property
    def endpoint_id(self) -> int: ...


def update_streaks(
    session: Session, rows: Mapping[int, _Row], results: Mapping[int, bool], now: datetime, settings: Settings
) -> list[int]:
    """Apply a chunk's outcomes (delivery id → sent) to its endpoints (never commits); mail ids to send.

    A delivery sent resets its endpoint's streak; one given up adds to it. Done per chunk, in
    the chunk's order, with the endpoints locked: two senders never lose an increment.
    """
    by_endpoint: dict[int, list[bool]] = {}
    for delivery_id in sorted(results):
        by_endpoint.setdefault(rows[delivery_id].endpoint_id, []).append(results[delivery_id])
    # An endpoint whose last delivery here was sent ends at 0: read (and lock) it only when its
    # streak is not 0 already, so a fan-out whose deliveries all went through reads no endpoint.
    ends_sent = [e for e, outcomes in by_endpoint.items() if outcomes[-1]]
    others = [e for e, outcomes in by_endpoint.items() if not outcomes[-1]]
    dialect = session.get_bind().dialect
    endpoints = session.scalars(
        sa.select(WebhookEndpoint)
        .where(
            sa.or_(
                sa.and_(among(dialect, WebhookEndpoint.id, ends_sent), WebhookEndpoint.failure_streak != 0),
                among(dialect, WebhookEndpoint.id, others),
            )
        )
        .order_by(WebhookEndpoint.id)
        .with_for_update()
    ).all()
    mails: list[int] = []
    for endpoint in endpoints:
        streak = endpoint.failure_streak
        for sent in by_endpoint[endpoint.id]:
            streak = 0 if sent else streak + 1
        endpoint.failure_streak = streak
        if endpoint.enabled and streak >= settings.webhook_disable_after:
            mails += disable_for_failures(session, endpoint, now)
    return mails


def disable_for_failures(session: Session, endpoint: WebhookEndpoint, now: datetime) -> list[int]:
    """Turn the endpoint off and plan one mail to each owner (the site's moderators if it has none)."""
    endpoint.enabled = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = f"{endpoint.failure_streak} deliveries failed in a row"
    site = session.get(Site, endpoint.site_id)
    if site is None:
        return []
    owners = list(session.scalars(sa.select(Admin.email).where(Admin.role == "owner").order_by(Admin.id)))
    recipients = dict.fromkeys(str(e).lower() for e in (owners or site.moderator_emails))
    context: dict[str, Any] = {"endpoint_id": endpoint.id}
    stamp = now.strftime("%Y%m%dT%H%M%S")
    wanted = [
        NewDelivery(
            f"webhook-disabled:{endpoint.id}:{stamp}:{email}",
            email,
            WEBHOOK_DISABLED_TEMPLATE,
            site.id,
            context,
        )
        for email in recipients
    ]
    return list(add_deliveries(session, wanted, now).values())
