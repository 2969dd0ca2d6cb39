"""What every batch of mails composed at send time reads at once, and the recipient checks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement.mail.mailer import Mailer, Skip
from engagement.models import Delivery, Site, Subscriber, Suppression


def by_id(session: Session, model: Any, ids: set[int]) -> dict[int, Any]:
    """id → row of ``model`` for those ids (one query; none for no ids)."""
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(sa.select(model).where(model.id.in_(list(ids))))}


def rows_by_id(session: Session, model: Any, ids: set[int]) -> dict[int, Any]:
    """:func:`by_id` as plain rows (the same attribute names, read-only): for the tables a
    batch reads one row of per mail, where building ORM objects costs more than the query."""
    if not ids:
        return {}
    table = model.__table__
    return {row.id: row for row in session.execute(sa.select(table).where(table.c.id.in_(list(ids))))}


def suppressed_emails(session: Session, subscribers: Iterable[Subscriber]) -> set[str]:
    """Which of the subscribers' addresses are suppressed (bounced or complained)."""
    emails = [s.email for s in subscribers]
    return set(session.scalars(sa.select(Suppression.email).where(Suppression.email.in_(emails))))


def recipient_skip(delivery: Delivery, subscriber: Subscriber, suppressed: set[str]) -> Skip | None:
    """Why the subscriber is not mailed now, or None: an address must be confirmed, not suppressed."""
    if subscriber.confirmed_at is None:
        return Skip(delivery.id, "unconfirmed")
    if subscriber.email in suppressed:
        return Skip(delivery.id, "suppressed")
    return None


def recipient_context(
    mailer: Mailer, site: Site, subscriber: Subscriber, subscription_id: int | None
) -> dict[str, Any]:
    """What every subscriber mail says of its site and recipient, with the manage/unsubscribe links.

    The mail speaks the language the subscriber chose when subscribing, else the site's.
    """
    locale = mailer.locale_of(site, subscriber.locale)
    return {
        "locale": locale,
        "site": mailer.site_context(site, locale),
        "recipient": subscriber.email,
        "supporter": subscriber.supporter,
        **mailer.subscriber_links(subscriber.id, subscription_id),
    }
