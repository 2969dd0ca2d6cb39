"""Who hears of a published comment, the coalescing windows, and flushing them into deliveries.

Recipients of a comment: the page's ``thread`` subscribers, plus the ``replies`` subscribers
of any of its ancestors; confirmed, not suppressed, never its author; one item each however
many rules match. Items of one subscriber on one page within the window go out as one mail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement.db import UTCDateTime, dialect_insert
from engagement.models import Comment, NotificationItem, Page, Subscriber, Subscription
from engagement.services.audience.subscriptions import active_clause
from engagement.services.delivery.deliveries import NewDelivery, add_deliveries

THREAD_TEMPLATE = "thread_notification"
REPLY_TEMPLATE = "reply_notification"
APPROVED = "approved"


@dataclass(frozen=True)
class Planned:
    """What planning one comment did: how many items, whether any is due at once, and, when
    planning stopped at a ``limit``, the last recipient planned (the next call starts after it)."""

    items: int
    due_now: bool
    last_recipient: int | None = None


def plan_comment_notifications(
    session: Session,
    comment_id: int,
    *,
    now: datetime,
    published_at: datetime,
    window_seconds: int,
    after_recipient: int = 0,
    limit: int | None = None,
) -> Planned:
    """Add a notification item per recipient of a published comment (inside the caller's uow).

    Idempotent: items are unique per (subscriber, comment), so a relay that runs twice adds
    nothing. A comment no longer approved announces nothing. A new window is due
    ``window_seconds`` after ``published_at`` (the event's time), however late the relay runs.
    One INSERT … SELECT whatever the number of recipients: a page with ten thousand followers
    is planned by the database, not row by row in Python. With ``limit``, only the next
    ``limit`` recipients (by subscriber id, after ``after_recipient``) are planned, so the
    first mails of a large fan-out can leave while the rest is planned; fewer than ``limit``
    are not planned apart at all (nothing is written), a call without ``limit`` plans them.
    """
    comment = session.get(Comment, comment_id)
    if comment is None or comment.status != APPROVED:
        return Planned(0, False)
    page = session.get(Page, comment.page_id)
    if page is None:
        return Planned(0, False)
    fresh_due = published_at + timedelta(seconds=window_seconds)
    recipients = _recipients(comment, page.site_id, after_recipient)
    last = None
    if limit is not None:
        chunk = (
            sa.select(recipients.c.subscriber_id).order_by(recipients.c.subscriber_id).limit(limit).subquery()
        )
        size, last = session.execute(sa.select(sa.func.count(), sa.func.max(chunk.c.subscriber_id))).one()
        if size < limit:
            return Planned(0, False)
        recipients = _recipients(comment, page.site_id, after_recipient, up_to=last)
    item = NotificationItem.__table__.alias("open_item")
    # The first item of a (subscriber, page) window sets when it is due; later ones join it.
    open_window = (
        sa.select(sa.func.min(item.c.due_at))
        .where(
            item.c.delivery_id.is_(None),
            item.c.subscriber_id == recipients.c.subscriber_id,
            item.c.page_id == page.id,
        )
        .scalar_subquery()
    )
    rows = sa.select(
        sa.literal(page.site_id),
        recipients.c.subscriber_id,
        sa.literal(page.id),
        sa.literal(comment.id),
        recipients.c.reason,
        sa.func.coalesce(open_window, sa.literal(fresh_due, UTCDateTime())),
        sa.literal(now, UTCDateTime()),
    ).where(sa.true())  # SQLite would read the ON of ON CONFLICT as a join's without a WHERE
    columns = ["site_id", "subscriber_id", "page_id", "comment_id", "reason", "due_at", "created_at"]
    table: sa.Table = NotificationItem.__table__  # type: ignore[assignment]
    inserted = session.execute(
        dialect_insert(session, table)
        .from_select(columns, rows)
        .on_conflict_do_nothing(index_elements=["subscriber_id", "comment_id"]),
        execution_options={"preserve_rowcount": True},  # kept for INSERT only when asked
    )
    planned = cast(sa.CursorResult[Any], inserted).rowcount
    # Due now: a fresh window without delay, or an open one on this page that fell due.
    due_now = planned > 0 and (
        fresh_due <= now
        or session.execute(
            sa.select(sa.literal(1))
            .where(table.c.delivery_id.is_(None), table.c.page_id == page.id, table.c.due_at <= now)
            .limit(1)
        ).first()
        is not None
    )
    return Planned(planned, due_now, last)


def _recipients(comment: Comment, site_id: int, after: int = 0, up_to: int | None = None) -> sa.Subquery:
    """(subscriber_id, reason) of each recipient with an id in (``after``, ``up_to``]:
    "replies" when a reply rule matches, else "thread".

    "replies" sorts before "thread", so the smallest reason is the stronger one.
    """
    rules = [sa.and_(Subscription.kind == "thread", Subscription.page_id == comment.page_id)]
    ancestors = comment.ancestor_ids
    if ancestors:
        rules.append(sa.and_(Subscription.kind == "replies", Subscription.comment_id.in_(ancestors)))
    stmt = (
        sa.select(Subscriber.id.label("subscriber_id"), sa.func.min(Subscription.kind).label("reason"))
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscriber.site_id == site_id, sa.or_(*rules), active_clause(), Subscriber.id > after)
        .group_by(Subscriber.id)
    )
    if up_to is not None:
        stmt = stmt.where(Subscriber.id <= up_to)
    if comment.author_email:
        stmt = stmt.where(Subscriber.email != comment.author_email.lower())
    return stmt.subquery("recipient")


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


def items_of(session: Session, delivery_ids: Iterable[int]) -> dict[int, list[Any]]:
    """The items each delivery announces, oldest first (plain rows: one or more per mail)."""
    found: dict[int, list[Any]] = {}
    table = NotificationItem.__table__
    stmt = (
        sa.select(table.c.delivery_id, table.c.comment_id, table.c.page_id)
        .where(table.c.delivery_id.in_(list(delivery_ids)))
        .order_by(table.c.comment_id)
    )
    for row in session.execute(stmt):
        found.setdefault(row.delivery_id, []).append(row)
    return found
