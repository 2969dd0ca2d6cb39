"""Webhook delivery rows: claimed with a lease, finished once by their holder, listed and retried.

The same discipline as mail's rows (engagement/services/delivery/deliveries.py): a claim is
one conditional UPDATE, so of two senders handed the same ids each row goes to one; a claim
whose lease ran out belongs to a dead sender and is taken over by the resume sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import starmap
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement import validation as check
from engagement.db import among
from engagement.errors import InvalidInput
from engagement.models import Site, WebhookDelivery, WebhookEndpoint
from engagement.services.delivery.deliveries import due_rows
from engagement.services.sites import get_site
from engagement.uow import UnitOfWork

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STATUSES = (PENDING, SENDING, SENT, FAILED)


@dataclass(frozen=True)
class Claimed:
    """A claimed row with what its send needs from the endpoint, read in the claim's transaction."""

    id: int
    endpoint_id: int
    attempts: int
    message_id: str
    event_type: str
    body: str
    url: str
    secret: str
    format: str
    enabled: bool


def claim(session: Session, ids: Sequence[int], now: datetime, lease_seconds: float) -> list[Claimed]:
    """Take the due rows among ``ids`` (never commits); the others are left alone."""
    if not ids:
        return []
    table = WebhookDelivery.__table__
    dialect = session.get_bind().dialect
    stmt = (
        sa.update(table)  # type: ignore[arg-type]
        .where(
            among(dialect, table.c.id, ids),
            table.c.status.in_((PENDING, SENDING)),
            table.c.next_attempt_at <= now,
        )
        .values(
            status=SENDING,
            attempts=table.c.attempts + 1,
            next_attempt_at=now + timedelta(seconds=lease_seconds),
        )
        .returning(table.c.id)
    )
    claimed = list(session.execute(stmt).scalars())
    if not claimed:
        return []
    rows = session.execute(
        sa.select(
            WebhookDelivery.id,
            WebhookDelivery.endpoint_id,
            WebhookDelivery.attempts,
            WebhookDelivery.message_id,
            WebhookDelivery.event_type,
            WebhookDelivery.body,
            WebhookEndpoint.url,
            WebhookEndpoint.secret,
            WebhookEndpoint.format,
            WebhookEndpoint.enabled,
        )
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(among(dialect, WebhookDelivery.id, claimed))
        .order_by(WebhookDelivery.id)
    )
    return list(starmap(Claimed, rows))  # the columns in the fields' order: no mapping per row


def finish(session: Session | sa.Connection, delivery_id: int, **values: Any) -> None:
    # Only the holder of the claim finishes a row: a duplicate sender never overwrites "sent".
    table = WebhookDelivery.__table__
    session.execute(
        sa.update(table).where(table.c.id == delivery_id, table.c.status == SENDING).values(**values)  # type: ignore[arg-type]
    )


def release(session: Session, ids: Sequence[int], now: datetime) -> None:
    """Give back rows claimed but not sent (the sender is stopping): due again at once, attempt uncounted."""
    if ids:
        table = WebhookDelivery.__table__
        session.execute(
            sa.update(table)  # type: ignore[arg-type]
            .where(among(session.get_bind().dialect, table.c.id, ids), table.c.status == SENDING)
            .values(status=PENDING, attempts=table.c.attempts - 1, next_attempt_at=now)
        )


def due_webhooks(uow: UnitOfWork, *, grace_seconds: float, limit: int = 1000) -> list[int]:
    """Rows no task carries: claims past their lease, pending rows due longer than ``grace_seconds``."""
    return due_rows(uow, WebhookDelivery, grace_seconds=grace_seconds, limit=limit)


@dataclass(frozen=True)
class WebhookDeliveryView:
    """One row as an owner sees it."""

    id: int
    endpoint_id: int
    event_type: str
    message_id: str
    status: str
    attempts: int
    response_status: int | None
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None


