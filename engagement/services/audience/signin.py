"""Who a request comes from: a guest's browser, or a reader the publisher's site signed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from engagement.errors import SignInRequired, Unauthenticated
from engagement.models import Comment, Page, Site
from engagement.services.pages import page_key
from engagement.services.site_cache import SiteRules, site_rules
from engagement.sso_tokens import SignedIn, read_token
from engagement.uow import UnitOfWork


@dataclass(frozen=True)
class Visitor:
    """What a request carries, unchecked: the widget's random id and a sign-in token."""

    reader_id: str | None = None
    token: str | None = None


@dataclass(frozen=True)
class Identity:
    """The reader id the services key votes, reactions and comments by, and the signed-in reader.

    A signed-in reader's id is derived from the site and the token's subject, so it is the same
    in every browser they use; a guest's is the widget's random id.
    """

    reader_id: str | None
    signed_in: SignedIn | None = None


@dataclass(frozen=True)
class Me:
    """What `GET /api/v1/me` tells the widget: never the address."""

    signed_in: bool
    name: str | None = None
    verified: bool = False
    supporter: bool = False
    # Their comments on the page asked about that they may still edit or delete (from any device).
    editable: tuple[int, ...] = ()


_SITE_OF_COMMENT = (
    sa.select(Site.key).join(Page, Page.site_id == Site.id).join(Comment, Comment.page_id == Page.id)
).where(Comment.id == sa.bindparam("cid"))


def identify(uow: UnitOfWork, site_key: str, visitor: Visitor, *, writing: bool) -> Identity:
    """The identity of ``visitor`` on the site; a token is checked whole (Unauthenticated with the
    reason), and a guest's write on a site that requires sign-in is refused (SignInRequired)."""
    if visitor.token is None and not writing:
        return Identity(visitor.reader_id)
    with uow:
        return identity_for(uow, site_rules(uow, site_key), visitor, writing=writing)


def identify_for_comment(uow: UnitOfWork, comment_id: int, visitor: Visitor, *, writing: bool) -> Identity:
    """As :func:`identify`, on the site of the comment (a missing one is the service's 404)."""
    if visitor.token is None and not writing:
        return Identity(visitor.reader_id)
    with uow:
        site_key = uow.session.scalar(_SITE_OF_COMMENT, {"cid": comment_id})
        if site_key is None:
            return Identity(visitor.reader_id)
        return identity_for(uow, site_rules(uow, site_key), visitor, writing=writing)


def identity_for(uow: UnitOfWork, rules: SiteRules, visitor: Visitor, *, writing: bool) -> Identity:
    """The identity of ``visitor`` under a site's rules (inside ``with uow``)."""
    if visitor.token is None:
        if writing and rules.sso_required:
            raise SignInRequired(f"sign in on the site to write here: {rules.key!r} requires it")
        return Identity(visitor.reader_id)
    if rules.sso_secret is None:
        raise Unauthenticated(f"site {rules.key!r} does not accept sign-in tokens")
    signed_in = read_token(visitor.token, rules.sso_secret, rules.key, uow.now())
    return Identity(uow.keys.signed_in_reader_id(rules.key, signed_in.subject), signed_in)


def who_is(uow: UnitOfWork, site_key: str, visitor: Visitor, page: str | None = None) -> Me:
    """Whom the visitor's token signs in on the site (``verified``: their comments will say so),
    and, given a page, which of their comments there are still open to editing."""
    key = page_key(page) if page is not None else None
    with uow:
        rules = site_rules(uow, site_key)
        identity = identity_for(uow, rules, visitor, writing=False)
        if identity.signed_in is None or identity.reader_id is None:
            return Me(signed_in=False)
        editable = _editable(uow, rules, key, identity.reader_id) if key is not None else ()
    signed_in = identity.signed_in
    return Me(
        signed_in=True, name=signed_in.name, verified=True, supporter=signed_in.supporter, editable=editable
    )


def _editable(uow: UnitOfWork, rules: SiteRules, key: str, reader_id: str) -> tuple[int, ...]:
    window = uow.session.scalar(sa.select(Site.edit_window_seconds).where(Site.id == rules.id)) or 0
    found = (
        sa.select(Comment.id)
        .join(Page, Page.id == Comment.page_id)
        .where(
            Page.site_id == rules.id,
            Page.key == key,
            Comment.author_verified,
            Comment.author_reader == uow.keys.reader_hash(reader_id),
            Comment.status.in_(("approved", "pending")),
            Comment.created_at > uow.now() - timedelta(seconds=window),
        )
        .order_by(Comment.id)
        .limit(200)
    )
    return tuple(uow.session.scalars(found))
