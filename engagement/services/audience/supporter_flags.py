"""The supporter marks other tables carry: a subscriber's (its mails thank) and a comment's badge.

Both follow the supporters table; these statements bring them in line after it changes, and
give a new subscriber its mark as it is created, so mail and thread reads join nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement.models import Comment, Page, Site, Subscriber, Supporter

_CHUNK = 500  # addresses per statement: SQLite binds at most a few thousand parameters


def is_supporter(site_id: Any, email: Any) -> sa.Exists:
    """Whether ``email`` is an active supporter of ``site_id`` (values or columns)."""
    return sa.exists().where(Supporter.site_id == site_id, Supporter.email == email, Supporter.active)


def new_subscriber_flag(site_id: int, address: str) -> sa.ColumnElement[bool]:
    """The mark a subscriber created now starts with: in the INSERT, no extra round trip."""
    return sa.select(is_supporter(site_id, address)).scalar_subquery()


def refresh_flags(session: Session, site: Site, addresses: Collection[str] | None = None) -> None:
    """Bring the marks of ``addresses`` (every address of the site when None) in line."""
    if addresses is None:
        _refresh(session, site, None)
        return
    ordered = sorted(addresses)
    for start in range(0, len(ordered), _CHUNK):
        _refresh(session, site, ordered[start : start + _CHUNK])


def _refresh(session: Session, site: Site, addresses: list[str] | None) -> None:
    subscribers = sa.update(Subscriber).where(Subscriber.site_id == site.id)
    comments = sa.update(Comment).where(
        Comment.page_id.in_(sa.select(Page.id).where(Page.site_id == site.id))
    )
    if addresses is not None:
        subscribers = subscribers.where(Subscriber.email.in_(addresses))
        comments = comments.where(Comment.author_email.in_(addresses))
    else:
        comments = comments.where(sa.or_(Comment.author_email.is_not(None), Comment.author_sso_supporter))
    session.execute(
        subscribers.values(supporter=is_supporter(Subscriber.site_id, Subscriber.email)),
        execution_options={"synchronize_session": False},
    )
    # A signed-in reader's token may call them a supporter: that holds whatever the table says.
    badge = sa.and_(
        sa.literal(site.supporter_badges),
        sa.or_(Comment.author_sso_supporter, is_supporter(site.id, Comment.author_email)),
    )
    session.execute(comments.values(author_supporter=badge), execution_options={"synchronize_session": False})
