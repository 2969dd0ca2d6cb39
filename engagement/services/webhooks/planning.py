"""Planning: in the relay's transaction, one delivery row per event and matching endpoint, body included.

The body is built here, once per event and format, so every attempt sends the same bytes; the
rows are written by one INSERT … SELECT per format (keys and ids made by the database); the
unique key (event, endpoint) makes a second relay of the same event plan nothing new.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement.db import dialect_insert
from engagement.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from engagement.services.webhooks.bodies import WEBHOOK_EVENTS, chat_body, event_data, standard_body

PENDING = "pending"
CHUNK = 1000  # endpoints per statement: well under any database's limit on parameters


def key_prefix(event_id: int) -> str:
    return f"webhook:{event_id}:"


def id_prefix(event_id: int) -> str:
    return f"msg_{event_id}_"


def delivery_key(event_id: int, endpoint_id: int) -> str:
    return key_prefix(event_id) + str(endpoint_id)


def message_id(event_id: int, endpoint_id: int) -> str:
    """The ``webhook-id``: one per event and endpoint, the same on every attempt."""
    return id_prefix(event_id) + str(endpoint_id)


def plan_webhooks(session: Session, event: OutboxEvent, now: datetime) -> list[int]:
    """Write the event's deliveries to the site's enabled endpoints that asked for it (never commits)."""
    if event.kind not in WEBHOOK_EVENTS:
        return []
    found = event_data(session, event)
    if found is None:
        return []  # what the event was about is gone (erased): nothing to tell
    site_id, data = found
    by_format: dict[str, list[int]] = {}
    endpoints = sa.select(WebhookEndpoint.id, WebhookEndpoint.format, WebhookEndpoint.events).where(
        WebhookEndpoint.site_id == site_id, WebhookEndpoint.enabled
    )
    for endpoint_id, fmt, events in session.execute(endpoints):
        if event.kind in events:
            by_format.setdefault(fmt, []).append(endpoint_id)
    ids: list[int] = []
    for fmt, endpoint_ids in by_format.items():
        body = (
            standard_body(event.kind, event.created_at, data)
            if fmt == "standard"
            else chat_body(fmt, event.kind, data)
        )
        for start in range(0, len(endpoint_ids), CHUNK):
            ids += _insert(session, event, body, endpoint_ids[start : start + CHUNK], now)
    return sorted(ids)


def _insert(
    session: Session, event: OutboxEvent, body: str, endpoint_ids: list[int], now: datetime
) -> list[int]:
    """One row per endpoint, written by the database in one statement (keys and ids made there):
    the rows' ids, those planned before included."""
    table, endpoint = WebhookDelivery.__table__, WebhookEndpoint.__table__
    stamp = sa.bindparam("now", now, type_=table.c.created_at.type)
    endpoint_id = sa.cast(endpoint.c.id, sa.String)
    rows = sa.select(
        sa.literal(key_prefix(event.id)) + endpoint_id,
        endpoint.c.id,
        sa.literal(event.kind),
        sa.literal(id_prefix(event.id)) + endpoint_id,
        sa.literal(body, sa.Text),
        sa.literal(PENDING),
        sa.literal(0),
        stamp,
        stamp,
    ).where(endpoint.c.id.in_(endpoint_ids))
    columns = ["idempotency_key", "endpoint_id", "event_type", "message_id", "body", "status", "attempts",
               "created_at", "next_attempt_at"]  # fmt: skip
    stmt = (
        dialect_insert(session, table)  # type: ignore[arg-type]
        .from_select(columns, rows)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table.c.id)
    )
    ids = list(session.scalars(stmt))
    if len(ids) < len(endpoint_ids):  # planned already (a relay run again): their rows, as they are
        keys = [delivery_key(event.id, e) for e in endpoint_ids]
        ids = list(
            session.scalars(sa.select(WebhookDelivery.id).where(WebhookDelivery.idempotency_key.in_(keys)))
        )
    return ids
