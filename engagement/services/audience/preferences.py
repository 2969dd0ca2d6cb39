"""A subscriber's preferences page: what they receive, the digest cadence, a token per line."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from engagement import links
from engagement import validation as check
from engagement.models import Page, Subscription
from engagement.models.subscriptions import CADENCES
from engagement.services.audience.subscriptions import (
    add_subscription,
    mask_email,
    reader_locale,
    subscriber_and_site,
)
from engagement.uow import UnitOfWork


@dataclass(frozen=True)
class SubscriptionView:
    """One line of the preferences page, with the token that removes just this line."""

    id: int
    kind: str
    page_title: str | None
    page_url: str | None
    cadence: str | None
    unsubscribe_token: str


@dataclass(frozen=True)
class PreferencesView:
    site_name: str
    email_masked: str
    confirmed: bool
    digest_cadence: str | None
    subscriptions: list[SubscriptionView]
    unsubscribe_all_token: str
    locale: str


def preferences(uow: UnitOfWork, token: str) -> PreferencesView:
    """What a subscriber receives, for the page their mails link to."""
    subscriber_id = links.read_preferences_token(uow.keys, token)
    with uow:
        subscriber, site = subscriber_and_site(uow.session, subscriber_id)
        rows = uow.session.execute(
            sa.select(Subscription, Page.title, Page.url)
            .outerjoin(Page, Page.id == Subscription.page_id)
            .where(Subscription.subscriber_id == subscriber.id)
            .order_by(Subscription.kind, Subscription.id)
        ).all()
        views = [
            SubscriptionView(
                id=sub.id,
                kind=sub.kind,
                page_title=title,
                page_url=url,
                cadence=sub.cadence,
                unsubscribe_token=links.unsubscribe_token(uow.keys, subscriber.id, sub.id),
            )
            for sub, title, url in rows
        ]
        return PreferencesView(
            site_name=site.name,
            email_masked=mask_email(subscriber.email),
            confirmed=subscriber.confirmed_at is not None,
            digest_cadence=next((v.cadence for v in views if v.kind == "digest"), None),
            subscriptions=views,
            unsubscribe_all_token=links.unsubscribe_token(uow.keys, subscriber.id),
            locale=reader_locale(subscriber, site),
        )


def set_digest_cadence(uow: UnitOfWork, token: str, cadence: str | None) -> None:
    """From the preferences page: digest ``daily`` / ``weekly``, or ``None`` for no digest."""
    subscriber_id = links.read_preferences_token(uow.keys, token)
    if cadence is not None:
        check.one_of("cadence", cadence, CADENCES)
    with uow:
        subscriber, site = subscriber_and_site(uow.session, subscriber_id)
        if cadence is None:
            uow.session.execute(
                sa.delete(Subscription).where(
                    Subscription.subscriber_id == subscriber.id, Subscription.kind == "digest"
                )
            )
        else:
            add_subscription(uow, site, subscriber.email, "digest", cadence=cadence)
        uow.commit()
