"""Everything held about an e-mail address, across sites: export it, or erase it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement import validation as check
from engagement.models import (
    Ban,
    Comment,
    Delivery,
    Page,
    Reaction,
    Report,
    Site,
    Subscriber,
    Subscription,
    Supporter,
    Suppression,
    Vote,
)
from engagement.services.discussion.public import iso as _iso
from engagement.uow import UnitOfWork

DELETED_AUTHOR = "deleted user"
_Row = TypeVar("_Row", Ban, Delivery, Subscriber, Supporter)


@dataclass(frozen=True)
class ErasureReport:
    """Rows changed per kind: comments anonymised, the rest removed."""

    email: str
    counts: dict[str, int]


def export_address(uow: UnitOfWork, email: str) -> dict[str, Any]:
    """A JSON-ready account of what every site holds about ``email`` (for an access request)."""
    address = check.email("email", email)
    with uow:
        session = uow.session
        return {
            "email": address,
            "exported_at": _iso(uow.now()),
            "subscribers": _subscribers(session, address),
            "comments": _comments(session, address),
            "deliveries": _deliveries(session, address),
            "suppression": _suppression(session, address),
            "supporters": [
                {
                    "site": key,
                    "active": supporter.active,
                    "status": supporter.status,
                    "tier": supporter.tier,
                    "source": supporter.source,
                    "changed_at": _iso(supporter.changed_at),
                }
                for supporter, key in _with_site_key(session, Supporter, Supporter.email == address)
            ],
            "bans": [
                {"site": key, "reason": ban.reason, "created_at": _iso(ban.created_at)}
                for ban, key in _with_site_key(session, Ban, Ban.email == address)
            ],
        }


def erase_address(uow: UnitOfWork, email: str) -> ErasureReport:
    """Forget ``email`` everywhere in one transaction (an erasure request).

    Comments stay, so threads keep their sense, but their author becomes "deleted user" with
    no address, reader id or edit token left. Subscribers (and so their subscriptions),
    supporter records and deliveries go. Bans and suppressions stay: they exist to protect
    others, and erasing them would let the address be banned-then-welcome or mailed again after a complaint.

    A reader the publisher's site signed in with this address is known by a reader id derived
    from their subject: every comment, vote, reaction and report of that reader goes the same
    way, including comments whose token carried no address.
    """
    address = check.email("email", email)
    with uow:
        session = uow.session
        readers = _signed_in_readers(session, address)
        authored = Comment.author_email == address
        if readers:
            authored = sa.or_(authored, sa.and_(Comment.author_verified, Comment.author_reader.in_(readers)))
        anonymised = (
            sa.update(Comment)
            .where(authored)
            .values(
                author_name=DELETED_AUTHOR,
                author_email=None,
                author_reader=None,
                edit_token_hash=None,
                author_supporter=False,
                author_verified=False,
                author_sso_supporter=False,
            )
            .execution_options(synchronize_session=False)
        )
        subscribers = sa.select(Subscriber.id).where(Subscriber.email == address)
        counts = {
            "comments": _changed(session, anonymised),
            "subscriptions": _changed(
                session, sa.delete(Subscription).where(Subscription.subscriber_id.in_(subscribers))
            ),
            "subscribers": _changed(session, sa.delete(Subscriber).where(Subscriber.email == address)),
            "supporters": _changed(session, sa.delete(Supporter).where(Supporter.email == address)),
            "deliveries": _changed(session, sa.delete(Delivery).where(Delivery.recipient == address)),
            **_signed_in_reader_rows(session, readers),
        }
        uow.commit()
        return ErasureReport(email=address, counts=counts)


def _signed_in_readers(session: Session, address: str) -> list[str]:
    """The reader ids (hashed) under which the publisher's sites signed this address in."""
    found = sa.select(Comment.author_reader).where(
        Comment.author_email == address, Comment.author_verified, Comment.author_reader.is_not(None)
    )
    return sorted({reader for reader in session.scalars(found.distinct()) if reader})


