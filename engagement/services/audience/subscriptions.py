"""Subscriptions: ask (double opt-in), confirm, unsubscribe, preferences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engagement import links
from engagement import validation as check
from engagement.db import insert_ignoring_conflict
from engagement.errors import InvalidInput, NotFound
from engagement.i18n.locales import DEFAULT, choose, normalise
from engagement.models import Comment, Page, Site, Subscriber, Subscription, Suppression
from engagement.models.subscriptions import CADENCES, KINDS
from engagement.outbox import CONFIRMATION_REQUESTED, SUBSCRIPTION_CONFIRMED
from engagement.services.audience.supporter_flags import new_subscriber_flag
from engagement.services.pages import ensure_page
from engagement.services.sites import get_site
from engagement.uow import UnitOfWork

# However often a form is sent for an address, it gets at most one confirmation mail per interval.
CONFIRMATION_INTERVAL = timedelta(minutes=10)
DEFAULT_CADENCE = "weekly"
PUBLIC_KINDS = ("thread", "digest")  # "replies" is chosen while commenting, never on its own


@dataclass(frozen=True)
class SubscriptionRequest:
    """The wish as stored; ``confirmation_needed`` while the address is not confirmed."""

    subscription: Subscription
    confirmation_needed: bool


@dataclass(frozen=True)
class SubscribeRequest:
    """A reader's request from the bell or the digest form: a site key and a page reference."""

    site: str
    email: str
    kind: str
    page: str | None = None
    page_title: str | None = None
    cadence: str | None = None
    client_ip: str | None = None
    locale: str | None = None  # a BCP 47 tag; one we do not ship leaves the site's language


@dataclass(frozen=True)
class ConfirmResult:
    site_name: str
    email_masked: str
    already_confirmed: bool
    preferences_token: str
    locale: str = DEFAULT


@dataclass(frozen=True)
class UnsubscribeResult:
    """What a one-click unsubscribe removed; ``removed`` is 0 when it was done already."""

    site_name: str
    email_masked: str
    everything: bool
    removed: int
    locale: str = DEFAULT


def active_clause() -> ColumnElement[bool]:
    """The condition under which a subscriber may be mailed: confirmed and not suppressed.

    Workers add it to their recipient queries (joined on ``Subscriber``); a subscription is
    inactive until its address is confirmed for the site (double opt-in).
    """
    suppressed = sa.exists().where(Suppression.email == Subscriber.email)
    return sa.and_(Subscriber.confirmed_at.is_not(None), ~suppressed)


