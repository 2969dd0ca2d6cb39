"""Compose each claimed delivery's mail at send time, or say why it must not leave after all.

Everything is re-read here, not trusted from when the mail was planned: a comment deleted,
rejected or marked spam meanwhile is not announced; an address that unsubscribed, was
erased or suppressed gets nothing; an address that had its day's share of mail gets no more
(``rate_limited``); the reason is recorded on the delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from babel.lists import format_list
from sqlalchemy.orm import Session

from engagement import links
from engagement.i18n.catalogs import translate
from engagement.i18n.formatting import data_locale
from engagement.i18n.reasons import moderation_reason
from engagement.mail.mailer import Mailer, Outgoing, Skip, guarded
from engagement.models import Comment, Delivery, Page, Site, Subscriber, Subscription, Suppression
from engagement.services.audience.optouts import approval_notices_off
from engagement.services.delivery.digest_mail import compose_digests
from engagement.services.delivery.digests import DIGEST_TEMPLATE
from engagement.services.delivery.notification_mail import (
    SKIP_BY_STATUS,
    compose_notifications,
    excerpt,
    page_context,
)
from engagement.services.delivery.notifications import REPLY_TEMPLATE, THREAD_TEMPLATE
from engagement.services.delivery.recipient_cap import cap_per_recipient
from engagement.services.discussion.moderation import TOKEN_LIFETIME, moderation_token
from engagement.services.discussion.permalinks import comment_url
from engagement.services.webhooks.disabling import WEBHOOK_DISABLED_TEMPLATE
from engagement.services.webhooks.mail import webhook_disabled_mail

CONFIRM_TEMPLATE = "confirm_subscription"
MODERATION_TEMPLATE = "moderation_request"
APPROVED_TEMPLATE = "comment_approved"
# The reader asked for the confirmation a moment ago and waits for it: it is never held back
# by the daily cap, nor counted towards it (the subscription form's rate limit and
# CONFIRMATION_INTERVAL already bound how many one address gets). Everything else, follow-ups,
# replies, digests, moderation requests and approval notices, is what could flood a mailbox.
UNCAPPED_TEMPLATES = (CONFIRM_TEMPLATE,)


def compose(
    session: Session, mailer: Mailer, deliveries: Sequence[Delivery], now: datetime
) -> list[Outgoing | Skip]:
    """One result per delivery, in the order given."""
    notices = [d for d in deliveries if d.template in (THREAD_TEMPLATE, REPLY_TEMPLATE)]
    digests = [d for d in deliveries if d.template == DIGEST_TEMPLATE]
    results: dict[int, Outgoing | Skip] = {}
    for result in compose_notifications(session, mailer, notices, now) if notices else []:
        results[result.delivery_id] = result
    for result in compose_digests(session, mailer, digests, now) if digests else []:
        results[result.delivery_id] = result
    suppressed = _suppressed(session, [d.recipient for d in deliveries])
    for delivery in deliveries:
        if delivery.id in results:
            continue
        if delivery.recipient in suppressed:
            results[delivery.id] = Skip(delivery.id, "suppressed")
        elif delivery.template == CONFIRM_TEMPLATE:
            results[delivery.id] = guarded(delivery, lambda d: _confirmation(session, mailer, d, now))
        elif delivery.template in (MODERATION_TEMPLATE, APPROVED_TEMPLATE):
            results[delivery.id] = guarded(delivery, lambda d: _about_comment(session, mailer, d, now))
        elif delivery.template == WEBHOOK_DISABLED_TEMPLATE:
            results[delivery.id] = guarded(delivery, lambda d: webhook_disabled_mail(session, mailer, d, now))
        else:
            results[delivery.id] = Skip(delivery.id, "unknown_template")
    return cap_per_recipient(
        session,
        deliveries,
        [results[d.id] for d in deliveries],
        cap=mailer.settings.max_mails_per_recipient_per_day,
        now=now,
        exempt=UNCAPPED_TEMPLATES,
    )


def _confirmation(session: Session, mailer: Mailer, delivery: Delivery, now: datetime) -> Outgoing | Skip:
    subscriber = session.get(Subscriber, int(delivery.context["subscriber_id"]))
    if subscriber is None:
        return Skip(delivery.id, "unsubscribed")
    if subscriber.confirmed_at is not None:
        return Skip(delivery.id, "already_confirmed")
    site = session.get(Site, subscriber.site_id)
    if site is None:
        return Skip(delivery.id, "unsubscribed")
    locale = mailer.locale_of(site, subscriber.locale)
    rows = session.execute(
        sa.select(Subscription.kind, Subscription.cadence, Page)
        .outerjoin(Page, Page.id == Subscription.page_id)
        .where(Subscription.subscriber_id == subscriber.id)
        .order_by(Subscription.id)
    )
    wanted = (_wish(mailer, locale, kind, cadence, page) for kind, cadence, page in rows)
    wishes = [wish for wish in wanted if wish]
    if not wishes:
        return Skip(delivery.id, "unsubscribed")  # nothing left to confirm
    token = links.confirm_token(mailer.keys, subscriber.id)
    context = {
        "locale": locale,
        "site": mailer.site_context(site, locale),
        "recipient": subscriber.email,
        "supporter": subscriber.supporter,
        "wish": format_list(sorted(set(wishes), key=wishes.index), locale=data_locale(locale)),
        "confirm_url": links.confirm_url(mailer.settings.base_url, token),
        "unsubscribe_url": links.unsubscribe_url(
            mailer.settings.base_url, links.unsubscribe_token(mailer.keys, subscriber.id)
        ),
        "preferences_url": None,
    }
    return mailer.outgoing(delivery, CONFIRM_TEMPLATE, context, site=site, now=now)


def _about_comment(session: Session, mailer: Mailer, delivery: Delivery, now: datetime) -> Outgoing | Skip:
    """A moderation request (while the comment waits) or an approval notice (once published)."""
    comment = session.get(Comment, int(delivery.context["comment_id"]))
    if comment is None:
        return Skip(delivery.id, "deleted")
    waiting = delivery.template == MODERATION_TEMPLATE
    wanted = "pending" if waiting else "approved"
    if comment.status != wanted:
        reason = "already_moderated" if waiting and comment.status != "deleted" else None
        return Skip(delivery.id, reason or SKIP_BY_STATUS.get(comment.status, "not_approved"))
    page = session.get(Page, comment.page_id)
    site = session.get(Site, page.site_id) if page else None
    if page is None or site is None:
        return Skip(delivery.id, "deleted")
    stopped = _stopped(session, site, delivery)
    if stopped is not None:
        return stopped
    page_info = page_context(mailer, page)
    locale = _about_comment_locale(session, mailer, site, delivery, waiting=waiting)
    context = {
        "locale": locale,
        "site": mailer.site_context(site, locale),
        "recipient": delivery.recipient,
        "supporter": False,
        "page": page_info,
        "comment": {
            "author": " ".join(comment.author_name.split())[:100],
            "html": comment.html,
            "text": excerpt(comment.body, 4000),
            "reason": moderation_reason(comment.moderation_reason, locale),
            "created": mailer.local_time(site, comment.created_at, locale),
            "url": comment_url(page_info["url"], comment.id),
        },
        "unsubscribe_url": _optout_url(mailer, site, delivery),
        "preferences_url": None,
    }
    if waiting:
        for action in ("approve", "reject", "spam"):
            token = moderation_token(mailer.keys, comment.id, action, issued_at=now)
            context[f"{action}_url"] = links.moderation_url(mailer.settings.base_url, token)
        context["link_days"] = TOKEN_LIFETIME.days
    return mailer.outgoing(delivery, delivery.template, context, site=site, now=now)


def _stopped(session: Session, site: Site, delivery: Delivery) -> Skip | None:
    """Skip a mail whose recipient used its unsubscribe link after it was planned."""
    if delivery.template == MODERATION_TEMPLATE:
        moderators = {str(e).lower() for e in site.moderator_emails}
        return None if delivery.recipient.lower() in moderators else Skip(delivery.id, "unsubscribed")
    if approval_notices_off(session, site.id, delivery.recipient):
        return Skip(delivery.id, "unsubscribed")
    return None


def _optout_url(mailer: Mailer, site: Site, delivery: Delivery) -> str:
    """The one-click link: a moderator leaves the site's moderators; an author stops approval notices."""
    if delivery.template == MODERATION_TEMPLATE:
        token = links.moderator_optout_token(mailer.keys, site.id, delivery.recipient)
    else:
        token = links.approval_optout_token(mailer.keys, site.id, delivery.recipient)
    return links.unsubscribe_url(mailer.settings.base_url, token)


def _suppressed(session: Session, emails: list[str]) -> set[str]:
    if not emails:
        return set()
    return set(session.scalars(sa.select(Suppression.email).where(Suppression.email.in_(emails))))


def _wish(mailer: Mailer, locale: str, kind: str, cadence: str | None, page: Page | None) -> str | None:
    """One thing the confirmation mail says the address will get, in the mail's language."""
    if kind == "thread" and page is not None:
        return translate(locale, "new comments on “%(title)s”", title=page_context(mailer, page)["title"])
    if kind == "replies":
        return translate(locale, "replies to your comments")
    if kind == "digest" and cadence == "daily":
        return translate(locale, "its daily digest")
    if kind == "digest":
        return translate(locale, "its weekly digest")
    return None


def _about_comment_locale(
    session: Session, mailer: Mailer, site: Site, delivery: Delivery, *, waiting: bool
) -> str:
    """Moderators read the site's language; an author the one they subscribed in, if they did."""
    if waiting:
        return mailer.locale_of(site, None)
    chosen = session.scalars(
        sa.select(Subscriber.locale).where(
            Subscriber.site_id == site.id, sa.func.lower(Subscriber.email) == delivery.recipient.lower()
        )
    ).first()
    return mailer.locale_of(site, chosen)