def _signed_in_reader_rows(session: Session, readers: list[str]) -> dict[str, int]:
    """Votes, reactions and reports of those readers, removed (no counts when there are none)."""
    if not readers:
        return {}
    # The scores those votes made go with them.
    given = session.execute(
        sa.select(Vote.comment_id, sa.func.sum(Vote.value))
        .where(Vote.reader_hash.in_(readers))
        .group_by(Vote.comment_id)
    ).all()
    for comment_id, total in given:
        session.execute(
            sa.update(Comment).where(Comment.id == comment_id).values(score=Comment.score - int(total or 0))
        )
    return {
        "votes": _changed(session, sa.delete(Vote).where(Vote.reader_hash.in_(readers))),
        "reactions": _changed(session, sa.delete(Reaction).where(Reaction.reader_hash.in_(readers))),
        "reports": _changed(session, sa.delete(Report).where(Report.reader_hash.in_(readers))),
    }


def _subscribers(session: Session, address: str) -> list[dict[str, Any]]:
    rows = _with_site_key(session, Subscriber, Subscriber.email == address)
    wishes: dict[int, list[dict[str, Any]]] = {subscriber.id: [] for subscriber, _ in rows}
    for sub, url, title in session.execute(
        sa.select(Subscription, Page.url, Page.title)
        .outerjoin(Page, Page.id == Subscription.page_id)
        .where(Subscription.subscriber_id.in_(list(wishes)))
        .order_by(Subscription.id)
    ):
        wishes[sub.subscriber_id].append(
            {
                "kind": sub.kind,
                "page": {"url": url, "title": title} if sub.page_id else None,
                "comment_id": sub.comment_id,
                "cadence": sub.cadence,
                "created_at": _iso(sub.created_at),
            }
        )
    return [
        {
            "site": key,
            "confirmed_at": _iso(subscriber.confirmed_at),
            "confirmation_requested_at": _iso(subscriber.confirmation_requested_at),
            "supporter": subscriber.supporter,
            "created_at": _iso(subscriber.created_at),
            "subscriptions": wishes[subscriber.id],
        }
        for subscriber, key in rows
    ]


def _comments(session: Session, address: str) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.select(Comment, Page.key, Page.url, Page.title, Site.key)
        .join(Page, Page.id == Comment.page_id)
        .join(Site, Site.id == Page.site_id)
        .where(Comment.author_email == address)
        .order_by(Comment.id)
    )
    return [
        {
            "id": comment.id,
            "site": site_key,
            "page": {"key": page_key, "url": url, "title": title},
            "parent_id": comment.parent_id,
            "author_name": comment.author_name,
            "body": comment.body,
            "status": comment.status,
            "created_at": _iso(comment.created_at),
            "edited_at": _iso(comment.edited_at),
            "anchor": {
                "passage": comment.anchor_passage,
                "exact": comment.anchor_exact,
                "prefix": comment.anchor_prefix,
                "suffix": comment.anchor_suffix,
            }
            if comment.has_anchor
            else None,
        }
        for comment, page_key, url, title, site_key in rows
    ]


def _deliveries(session: Session, address: str) -> list[dict[str, Any]]:
    rows = _with_site_key(session, Delivery, Delivery.recipient == address)
    return [
        {
            "site": key,
            "template": delivery.template,
            "status": delivery.status,
            "reason": delivery.reason,
            "created_at": _iso(delivery.created_at),
            "sent_at": _iso(delivery.sent_at),
        }
        for delivery, key in rows
    ]


def _suppression(session: Session, address: str) -> dict[str, Any] | None:
    row = session.scalars(sa.select(Suppression).where(Suppression.email == address)).one_or_none()
    if row is None:
        return None
    return {"reason": row.reason, "detail": row.detail, "created_at": _iso(row.created_at)}


def _with_site_key(
    session: Session, model: type[_Row], where: sa.ColumnElement[bool]
) -> list[tuple[_Row, str | None]]:
    """The rows of ``model`` that ``where`` picks, oldest first, each with its site's key."""
    site_id: Any = model.site_id
    stmt = sa.select(model, Site.key).outerjoin(Site, Site.id == site_id).where(where).order_by(model.id)
    return [(row, key) for row, key in session.execute(stmt)]


def _changed(session: Session, statement: sa.Executable) -> int:
    """How many rows an UPDATE or DELETE changed."""
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]
