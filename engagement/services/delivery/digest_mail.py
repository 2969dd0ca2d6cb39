"""Compose digests at send time from the ids a run planned, re-checking every comment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement.i18n import formatting
from engagement.i18n.catalogs import translate
from engagement.mail.mailer import Mailer, Outgoing, Skip, guarded
from engagement.models import Comment, Delivery, DigestRun, Page, Site, Subscriber, Subscription
from engagement.services.delivery.digests import DIGEST_TEMPLATE
from engagement.services.delivery.mail_batch import (
    by_id,
    recipient_context,
    recipient_skip,
    rows_by_id,
    suppressed_emails,
)
from engagement.services.delivery.notification_mail import excerpt, page_context
from engagement.services.discussion.permalinks import comment_url


class _Batch:
    """Runs, sites, subscribers, comments and pages of a batch of digests, read at once."""

    def __init__(self, session: Session, deliveries: Sequence[Delivery]) -> None:
        contexts = [d.context for d in deliveries]
        self.runs = by_id(session, DigestRun, {int(c["run_id"]) for c in contexts})
        self.sites = by_id(session, Site, {r.site_id for r in self.runs.values()})
        self.subscribers = rows_by_id(session, Subscriber, {int(c["subscriber_id"]) for c in contexts})
        wanted = {int(c["subscription_id"]) for c in contexts}
        self.live_subscriptions = set(
            session.scalars(sa.select(Subscription.id).where(Subscription.id.in_(list(wanted))))
        )
        comment_ids = {i for c in contexts for i in c["replies"]}
        comment_ids |= {i for c in contexts for _, _, ids in c["followed"] for i in ids}
        self.comments = {
            c.id: c for c in by_id(session, Comment, comment_ids).values() if c.status == "approved"
        }
        page_ids = {p for c in contexts for p, _, _ in c["followed"]}
        page_ids |= {c.page_id for c in self.comments.values()}
        page_ids |= {int(t["page_id"]) for r in self.runs.values() for t in r.top_pages}
        self.pages = by_id(session, Page, page_ids)
        self.suppressed = suppressed_emails(session, self.subscribers.values())


def compose_digests(
    session: Session, mailer: Mailer, deliveries: Sequence[Delivery], now: datetime
) -> list[Outgoing | Skip]:
    batch = _Batch(session, deliveries)
    return [guarded(d, lambda d: _compose(batch, mailer, d, now)) for d in deliveries]


def _compose(batch: _Batch, mailer: Mailer, delivery: Delivery, now: datetime) -> Outgoing | Skip:
    ctx = delivery.context
    subscriber = batch.subscribers.get(int(ctx["subscriber_id"]))
    run = batch.runs.get(int(ctx["run_id"]))
    if subscriber is None or run is None or int(ctx["subscription_id"]) not in batch.live_subscriptions:
        return Skip(delivery.id, "unsubscribed")
    if (skip := recipient_skip(delivery, subscriber, batch.suppressed)) is not None:
        return skip
    site = batch.sites[run.site_id]
    # Same language, same content: the renderer's cache renders it once for all of them.
    locale = mailer.locale_of(site, subscriber.locale)
    replies = [_comment(batch, mailer, site, i, locale) for i in ctx["replies"] if i in batch.comments]
    followed = []
    for page_id, count, ids in ctx["followed"]:
        page = batch.pages.get(page_id)
        if page is not None:
            comments = [_comment(batch, mailer, site, i, locale) for i in ids if i in batch.comments]
            followed.append({**page_context(mailer, page), "count": count, "comments": comments})
    top = [
        {**page_context(mailer, batch.pages[int(t["page_id"])]), "count": t["count"]}
        for t in run.top_pages
        if int(t["page_id"]) in batch.pages
    ]
    if not (replies or followed or top):
        return Skip(delivery.id, "nothing_new")
    context = {
        **recipient_context(mailer, site, subscriber, int(ctx["subscription_id"])),
        "period": run.period,
        "period_label": _period_label(site, run, locale),
        "replies": replies,
        "followed": followed,
        "top_pages": top,
    }
    return mailer.outgoing(delivery, DIGEST_TEMPLATE, context, site=site, now=now, bulk=True)


def _comment(batch: _Batch, mailer: Mailer, site: Site, comment_id: int, locale: str) -> dict[str, Any]:
    comment = batch.comments[comment_id]
    page = page_context(mailer, batch.pages[comment.page_id])
    return {
        "author": " ".join(comment.author_name.split())[:100],
        "html": comment.html,
        "text": excerpt(comment.body, 300),
        "url": comment_url(page["url"], comment.id),
        "page_title": page["title"],
        "created": mailer.local_time(site, comment.published_at or comment.created_at, locale),
    }


def _period_label(site: Site, run: DigestRun, locale: str) -> str:
    if run.period == "daily":
        end = formatting.when(run.period_end, site.timezone, locale)
        return translate(locale, "the 24 hours to %(end)s", end=end)
    last = run.period_end - timedelta(seconds=1)
    return formatting.days(run.period_start, last, site.timezone, locale)
