"""Atom feeds of published comments: a site's latest, or one page's; what each entry says and is called.

Entries carry the author's name only (never an address) and the comment's sanitised HTML, the
same the widget shows. Ids are ``tag:`` URIs (RFC 4151) from the server's host name, the site's
key and the comment's id: they stay the same however often a feed is read or a comment edited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from engagement.errors import PageNotFound
from engagement.models import Comment, Page, Site
from engagement.services.discussion.permalinks import comment_url
from engagement.services.discussion.publication import APPROVED
from engagement.services.pages import find_page
from engagement.services.sites import get_site
from engagement.uow import UnitOfWork

FEED_SIZE = 50

_ENTRIES = (
    sa.select(
        Comment.id,
        Comment.parent_id,
        Comment.author_name,
        Comment.html,
        Comment.created_at,
        Comment.edited_at,
        Page.url,
        Page.key,
        Page.title,
    )
    .join(Page, Page.id == Comment.page_id)
    .where(Comment.status == APPROVED)
    .order_by(Comment.created_at.desc(), Comment.id.desc())
    .limit(FEED_SIZE)
)


@dataclass(frozen=True)
class FeedEntry:
    id: str
    comment_id: int
    author: str
    html: str
    published: datetime
    updated: datetime
    link: str | None
    page_title: str
    in_reply_to: int | None


@dataclass(frozen=True)
class Feed:
    """One feed: newest entry first; ``updated`` is the newest change (the site's birth when empty)."""

    id: str
    title: str
    site_key: str
    site_name: str
    page_url: str | None
    updated: datetime
    entries: tuple[FeedEntry, ...]


def site_feed(uow: UnitOfWork, site_key: str, authority: str) -> Feed:
    """The site's latest published comments, every page's; ``authority`` is the server's URL."""
    with uow:
        site = get_site(uow.session, site_key)
        rows = uow.session.execute(_ENTRIES.where(Page.site_id == site.id)).all()
        tag = _tag(authority, site)
        return _feed(tag, f"{tag}:comments", f"Comments on {site.name}", site, None, rows)


def page_feed(uow: UnitOfWork, site_key: str, page: str, authority: str) -> Feed:
    """One page's latest published comments; PageNotFound for a page nobody engaged with."""
    with uow:
        site = get_site(uow.session, site_key)
        found = find_page(uow.session, site, page)
        if found is None:
            raise PageNotFound(f"no page {page!r} on site {site_key!r}")
        rows = uow.session.execute(_ENTRIES.where(Comment.page_id == found.id)).all()
        tag = _tag(authority, site)
        title = f"Comments on {found.title or found.url or found.key}"
        return _feed(tag, f"{tag}:page:{found.id}", title, site, found.url, rows)


def _feed(tag: str, feed_id: str, title: str, site: Site, page_url: str | None, rows: Sequence[Any]) -> Feed:
    entries = tuple(_entry(tag, row) for row in rows)
    updated = max((e.updated for e in entries), default=site.created_at)
    return Feed(feed_id, title, site.key, site.name, page_url, updated, entries)


def _entry(tag: str, row: Any) -> FeedEntry:
    page_name = row.title or row.url or row.key
    return FeedEntry(
        id=f"{tag}:comment:{row.id}",
        comment_id=row.id,
        author=row.author_name,
        html=row.html,
        published=row.created_at,
        updated=row.edited_at or row.created_at,
        link=comment_url(row.url, row.id) if row.url else None,
        page_title=page_name,
        in_reply_to=row.parent_id,
    )


def _tag(authority: str, site: Site) -> str:
    """``tag:host,date:site``: the date the site was added, so the name is ours alone for good."""
    host = urlsplit(authority).hostname or "localhost"
    return f"tag:{host},{site.created_at:%Y-%m-%d}:{site.key}"
