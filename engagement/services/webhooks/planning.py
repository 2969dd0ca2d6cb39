"""Planning: in the relay's transaction, one delivery row per event and matching endpoint, body included.

The body is built here, once per event and format, so every attempt sends the same bytes; the
rows are written by one INSERT … SELECT per format (endpoints, keys and ids chosen and made by
the database); the unique key (event, endpoint) makes a second relay of the same event plan
nothing new.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement.db import dialect_insert
from engagement.models import OutboxEvent, WebhookDelivery, WebhookEndpoint
from engagement.services.webhooks.bodies import WEBHOOK_EVENTS, chat_body, event_data, standard_body

PENDING = "pending"


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
    # The endpoints are chosen by the database: a JSON list of event names holds this one,
    # quoted, when its text does (no name contains another's quoted form).
    listening = sa.and_(
        WebhookEndpoint.site_id == site_id,
        WebhookEndpoint.enabled,
        sa.cast(WebhookEndpoint.events, sa.Text).contains(f'"{event.kind}"', autoescape=True),
    )
    formats = (
        sa.select(WebhookEndpoint.format, sa.func.count()).where(listening).group_by(WebhookEndpoint.format)
    )
    ids: list[int] = []
    for fmt, count in session.execute(formats).all():
        body = (
            standard_body(event.kind, event.created_at, data)
            if fmt == "standard"
            else chat_body(fmt, event.kind, data)
        )
        ids += _insert(session, event, body, sa.and_(listening, WebhookEndpoint.format == fmt), count, now)
    return sorted(ids)


def _insert(
    session: Session,
    event: OutboxEvent,
    body: str,
    endpoints: sa.ColumnElement[bool],
    count: int,
    now: datetime,
) -> list[int]:
    """One row per endpoint chosen by ``endpoints`` (``count`` of them), written by the database in
    one statement, keys and ids made there: the rows' ids, those planned before included."""
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
    ).where(endpoints)
    columns = ["idempotency_key", "endpoint_id", "event_type", "message_id", "body", "status", "attempts",
               "created_at", "next_attempt_at"]  # fmt: skip
    stmt = (
        dialect_insert(session, table)  # type: ignore[arg-type]
        .from_select(columns, rows)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table.c.id)
    )
    ids = list(session.scalars(stmt))
    if len(ids) < count:  # planned already (a relay run again): their rows, as they are
        planned = (
            sa.select(WebhookDelivery.id)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                endpoints,
                WebhookDelivery.idempotency_key
                == sa.literal(key_prefix(event.id)) + sa.cast(WebhookDelivery.endpoint_id, sa.String),
            )
        )
        ids = list(session.scalars(planned))
    return ids
