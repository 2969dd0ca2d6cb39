"""Atom feeds: ``/feeds/{site}/comments.atom`` and ``/feeds/{site}/page.atom?page=``.

ETag, Last-Modified and 304, so a feed reader's polling costs a few bytes.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from engagement.core import Core
from engagement.services.feeds import Feed, page_feed, site_feed
from engagement.web.comments import PageQuery
from engagement.web.deps import SitePath, Uow
from engagement.web.errors import responses
from engagement.web.templating import path_for
from engagement.web.thread_html import query

router = APIRouter(prefix="/feeds", tags=["feeds"], responses=responses(503))
ATOM = "application/atom+xml; charset=utf-8"
# Feed readers poll; five minutes keeps a shared cache useful without hiding new comments long.
FEED_CACHE = "public, max-age=300"
FEED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/atom+xml": {"schema": {"type": "string"}}}, "description": "An Atom feed"},
    304: {"description": "Unchanged since the ETag or date given"},
    **responses(404, 422),
}


@router.get("/{site}/comments.atom", response_class=Response, responses=FEED_RESPONSES)
async def site_comments_feed(site: SitePath, request: Request, uow: Uow) -> Response:
    """The site's latest 50 published comments, newest first."""
    core: Core = request.app.state.core
    feed = site_feed(uow, site, core.settings.base_url)
    return _answer(request, feed, path_for(request, "site_comments_feed", site=site))


@router.get("/{site}/page.atom", name="page_feed", response_class=Response, responses=FEED_RESPONSES)
async def page_feed_route(site: SitePath, page: PageQuery, request: Request, uow: Uow) -> Response:
    """One page's latest 50 published comments, newest first."""
    core: Core = request.app.state.core
    feed = page_feed(uow, site, page, core.settings.base_url)
    return _answer(request, feed, path_for(request, "page_feed", site=site) + "?" + query(page=page))


def _answer(request: Request, feed: Feed, self_path: str) -> Response:
    core: Core = request.app.state.core
    body = (
        request.app.state.templates.get_template("feeds/atom.xml")
        .render(feed=feed, self_url=core.settings.base_url + self_path, rfc3339=_rfc3339)
        .encode()
    )
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(feed.updated.astimezone(UTC), usegmt=True),
        "Cache-Control": FEED_CACHE,
    }
    if _unchanged(request, etag, feed.updated):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=ATOM, headers=headers)


def _unchanged(request: Request, etag: str, updated: datetime) -> bool:
    """RFC 9110: If-None-Match decides when sent; If-Modified-Since only without it."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return etag in if_none_match or if_none_match.strip() == "*"
    since = request.headers.get("if-modified-since")
    if not since:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored, as the RFC says
    if when.tzinfo is None:
        return False
    return updated.replace(microsecond=0) <= when


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
