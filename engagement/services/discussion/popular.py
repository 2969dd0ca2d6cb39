"""More discussions: a site's most discussed pages of the last days, for the widget to link to."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from engagement import validation as check
from engagement.db import UTCDateTime
from engagement.errors import SiteNotFound
from engagement.models import Comment, Page, Site
from engagement.services.discussion.publication import APPROVED
from engagement.services.pages import page_key
from engagement.services.sites import is_site_key
from engagement.thread_cache import CachedPopular
from engagement.uow import UnitOfWork

MAX_DAYS = 90
MAX_LIMIT = 20

_sites = Site.__table__.c
_pages = Page.__table__.c
_comments = Comment.__table__.c
_since = sa.bindparam("since", type_=UTCDateTime())
_count = sa.func.count(_comments.id).label("comments")

# Pages whose last comment is older than the window are passed over before any comment is
# counted; a site that turned the list off counts nothing.
_RANKED = (
    sa.select(_pages.site_id, _pages.id, _pages.title, _pages.url, _pages.last_comment_at, _count)
    .join(Comment.__table__, _comments.page_id == _pages.id)
    .where(
        _pages.site_id
        == sa.select(_sites.id).where(_sites.key == sa.bindparam("site"), _sites.popular).scalar_subquery(),
        _pages.last_comment_at >= _since,
        _pages.url.is_not(None),  # a page known by an id alone has no link to give
        _pages.key != sa.bindparam("exclude"),
        _comments.status == APPROVED,
        _comments.published_at >= _since,
    )
    .group_by(_pages.id)
    .order_by(_count.desc(), _pages.last_comment_at.desc(), _pages.id.desc())
    .limit(sa.bindparam("limit"))
    .subquery()
)
# The site's setting with its pages in one statement: one row with NULL pages when it has none.
_POPULAR = (
    sa.select(_sites.popular, _sites.popular_title, _RANKED.c.title, _RANKED.c.url, _RANKED.c.comments)
    .select_from(Site.__table__)
    .outerjoin(_RANKED, _RANKED.c.site_id == _sites.id)
    .where(_sites.key == sa.bindparam("site"))
    .order_by(_RANKED.c.comments.desc(), _RANKED.c.last_comment_at.desc(), _RANKED.c.id.desc())
)


def popular_pages(
    uow: UnitOfWork, site_key: str, *, days: int = 7, limit: int = 5, page: str | None = None
) -> dict[str, Any]:
    """The site's pages with the most comments published in the last ``days``, most first,
    ``page`` (the one the reader is on) left out; empty when the site turned the list off.

    One statement, kept in the thread cache as counts are: this process's commits empty it,
    another's show within ``ENGAGEMENT_THREAD_CACHE_SECONDS``.
    """
    days = check.integer("days", days, minimum=1, maximum=MAX_DAYS)
    limit = check.integer("limit", limit, minimum=1, maximum=MAX_LIMIT)
    exclude = page_key(page) if page is not None else ""
    if not is_site_key(site_key):
        raise SiteNotFound(f"no site with key {site_key!r}")
    cache_key = ("popular", site_key, days, limit, exclude)
    found = uow.thread_cache.get(cache_key)
    if not isinstance(found, CachedPopular):
        generation = uow.thread_cache.generation()
        params = {
            "site": site_key,
            "since": uow.now() - timedelta(days=days),
            "limit": limit,
            "exclude": exclude,
        }
        with uow.reading() as connection:
            rows = connection.execute(_POPULAR, params).all()
        if not rows:
            raise SiteNotFound(f"no site with key {site_key!r}")
        pages = tuple(
            {"title": title, "url": url, "comments": int(n)}
            for _, _, title, url, n in rows
            if url is not None
        )
        found = CachedPopular(enabled=bool(rows[0][0]), title=rows[0][1], pages=pages)
        uow.thread_cache.put(cache_key, found, generation)
    return {
        "enabled": found.enabled,
        "title": found.title,
        "days": days,
        "pages": [dict(p) for p in found.pages],
    }