def mask_email(email: str) -> str:
    """``jane@example.org`` → ``j***@example.org``: enough to recognise, not to harvest."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"


def add_subscription(
    uow: UnitOfWork,
    site: Site,
    email: str,
    kind: str,
    *,
    page: Page | None = None,
    comment: Comment | None = None,
    cadence: str | None = None,
    locale: str | None = None,
    address_verified: bool = False,
) -> SubscriptionRequest:
    """Record a wish inside the caller's open unit of work (never commits); idempotent.

    ``thread`` needs ``page``, ``replies`` needs ``comment`` (flushed, so it has an id),
    ``digest`` takes ``cadence`` (weekly unless given; asking again changes it). An address
    not yet confirmed for the site gets a confirmation event, at most once per interval,
    unless ``address_verified``: the publisher's site signed its owner in and vouches for it.
    ``locale``, when it names a shipped language, becomes the one the subscriber's mails and
    pages speak (the latest choice wins; otherwise the site's language stays in force).
    """
    address = check.email("email", email)
    check.one_of("kind", kind, KINDS)
    values = _target(site, kind, page, comment, cadence)
    subscriber = _lock_or_create_subscriber(uow, site, address)
    shipped = normalise(locale)
    if shipped is not None and subscriber.locale != shipped:
        subscriber.locale = shipped
    insert_ignoring_conflict(
        uow.session,
        Subscription.__table__,  # type: ignore[arg-type]
        {"subscriber_id": subscriber.id, "kind": kind, "created_at": uow.now(), **values},
        ["subscriber_id", "kind", "target"],
    )
    subscription = uow.session.scalars(
        sa.select(Subscription).where(
            Subscription.subscriber_id == subscriber.id,
            Subscription.kind == kind,
            Subscription.target == values["target"],
        )
    ).one()
    if kind == "digest" and subscription.cadence != values["cadence"]:
        subscription.cadence = values["cadence"]
    if subscriber.confirmed_at is None and address_verified:
        subscriber.confirmed_at = uow.now()
        uow.add_event(SUBSCRIPTION_CONFIRMED, {"subscriber_id": subscriber.id})  # as a followed link does
    needed = subscriber.confirmed_at is None
    if needed:
        _request_confirmation(uow, subscriber)
    return SubscriptionRequest(subscription=subscription, confirmation_needed=needed)


def subscribe(uow: UnitOfWork, request: SubscribeRequest) -> None:
    """A reader asks for a page's follow-ups or the site's digest by e-mail alone.

    The result is the same whether the address is new, pending or confirmed: nothing here
    tells a stranger whether someone subscribes.
    """
    address = check.email("email", request.email)
    check.one_of("kind", request.kind, PUBLIC_KINDS)
    if request.kind == "digest" and request.cadence is not None:
        check.one_of("cadence", request.cadence, CADENCES)
    with uow:
        site = get_site(uow.session, request.site)
        page = None
        if request.kind == "thread":
            if not request.page:
                raise InvalidInput("page", "is required to follow a page's comments")
            page = ensure_page(uow, site, request.page, request.page_title)
        if uow.limiter is not None:
            # Counted after validation, so typing mistakes do not use up a reader's allowance.
            uow.limiter.check("subscribe", {"ip": request.client_ip, "email": address})
        add_subscription(
            uow, site, address, request.kind, page=page, cadence=request.cadence, locale=request.locale
        )
        uow.commit()


def confirm_subscriber(uow: UnitOfWork, token: str) -> ConfirmResult:
    """The reader followed the confirmation link: their subscriptions become active."""
    subscriber_id = links.read_confirm_token(uow.keys, token)
    with uow:
        subscriber, site = subscriber_and_site(uow.session, subscriber_id)
        already = subscriber.confirmed_at is not None
        if not already:
            subscriber.confirmed_at = uow.now()
            uow.add_event(SUBSCRIPTION_CONFIRMED, {"subscriber_id": subscriber.id})
        result = ConfirmResult(
            site_name=site.name,
            email_masked=mask_email(subscriber.email),
            already_confirmed=already,
            preferences_token=links.preferences_token(uow.keys, subscriber.id),
            locale=reader_locale(subscriber, site),
        )
        uow.commit()
        return result


def unsubscribe(uow: UnitOfWork, token: str) -> UnsubscribeResult:
    """One-click unsubscribe: one subscription, or everything of the address on the site."""
    subscriber_id, subscription_id = links.read_unsubscribe_token(uow.keys, token)
    with uow:
        subscriber, site = subscriber_and_site(uow.session, subscriber_id)
        stmt = sa.delete(Subscription).where(Subscription.subscriber_id == subscriber.id)
        if subscription_id is not None:
            stmt = stmt.where(Subscription.id == subscription_id)
        removed = uow.session.execute(stmt).rowcount  # type: ignore[attr-defined]
        uow.commit()
        return UnsubscribeResult(
            site_name=site.name,
            email_masked=mask_email(subscriber.email),
            everything=subscription_id is None,
            removed=int(removed or 0),
            locale=reader_locale(subscriber, site),
        )


def _target(
    site: Site, kind: str, page: Page | None, comment: Comment | None, cadence: str | None
) -> dict[str, Any]:
    if kind == "thread":
        if page is None:
            raise InvalidInput("page", "is required to follow a page's comments")
        if page.site_id != site.id:
            raise InvalidInput("page", "belongs to another site")
        return {"target": f"page:{page.id}", "page_id": page.id, "comment_id": None, "cadence": None}
    if kind == "replies":
        if comment is None or comment.id is None:
            raise InvalidInput("comment", "is required to follow its replies")
        return {
            "target": f"comment:{comment.id}",
            "page_id": comment.page_id,
            "comment_id": comment.id,
            "cadence": None,
        }
    cadence = check.one_of("cadence", cadence or DEFAULT_CADENCE, CADENCES)
    return {"target": "site", "page_id": None, "comment_id": None, "cadence": cadence}


def add_subscriber_if_new(uow: UnitOfWork, site_id: int, address: str) -> None:
    """Insert the site's subscriber row for ``address`` unless one exists (races included)."""
    insert_ignoring_conflict(
        uow.session,
        Subscriber.__table__,  # type: ignore[arg-type]
        {
            "site_id": site_id,
            "email": address,
            "created_at": uow.now(),
            "supporter": new_subscriber_flag(site_id, address),
        },
        ["site_id", "email"],
    )


def _lock_or_create_subscriber(uow: UnitOfWork, site: Site, address: str) -> Subscriber:
    """The site's subscriber for ``address``, created if new, its row locked for this transaction.

    The lock serialises concurrent requests for one address, so two forms sent at once
    cannot both decide that a confirmation mail is due. SQLite ignores FOR UPDATE; a no-op
    UPDATE takes its single write lock instead, before the row is read.
    """
    where = (Subscriber.site_id == site.id, Subscriber.email == address)
    if uow.session.get_bind().dialect.name == "sqlite":
        uow.session.execute(sa.update(Subscriber).where(*where).values(email=Subscriber.email))
    stmt = sa.select(Subscriber).where(*where).with_for_update().execution_options(populate_existing=True)
    subscriber = uow.session.scalars(stmt).one_or_none()
    if subscriber is None:
        add_subscriber_if_new(uow, site.id, address)
        subscriber = uow.session.scalars(stmt).one()
    return subscriber


def _request_confirmation(uow: UnitOfWork, subscriber: Subscriber) -> None:
    now = uow.now()
    last = subscriber.confirmation_requested_at
    if last is not None and now - last < CONFIRMATION_INTERVAL:
        return
    if _suppressed(uow.session, subscriber.email):
        return  # the address bounced or complained: mailing it again would hurt the sender
    subscriber.confirmation_requested_at = now
    uow.add_event(CONFIRMATION_REQUESTED, {"subscriber_id": subscriber.id})


def _suppressed(session: Session, email: str) -> bool:
    return session.scalars(sa.select(Suppression.id).where(Suppression.email == email)).first() is not None


def subscriber_and_site(session: Session, subscriber_id: int) -> tuple[Subscriber, Site]:
    """A subscriber named by a token, with its site, or NotFound once erased."""
    row = session.execute(
        sa.select(Subscriber, Site)
        .join(Site, Site.id == Subscriber.site_id)
        .where(Subscriber.id == subscriber_id)
    ).one_or_none()
    if row is None:
        # Erased on request, or the site was removed: the link cannot be honoured any more.
        raise NotFound("nothing is held for this address any more")
    return row[0], row[1]


def reader_locale(subscriber: Subscriber, site: Site) -> str:
    """The language of a subscriber's mails and pages: their own choice, else the site's."""
    return choose(subscriber.locale, default=site.language or DEFAULT)


def confirming_locale(uow: UnitOfWork, token: str) -> str:
    """The language of the page a confirmation link opens (the token's subscriber's)."""
    subscriber_id = links.read_confirm_token(uow.keys, token)
    with uow:
        subscriber, site = subscriber_and_site(uow.session, subscriber_id)
        return reader_locale(subscriber, site)
