"""Compose follow-up and reply mails at send time, re-checking every comment and subscription."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from markupsafe import escape
from sqlalchemy.orm import Session

from engagement.i18n.catalogs import translate
from engagement.mail.mailer import Mailer, Outgoing, Skip, guarded
from engagement.models import Comment, Delivery, Page, Site, Subscriber, Subscription
from engagement.services.delivery.mail_batch import (
    by_id,
    recipient_context,
    recipient_skip,
    rows_by_id,
    suppressed_emails,
)
from engagement.services.delivery.notifications import APPROVED, REPLY_TEMPLATE, THREAD_TEMPLATE, items_of
from engagement.services.discussion.permalinks import comment_url

# Why a comment that was announced is not mailed after all, by the status it has now.
SKIP_BY_STATUS = {"deleted": "deleted", "rejected": "rejected", "spam": "spam", "pending": "not_approved"}
EXCERPT = 600

Rules = dict[tuple[str, int], int]  # ("thread", page id) / ("replies", comment id) → subscription id


class _Batch:
    """Everything a batch of notification deliveries needs, read in a handful of queries."""

    def __init__(self, session: Session, deliveries: Sequence[Delivery]) -> None:
        self.items = items_of(session, [d.id for d in deliveries])
        ids = {i.comment_id for items in self.items.values() for i in items}
        self.comments = by_id(session, Comment, ids)
        parents = {c.parent_id for c in self.comments.values() if c.parent_id} - ids
        self.comments.update(by_id(session, Comment, parents))
        self.pages = by_id(session, Page, {i.page_id for items in self.items.values() for i in items})
        self.sites = by_id(session, Site, {d.site_id for d in deliveries if d.site_id})
        subscriber_ids = {int(d.context["subscriber_id"]) for d in deliveries}
        self.subscribers = rows_by_id(session, Subscriber, subscriber_ids)
        self.rules: dict[int, Rules] = {}
        stmt = sa.select(
            Subscription.id,
            Subscription.subscriber_id,
            Subscription.kind,
            Subscription.page_id,
            Subscription.comment_id,
        ).where(Subscription.subscriber_id.in_(subscriber_ids), Subscription.kind.in_(("thread", "replies")))
        for sub in session.execute(stmt):
            target = sub.page_id if sub.kind == "thread" else sub.comment_id
            if target is not None:
                self.rules.setdefault(sub.subscriber_id, {})[(sub.kind, target)] = sub.id
        self.suppressed = suppressed_emails(session, self.subscribers.values())


def compose_notifications(
    session: Session, mailer: Mailer, deliveries: Sequence[Delivery], now: datetime
) -> list[Outgoing | Skip]:
    batch = _Batch(session, deliveries)
    return [guarded(d, lambda d: _compose(batch, mailer, d, now)) for d in deliveries]


def _compose(batch: _Batch, mailer: Mailer, delivery: Delivery, now: datetime) -> Outgoing | Skip:
    subscriber = batch.subscribers.get(int(delivery.context["subscriber_id"]))
    site = batch.sites.get(delivery.site_id or 0)
    if subscriber is None or site is None:
        return Skip(delivery.id, "unsubscribed")  # erased on request meanwhile
    if (skip := recipient_skip(delivery, subscriber, batch.suppressed)) is not None:
        return skip
    rules = batch.rules.get(subscriber.id, {})
    kept: list[tuple[Comment, int | None, int | None]] = []
    dropped: list[str] = []
    for item in batch.items.get(delivery.id, []):
        comment = batch.comments.get(item.comment_id)
        if comment is None or comment.status != APPROVED:
            dropped.append(SKIP_BY_STATUS.get(comment.status, "not_approved") if comment else "deleted")
            continue
        replies_rule = next(
            (rules[("replies", a)] for a in comment.ancestor_ids if ("replies", a) in rules), None
        )
        thread_rule = rules.get(("thread", comment.page_id))
        if replies_rule is None and thread_rule is None:
            dropped.append("unsubscribed")
            continue
        kept.append((comment, replies_rule, thread_rule))
    if not kept:
        return Skip(delivery.id, dropped[0] if dropped else "nothing_new")
    page = batch.pages[kept[0][0].page_id]
    if len(kept) == 1 and kept[0][1] is not None:
        return _reply_mail(batch, mailer, delivery, site, page, subscriber, kept[0], now)
    return _thread_mail(batch, mailer, delivery, site, page, subscriber, kept, now)


def _reply_mail(
    batch: _Batch,
    mailer: Mailer,
    delivery: Delivery,
    site: Site,
    page: Page,
    subscriber: Subscriber,
    kept: tuple[Comment, int | None, int | None],
    now: datetime,
) -> Outgoing:
    comment, replies_rule, _ = kept
    parent = batch.comments.get(comment.parent_id or 0)
    context = _common(mailer, site, page, subscriber, replies_rule)
    context["comment"] = _comment(mailer, site, page, comment, subscriber)
    context["parent"] = _comment(mailer, site, page, parent, subscriber) if parent else None
    if parent is not None:
        context["parent"]["yours"] = _same(parent.author_email, subscriber.email)
    return mailer.outgoing(
        delivery, REPLY_TEMPLATE, context, site=site, now=now, **_threading(mailer, comment)
    )


def _thread_mail(
    batch: _Batch,
    mailer: Mailer,
    delivery: Delivery,
    site: Site,
    page: Page,
    subscriber: Subscriber,
    kept: list[tuple[Comment, int | None, int | None]],
    now: datetime,
) -> Outgoing:
    thread_rule = next((t for _, _, t in kept if t is not None), None)
    context = _common(mailer, site, page, subscriber, thread_rule or kept[0][1])
    context["comments"] = [_comment(mailer, site, page, c, subscriber, batch) for c, _, _ in kept]
    if len(kept) == 1:
        threading = _threading(mailer, kept[0][0])
    else:
        root = mailer.page_message_id(page.id)
        threading = {"in_reply_to": root, "references": (root,)}
    return mailer.outgoing(delivery, THREAD_TEMPLATE, context, site=site, now=now, **threading)


def _threading(mailer: Mailer, comment: Comment) -> dict[str, Any]:
    """A mail about one comment carries its stable id; its ancestors make the chain."""
    ancestors = [mailer.comment_message_id(a) for a in comment.ancestor_ids]
    chain = (mailer.page_message_id(comment.page_id), *ancestors)
    return {
        "message_id": mailer.comment_message_id(comment.id),
        "in_reply_to": chain[-1],
        "references": chain,
    }


def _common(
    mailer: Mailer, site: Site, page: Page, subscriber: Subscriber, subscription_id: int | None
) -> dict[str, Any]:
    return {
        **recipient_context(mailer, site, subscriber, subscription_id),
        "page": page_context(mailer, page),
    }


def page_context(mailer: Mailer, page: Page) -> dict[str, str]:
    url = page.url or (page.key if page.key.startswith(("http://", "https://")) else mailer.settings.base_url)
    return {"title": page.title or page.url or page.key, "url": url}


def _comment(
    mailer: Mailer,
    site: Site,
    page: Page,
    comment: Comment,
    subscriber: Subscriber,
    batch: _Batch | None = None,
) -> dict[str, Any]:
    visible = comment.status == APPROVED
    parent = batch.comments.get(comment.parent_id or 0) if batch else None
    locale = mailer.locale_of(site, subscriber.locale)
    removed = translate(locale, "(removed)")
    return {
        "id": comment.id,
        "author": " ".join(comment.author_name.split())[:100],
        "html": comment.html if visible else f"<p><em>{escape(removed)}</em></p>",
        "text": excerpt(comment.body) if visible else removed,
        "url": comment_url(page_context(mailer, page)["url"], comment.id),
        "created": mailer.local_time(site, comment.published_at or comment.created_at, locale),
        "reply_to_you": parent is not None and _same(parent.author_email, subscriber.email),
    }


def excerpt(body: str, limit: int = EXCERPT) -> str:
    text = body.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _same(email: str | None, other: str) -> bool:
    return email is not None and email.lower() == other.lower()
