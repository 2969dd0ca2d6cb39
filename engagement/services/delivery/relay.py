"""The relay: turn committed outbox events into notification items, deliveries and webhooks, once each.

An event is handed to the broker right after its commit; if that hand-off is lost (broker
down, worker killed), the periodic sweep finds it still unrelayed and relays it. On
PostgreSQL each relay locks the events it takes with SKIP LOCKED, so parallel relays never
take the same one; on either database the unique keys of items and deliveries make a
second relay of one event add nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.orm import Session

from engagement.logs import REQUEST_ID
from engagement.models import Comment, OutboxEvent, Page, Site, Subscriber
from engagement.outbox import (
    COMMENT_PENDING,
    COMMENT_PUBLISHED,
    COMMENT_REMOVED,
    COMMENT_REPORTED,
    CONFIRMATION_REQUESTED,
    SUBSCRIPTION_CONFIRMED,
    claim_unrelayed,
)
from engagement.services.delivery.compose import APPROVED_TEMPLATE, CONFIRM_TEMPLATE, MODERATION_TEMPLATE
from engagement.services.delivery.deliveries import NewDelivery, add_deliveries
from engagement.services.delivery.notifications import flush_due_windows, plan_comment_notifications
from engagement.services.webhooks.planning import plan_webhooks
from engagement.uow import UnitOfWork

log = structlog.get_logger(__name__)
MAX_EVENT_ATTEMPTS = 10
# A comment's first recipients, planned and committed on their own so their mails can leave
# while the rest of a large fan-out is planned: one send batch.
FIRST_RECIPIENTS = 200


@dataclass
class RelayResult:
    """Deliveries to send now, and whether a notification window fell due."""

    relayed: int = 0
    deliveries: list[int] = field(default_factory=list)
    webhooks: list[int] = field(default_factory=list)  # webhook deliveries planned, to send
    notify_due: bool = False
    seen: int = 0  # events the sweep looked at (relayed or not)
    # The requests whose events these were: the tasks they cause log them (engagement/logs.py).
    request_ids: list[str] = field(default_factory=list)


def relay_events(
    uow: UnitOfWork,
    event_ids: Sequence[int],
    *,
    window_seconds: int,
    first_recipients_planned: Callable[[], None] | None = None,
) -> RelayResult:
    """Relay the given events, each in its own transaction; relayed or locked ones are skipped.

    One transaction per event keeps a bad event from holding up the others, without
    savepoints (which on SQLite would read before writing and fail under a concurrent writer).
    With windows due at once (``window_seconds`` 0), a comment with at least
    :data:`FIRST_RECIPIENTS` recipients has the first ones planned and committed on their own,
    then ``first_recipients_planned`` is called (the worker sends their due windows on their
    way), then the rest is planned with the event marked relayed.
    """
    result = RelayResult()
    for event_id in sorted(set(event_ids)):
        _relay_one(uow, event_id, window_seconds, result, first_recipients_planned)
    return result


def sweep_unrelayed(
    uow: UnitOfWork,
    *,
    older_than_seconds: float,
    window_seconds: int,
    limit: int = 200,
    first_recipients_planned: Callable[[], None] | None = None,
) -> RelayResult:
    """Relay events that waited longer than ``older_than_seconds`` (their hand-off was lost)."""
    with uow:
        cutoff = uow.now() - timedelta(seconds=older_than_seconds)
        ids = [event.id for event in claim_unrelayed(uow.session, older_than=cutoff, limit=limit)]
        uow.rollback()  # only the ids: each event is locked again, on its own, while relayed
    result = relay_events(
        uow, ids, window_seconds=window_seconds, first_recipients_planned=first_recipients_planned
    )
    result.seen = len(ids)
    return result


def flush_notifications(uow: UnitOfWork, *, limit: int = 1000) -> list[int]:
    """Turn due coalescing windows into deliveries (one chunk); their ids, to be sent."""
    with uow:
        ids = flush_due_windows(uow.session, now=uow.now(), limit=limit)
        uow.commit()
        return ids


def _relay_one(
    uow: UnitOfWork,
    event_id: int,
    window_seconds: int,
    result: RelayResult,
    first_recipients_planned: Callable[[], None] | None,
) -> None:
    after = 0
    if first_recipients_planned is not None and window_seconds == 0:  # windows due at once only
        after = _plan_first_recipients(uow, event_id, window_seconds)
        if after:
            first_recipients_planned()
    with uow:
        event = _locked_unrelayed(uow.session, event_id)
        if event is None:
            return  # relayed already, or another relay holds it right now
        now = uow.now()
        if event.attempts >= MAX_EVENT_ATTEMPTS:
            log.error("outbox.gave_up", event_id=event.id, kind=event.kind, error=event.last_error)
            event.relayed_at = now
            uow.commit()
            return
        found = RelayResult()
        request_id = event.payload.get(REQUEST_ID)
        try:
            _handle(uow.session, event, now, window_seconds, found, after)
            event.relayed_at = now
            uow.commit()
        except Exception as exc:
            log.exception("outbox.relay_failed", event_id=event_id)
            uow.rollback()
            error = f"{type(exc).__name__}: {exc}"[:2000]
            uow.session.execute(
                sa.update(OutboxEvent)
                .where(OutboxEvent.id == event_id)
                .values(attempts=OutboxEvent.attempts + 1, last_error=error)
            )
            uow.commit()
            return
    result.relayed += 1
    result.deliveries += found.deliveries
    result.webhooks += found.webhooks
    if isinstance(request_id, str) and request_id not in result.request_ids:
        result.request_ids.append(request_id)
    result.notify_due = result.notify_due or found.notify_due


def _locked_unrelayed(session: Session, event_id: int) -> OutboxEvent | None:
    stmt = (
        sa.select(OutboxEvent)
        .where(OutboxEvent.id == event_id, OutboxEvent.relayed_at.is_(None))
        .with_for_update(skip_locked=True)
    )
    return session.scalars(stmt).one_or_none()


def _plan_first_recipients(uow: UnitOfWork, event_id: int, window_seconds: int) -> int:
    """Plan and commit a published comment's first recipients, the event still unrelayed;
    the last recipient planned, or 0 when there was nothing to plan apart (or no such event).

    Should the relay stop after this commit, the event is relayed again from the start and
    the unique (subscriber, comment) items keep every recipient to one mail.
    """
    with uow:
        event = _locked_unrelayed(uow.session, event_id)
        if event is None or event.kind != COMMENT_PUBLISHED or event.attempts >= MAX_EVENT_ATTEMPTS:
            return 0
        try:
            planned = plan_comment_notifications(
                uow.session,
                int(event.payload["comment_id"]),
                now=uow.now(),
                published_at=event.created_at,
                window_seconds=window_seconds,
                limit=FIRST_RECIPIENTS,
            )
        except Exception:  # the relay proper records the error
            return 0
        if planned.last_recipient is None or not planned.due_now:
            return 0  # a small fan-out, or nothing to send yet: the relay proper does it all at once
        uow.commit()
        return planned.last_recipient


def _handle(
    session: Session,
    event: OutboxEvent,
    now: datetime,
    window_seconds: int,
    result: RelayResult,
    after_recipient: int = 0,
) -> None:
    payload = event.payload
    wanted: list[NewDelivery] = []
    if event.kind == COMMENT_PUBLISHED:
        planned = plan_comment_notifications(
            session,
            int(payload["comment_id"]),
            now=now,
            published_at=event.created_at,
            window_seconds=window_seconds,
            after_recipient=after_recipient,
        )
        result.notify_due = result.notify_due or planned.due_now
        if payload.get("after_moderation"):
            wanted += _approval_notice(session, event.id, int(payload["comment_id"]))
    elif event.kind == COMMENT_PENDING:
        wanted += _moderation_requests(session, event.id, int(payload["comment_id"]))
    elif event.kind == CONFIRMATION_REQUESTED:
        subscriber = session.get(Subscriber, int(payload["subscriber_id"]))
        if subscriber is not None and subscriber.confirmed_at is None:
            context = {"subscriber_id": subscriber.id}
            key = f"confirm:{event.id}"
            wanted.append(NewDelivery(key, subscriber.email, CONFIRM_TEMPLATE, subscriber.site_id, context))
    elif event.kind not in (COMMENT_REPORTED, COMMENT_REMOVED, SUBSCRIPTION_CONFIRMED):  # no mail for those
        raise ValueError(f"unknown event kind {event.kind!r}")
    result.deliveries += add_deliveries(session, wanted, now).values()
    # In the same transaction as the mail: the event is relayed with all its deliveries, or not at all.
    result.webhooks += plan_webhooks(session, event, now)


def _comment_and_site(session: Session, comment_id: int) -> tuple[Comment, Site] | None:
    row = session.execute(
        sa.select(Comment, Site)
        .join(Page, Page.id == Comment.page_id)
        .join(Site, Site.id == Page.site_id)
        .where(Comment.id == comment_id)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


# Keyed by event: a comment sent back to the queue (edited past a rule) is asked about again.
def _moderation_requests(session: Session, event_id: int, comment_id: int) -> list[NewDelivery]:
    found = _comment_and_site(session, comment_id)
    if found is None or found[0].status != "pending":
        return []  # moderated (or deleted) before the relay came to it: nothing to ask
    comment, site = found
    context = {"comment_id": comment.id}
    return [
        NewDelivery(f"moderate:{event_id}:{email}", email, MODERATION_TEMPLATE, site.id, context)
        for email in dict.fromkeys(str(e).lower() for e in site.moderator_emails)
    ]


def _approval_notice(session: Session, event_id: int, comment_id: int) -> list[NewDelivery]:
    found = _comment_and_site(session, comment_id)
    if found is None or found[0].status != "approved" or not found[0].author_email:
        return []
    comment, site = found
    email = str(comment.author_email).lower()
    context = {"comment_id": comment.id}
    return [NewDelivery(f"approved:{event_id}", email, APPROVED_TEMPLATE, site.id, context)]
