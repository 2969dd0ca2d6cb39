"""Planning: in the relay's transaction, one delivery row per event and matching endpoint, body included.

The body is built here, once per event and format, so every attempt sends the same bytes;
the unique key (event, endpoint) makes a second relay of the same event plan nothing new.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement.db import insert_many_ignoring_conflict
from engagement.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from engagement.services.webhooks.bodies import WEBHOOK_EVENTS, chat_body, event_data, standard_body

PENDING = "pending"


def delivery_key(event_id: int, endpoint_id: int) -> str:
    return f"webhook:{event_id}:{endpoint_id}"


def message_id(event_id: int, endpoint_id: int) -> str:
    """The ``webhook-id``: one per event and endpoint, the same on every attempt."""
    return f"msg_{event_id}_{endpoint_id}"


def plan_webhooks(session: Session, event: OutboxEvent, now: datetime) -> list[int]:
    """Write the event's deliveries to the site's enabled endpoints that asked for it (never commits)."""
    if event.kind not in WEBHOOK_EVENTS:
        return []
    found = event_data(session, event)
    if found is None:
        return []  # what the event was about is gone (erased): nothing to tell
    site_id, data = found
    endpoints = [
        e
        for e in session.scalars(
            sa.select(WebhookEndpoint).where(WebhookEndpoint.site_id == site_id, WebhookEndpoint.enabled)
        )
        if event.kind in e.events
    ]
    if not endpoints:
        return []
    bodies: dict[str, str] = {}
    rows = []
    for endpoint in endpoints:
        if endpoint.format not in bodies:
            bodies[endpoint.format] = (
                standard_body(event.kind, event.created_at, data)
                if endpoint.format == "standard"
                else chat_body(endpoint.format, event.kind, data)
            )
        rows.append(
            {
                "idempotency_key": delivery_key(event.id, endpoint.id),
                "endpoint_id": endpoint.id,
                "event_type": event.kind,
                "message_id": message_id(event.id, endpoint.id),
                "body": bodies[endpoint.format],
                "status": PENDING,
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
            }
        )
    table = WebhookDelivery.__table__
    insert_many_ignoring_conflict(session, table, rows, ["idempotency_key"])  # type: ignore[arg-type]
    keys = [row["idempotency_key"] for row in rows]
    ids: list[int] = []
    for start in range(0, len(keys), 500):
        stmt = sa.select(WebhookDelivery.id).where(
            WebhookDelivery.idempotency_key.in_(keys[start : start + 500])
        )
        ids += session.scalars(stmt)
    return sorted(ids)
