"""Helpers for delivery tests: run in line what the workers run, read the deliveries back."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from engagement import links
from engagement.core import Core
from engagement.mail.mailer import Mailer
from engagement.models import Comment, Delivery, NotificationItem
from engagement.services.audience.subscriptions import add_subscription, confirm_subscriber
from engagement.services.delivery.deliveries import due_deliveries
from engagement.services.delivery.relay import flush_notifications, sweep_unrelayed
from engagement.services.delivery.sending import SendReport, send_deliveries
from engagement.services.discussion.comments import PostComment, PostedComment, post_comment
from engagement.services.pages import ensure_page
from engagement.services.sites import get_site

ARTICLE = "https://news.example.org/2026/11/the-article"


def post(core: Core, **overrides: Any) -> PostedComment:
    values: dict[str, Any] = {
        "site": "daily",
        "page": ARTICLE,
        "page_title": "The article",
        "author_name": "Jane",
        "body": "A comment.",
    }
    values.update(overrides)
    return post_comment(core.uow(), PostComment(**values))


def reply(core: Core, parent: PostedComment, **overrides: Any) -> PostedComment:
    return post(core, parent=parent.comment.id, **{"author_name": "Bob", "body": "A reply.", **overrides})


def subscribe(
    core: Core,
    email: str,
    kind: str = "thread",
    *,
    page: str | None = None,
    comment_id: int | None = None,
    cadence: str | None = None,
    confirm: bool = True,
    site: str = "daily",
) -> int:
    """A subscriber with one wish, confirmed unless asked otherwise; returns the subscriber id."""
    uow = core.uow()
    with uow:
        the_site = get_site(uow.session, site)
        the_page = ensure_page(uow, the_site, page) if page else None
        comment = None
        if comment_id is not None:
            comment = uow.session.get_one(Comment, comment_id)
        request = add_subscription(
            uow, the_site, email, kind, page=the_page, comment=comment, cadence=cadence
        )
        subscriber_id = request.subscription.subscriber_id
        uow.commit()
    if confirm:
        confirm_subscriber(core.uow(), links.confirm_token(core.keys, subscriber_id))
    return subscriber_id


def deliver(core: Core, mailer: Mailer, *, window: int = 0) -> SendReport:
    """Relay every event, flush due windows and send what is due: one pass of the workers."""
    relayed = sweep_unrelayed(core.uow(), older_than_seconds=0, window_seconds=window)
    ids = list(relayed.deliveries)
    while True:
        flushed = flush_notifications(core.uow())
        ids += flushed
        if not flushed:
            break
    ids += due_deliveries(core.uow(), grace_seconds=0)
    return send_deliveries(core.uow(), mailer, sorted(set(ids)))


def deliveries(core: Core, **where: Any) -> list[Delivery]:
    with core.uow() as uow:
        stmt = sa.select(Delivery).order_by(Delivery.id)
        for name, value in where.items():
            stmt = stmt.where(getattr(Delivery, name) == value)
        return list(uow.session.scalars(stmt))


def open_items(core: Core) -> list[NotificationItem]:
    with core.uow() as uow:
        stmt = sa.select(NotificationItem).where(NotificationItem.delivery_id.is_(None))
        return list(uow.session.scalars(stmt))
