"""The one-click unsubscribe link of every mail: subscribers, moderators and approved authors.

Every mail's ``List-Unsubscribe`` points at ``/s/unsubscribe/<token>``; the token's purpose
says what it stops. A subscriber's token removes subscriptions; a moderator's takes the
address off the site's moderators; an author's turns off approval notices on the site.
Each is idempotent: a second click removes nothing and says so.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement import links
from engagement.errors import InvalidToken, NotFound
from engagement.keys import Keys
from engagement.models import Site, Subscriber
from engagement.services.audience.subscriptions import (
    UnsubscribeResult,
    add_subscriber_if_new,
    mask_email,
    reader_locale,
    unsubscribe,
)
from engagement.uow import UnitOfWork

OPTOUTS = ("moderator_optout", "approval_optout")


def read_unsubscribe_link(keys: Keys, token: str) -> str:
    """The purpose of a valid unsubscribe link (checked without acting), or InvalidToken."""
    try:
        links.read_unsubscribe_token(keys, token)
        return "unsubscribe"
    except InvalidToken:
        pass
    for purpose in OPTOUTS:
        try:
            links.read_optout_token(keys, purpose, token)
            return purpose
        except InvalidToken:
            continue
    raise InvalidToken("this link is not valid")


def unsubscribe_by_link(uow: UnitOfWork, token: str) -> UnsubscribeResult:
    """Do what a mail's unsubscribe link says, whichever kind of mail carried it."""
    purpose = read_unsubscribe_link(uow.keys, token)
    if purpose == "unsubscribe":
        return unsubscribe(uow, token)
    site_id, email = links.read_optout_token(uow.keys, purpose, token)
    if purpose == "moderator_optout":
        return stop_moderation_mails(uow, site_id, email)
    return stop_approval_notices(uow, site_id, email)


def stop_moderation_mails(uow: UnitOfWork, site_id: int, email: str) -> UnsubscribeResult:
    """Take ``email`` off the site's moderators; ``removed`` is 0 when it was off already."""
    address = email.lower()
    with uow:
        # Locked: a site edit and this click must not each write back their own old list.
        site = _site(uow, site_id, for_update=True)
        kept = [e for e in site.moderator_emails if str(e).lower() != address]
        removed = len(site.moderator_emails) - len(kept)
        if removed:
            site.moderator_emails = kept
        result = UnsubscribeResult(
            site.name, mask_email(address), everything=False, removed=removed, locale=site.language
        )
        uow.commit()
        return result


def stop_approval_notices(uow: UnitOfWork, site_id: int, email: str) -> UnsubscribeResult:
    """No more "your comment was approved" mails to ``email`` from the site."""
    address = email.lower()
    with uow:
        site = _site(uow, site_id, for_update=False)
        # The author need not be a subscriber: the row holds the wish, and mails nobody.
        add_subscriber_if_new(uow, site.id, address)
        subscriber = uow.session.scalars(
            sa.select(Subscriber).where(Subscriber.site_id == site.id, Subscriber.email == address)
        ).one()
        removed = 0
        if subscriber.approval_notices_off_at is None:
            subscriber.approval_notices_off_at = uow.now()
            removed = 1
        result = UnsubscribeResult(
            site.name,
            mask_email(address),
            everything=False,
            removed=removed,
            locale=reader_locale(subscriber, site),
        )
        uow.commit()
        return result


def approval_notices_off(session: Session, site_id: int, email: str) -> bool:
    """Whether ``email`` turned approval notices off for the site (read at send time)."""
    stmt = sa.select(Subscriber.approval_notices_off_at).where(
        Subscriber.site_id == site_id, Subscriber.email == email.lower()
    )
    return session.scalars(stmt).first() is not None


def _site(uow: UnitOfWork, site_id: int, *, for_update: bool) -> Site:
    stmt = sa.select(Site).where(Site.id == site_id)
    if for_update:
        stmt = stmt.with_for_update()
    site = uow.session.scalars(stmt).one_or_none()
    if site is None:
        raise NotFound("this site no longer exists")
    return site
