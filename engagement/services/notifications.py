"""Who hears of a published comment, the coalescing windows, and flushing them into deliveries.

Recipients of a comment: the page's ``thread`` subscribers, plus the ``replies`` subscribers
of any of its ancestors; confirmed, not suppressed, never its author; one item each however
many rules match. Items of one subscriber on one page within the window go out as one mail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement.db import insert_many_ignoring_conflict
from engagement.models import Comment, NotificationItem, Page, Subscriber, Subscription
from engagement.services.deliveries import NewDelivery, add_deliveries
from engagement.services.subscriptions import active_clause

THREAD_TEMPLATE = "thread_notification"
REPLY_TEMPLATE = "reply_notification"
APPROVED = "approved"


@dataclass(frozen=True)
class Planned:
    """What planning one comment did: how many items, and whether any is due at once."""

    items: int
    due_now: bool


def plan_comment_notifications(
    session: Session, comment_id: int, *, now: datetime, published_at: datetime, window_seconds: int
) -> Planned:
    """Add a notification item per recipient of a published comment (inside the caller's uow).

    Idempotent: items are unique per (subscriber, comment), so a relay that runs twice adds
    nothing. A comment no longer approved announces nothing. A new window is due
    ``window_seconds`` after ``published_at`` (the event's time), however late the relay runs.
    """
    comment = session.get(Comment, comment_id)
    if comment is None or comment.status != APPROVED:
        return Planned(0, False)
    page = session.get(Page, comment.page_id)
    if page is None:
        return Planned(0, False)
    reasons = _recipients(session, comment, page.site_id)
    if not reasons:
        return Planned(0, False)
    open_windows = _open_windows(session, page.id)
    fresh_due = published_at + timedelta(seconds=window_seconds)
    rows: list[dict[str, Any]] = [
        {
            "site_id": page.site_id,
            "subscriber_id": subscriber_id,
            "page_id": page.id,
            "comment_id": comment.id,
            "reason": reason,
            # The first item of a (subscriber, page) window sets when it is due; later ones join.
            "due_at": open_windows.get(subscriber_id, fresh_due),
            "created_at": now,
        }
        for subscriber_id, reason in reasons.items()
    ]
    table = NotificationItem.__table__
    insert_many_ignoring_conflict(session, table, rows, ["subscriber_id", "comment_id"])  # type: ignore[arg-type]
    return Planned(len(rows), any(row["due_at"] <= now for row in rows))


def _open_windows(session: Session, page_id: int) -> dict[int, datetime]:
    """subscriber id → when their open (not yet delivered) window on the page is due."""
    return dict(
        session.execute(
            sa.select(NotificationItem.subscriber_id, sa.func.min(NotificationItem.due_at))
            .where(NotificationItem.page_id == page_id, NotificationItem.delivery_id.is_(None))
            .group_by(NotificationItem.subscriber_id)
        ).all()
    )


def _recipients(session: Session, comment: Comment, site_id: int) -> dict[int, str]:
    """subscriber id → "replies" or "thread" (a reply to someone is the stronger reason)."""
    rules = [sa.and_(Subscription.kind == "thread", Subscription.page_id == comment.page_id)]
    ancestors = comment.ancestor_ids
    if ancestors:
        rules.append(sa.and_(Subscription.kind == "replies", Subscription.comment_id.in_(ancestors)))
    stmt = (
        sa.select(Subscriber.id, Subscription.kind)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscriber.site_id == site_id, sa.or_(*rules), active_clause())
    )
    if comment.author_email:
        stmt = stmt.where(Subscriber.email != comment.author_email.lower())
    reasons: dict[int, str] = {}
    for subscriber_id, kind in session.execute(stmt):
        if kind == "replies" or subscriber_id not in reasons:
            reasons[subscriber_id] = kind
    return reasons


def flush_due_windows(session: Session, *, now: datetime, limit: int = 1000) -> list[int]:
    """Turn up to ``limit`` due windows into deliveries (inside the caller's uow); their ids.

    A delivery's key is its window's first item, so two flushers of one window write one
    delivery; items join a delivery only while unassigned, so each is mailed once.
    """
    wanted = _due_windows(session, now, limit)
    if not wanted:
        return []
    ids = add_deliveries(session, [new for new, _, _ in wanted], now)
    columns = NotificationItem.__table__.c
    assign = (
        sa.update(NotificationItem.__table__)  # type: ignore[arg-type]
        .where(
            columns.subscriber_id == sa.bindparam("s"),
            columns.page_id == sa.bindparam("p"),
            columns.delivery_id.is_(None),
            columns.due_at <= now,
        )
        .values(delivery_id=sa.bindparam("d"))
    )
    session.execute(assign, [{"s": s, "p": p, "d": ids[new.key]} for new, s, p in wanted])
    return [ids[new.key] for new, _, _ in wanted]


def _due_windows(session: Session, now: datetime, limit: int) -> list[tuple[NewDelivery, int, int]]:
    """(delivery to write, subscriber id, page id) of each due window, oldest first."""
    item = NotificationItem
    groups = session.execute(
        sa.select(
            item.subscriber_id,
            item.page_id,
            item.site_id,
            Subscriber.email,
            sa.func.min(item.id),
            sa.func.count(),
            sa.func.min(item.reason),  # "replies" sorts before "thread": any reply shows
        )
        .join(Subscriber, Subscriber.id == item.subscriber_id)
        .where(item.delivery_id.is_(None))
        .group_by(item.subscriber_id, item.page_id, item.site_id, Subscriber.email)
        .having(sa.func.min(item.due_at) <= now)
        .order_by(sa.func.min(item.id))
        .limit(limit)
    )
    wanted = []
    for subscriber_id, page_id, site_id, email, first_id, count, reason in groups:
        template = REPLY_TEMPLATE if count == 1 and reason == "replies" else THREAD_TEMPLATE
        context = {"subscriber_id": subscriber_id, "page_id": page_id}
        new = NewDelivery(f"notify:{first_id}", email, template, site_id, context)
        wanted.append((new, subscriber_id, page_id))
    return wanted


def items_of(session: Session, delivery_ids: Iterable[int]) -> dict[int, list[NotificationItem]]:
    """The items each delivery announces, oldest first."""
    found: dict[int, list[NotificationItem]] = {}
    stmt = (
        sa.select(NotificationItem)
        .where(NotificationItem.delivery_id.in_(list(delivery_ids)))
        .order_by(NotificationItem.comment_id)
    )
    for row in session.scalars(stmt):
        assert row.delivery_id is not None
        found.setdefault(row.delivery_id, []).append(row)
    return found