def list_webhook_deliveries(
    uow: UnitOfWork,
    *,
    site: str | None = None,
    endpoint_id: int | None = None,
    status: str | None = None,
    limit: int = 50,
    site_ids: Sequence[int] | None = None,
) -> list[WebhookDeliveryView]:
    """The latest deliveries, newest first: of a site, an endpoint or a status (``failed``: to look at)."""
    if status is not None:
        check.one_of("status", status, STATUSES)
    limit = check.integer("limit", limit, minimum=1, maximum=10_000)
    with uow:
        stmt = (
            sa.select(WebhookDelivery)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
        if site is not None:
            stmt = stmt.where(WebhookEndpoint.site_id == get_site(uow.session, site).id)
        if site_ids is not None:
            stmt = stmt.where(WebhookEndpoint.site_id.in_(list(site_ids)))
        if endpoint_id is not None:
            stmt = stmt.where(WebhookDelivery.endpoint_id == endpoint_id)
        if status is not None:
            stmt = stmt.where(WebhookDelivery.status == status)
        return [
            WebhookDeliveryView(
                d.id,
                d.endpoint_id,
                d.event_type,
                d.message_id,
                d.status,
                d.attempts,
                d.response_status,
                d.last_error,
                d.created_at,
                d.next_attempt_at,
                d.sent_at,
            )
            for d in uow.session.scalars(stmt)
        ]


def retry_failed_webhooks(
    uow: UnitOfWork,
    *,
    ids: Sequence[int] | None = None,
    site: str | None = None,
    endpoint_id: int | None = None,
) -> list[int]:
    """Failed deliveries (all, or those ``ids``, of a site or an endpoint) back to pending, due now."""
    if ids is not None and (not ids or not all(isinstance(i, int) and i > 0 for i in ids)):
        raise InvalidInput("ids", "give delivery ids, or none for every failed delivery")
    with uow:
        stmt = sa.select(WebhookDelivery.id).where(WebhookDelivery.status == FAILED)
        if ids is not None:
            stmt = stmt.where(WebhookDelivery.id.in_(list(ids)))
        if endpoint_id is not None:
            stmt = stmt.where(WebhookDelivery.endpoint_id == endpoint_id)
        if site is not None:
            site_id = get_site(uow.session, site).id
            stmt = stmt.where(
                WebhookDelivery.endpoint_id.in_(
                    sa.select(WebhookEndpoint.id).where(WebhookEndpoint.site_id == site_id)
                )
            )
        chosen = list(uow.session.scalars(stmt))
        if chosen:
            uow.session.execute(
                sa.update(WebhookDelivery)
                .where(WebhookDelivery.id.in_(chosen), WebhookDelivery.status == FAILED)
                .values(status=PENDING, attempts=0, last_error=None, next_attempt_at=uow.now()),
                execution_options={"synchronize_session": False},
            )
        uow.commit()
        return sorted(chosen)


def site_keys(session: Session, site_ids: Sequence[int]) -> dict[int, str]:
    return dict(session.execute(sa.select(Site.id, Site.key).where(Site.id.in_(list(site_ids)))).all())


def prune_webhook_batch(uow: UnitOfWork, cutoff: datetime, batch: int) -> int:
    """Remove up to ``batch`` sent or failed webhook deliveries created and last tried before ``cutoff``.

    Safe as mail's retention is (engagement/services/delivery/retention.py): a key names an
    event and an endpoint, and is written only while that event is relayed, never again.
    """
    finished = sa.and_(
        WebhookDelivery.status.in_((SENT, FAILED)),
        WebhookDelivery.created_at < cutoff,
        WebhookDelivery.next_attempt_at < cutoff,
    )
    with uow:
        ids = list(
            uow.session.scalars(
                sa.select(WebhookDelivery.id).where(finished).order_by(WebhookDelivery.id).limit(batch)
            )
        )
        if not ids:
            return 0
        result = uow.session.execute(
            sa.delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids), finished),
            execution_options={"synchronize_session": False},
        )
        uow.commit()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
