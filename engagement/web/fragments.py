"""``GET /api/v1/comments.html``: a thread as an HTML fragment with schema.org JSON-LD.

A publisher's server or static build puts it in the article, so search engines index the comments.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from engagement.core import Core
from engagement.i18n.catalogs import template_callables
from engagement.i18n.locales import direction, html_lang
from engagement.services.discussion.threads import ThreadQuery, list_thread
from engagement.services.structured_data import discussion_posting, json_ld
from engagement.services.thread_language import thread_locale
from engagement.web.comments import THREAD_CACHE, PageQuery
from engagement.web.cors import bind_site
from engagement.web.deps import SiteQuery, Uow
from engagement.web.errors import responses
from engagement.web.templating import path_for
from engagement.web.thread_html import ThreadLinks, query

router = APIRouter(prefix="/api/v1", tags=["comments"], responses=responses(503))
FRAGMENT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "An HTML fragment"},
    304: {"description": "Unchanged since the ETag given"},
}


@router.get(
    "/comments.html",
    response_class=Response,
    responses={**FRAGMENT, **responses(404, 422)},
)
async def get_thread_html(
    request: Request,
    uow: Uow,
    site: SiteQuery,
    page: PageQuery,
    sort: Literal["newest", "oldest", "top"] = "newest",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    url: Annotated[
        str | None, Query(max_length=2000, description="The article's canonical URL, when `page` is an id")
    ] = None,
    lang: Annotated[
        str | None,
        Query(max_length=35, description="A BCP 47 tag; one we do not ship gives the site's language"),
    ] = None,
) -> Response:
    """The thread's first page as HTML: the widget's markup (``data-engagement-ssr``, which the
    widget takes over) and a ``DiscussionForumPosting`` whose comments are schema.org ``Comment``s."""
    bind_site(request, site)
    thread = list_thread(uow, ThreadQuery(site=site, page=page, sort=sort, limit=limit))
    # The publisher's server asks, not the reader's browser: the site's language unless named.
    locale = thread_locale(uow, site, lang)
    page_url = url or thread.page.url
    core: Core = request.app.state.core
    more = None
    if thread.next_cursor:
        embed = path_for(request, "embed_thread")
        more_query = query(site=site, page=page, sort=sort, cursor=thread.next_cursor, lang=lang)
        more = f"{core.settings.base_url}{embed}?{more_query}"
    templates = request.app.state.templates
    content = (
        templates.get_template("embed/fragment.html")
        .render(
            site=site,
            page=page,
            thread=thread,
            lang=html_lang(locale),
            dir=direction(locale),
            **template_callables(locale, html=True),
            links=ThreadLinks(page_url, locale=locale),
            json_ld=json_ld(discussion_posting(thread, page_url)),
            more_url=more,
        )
        .encode()
    )
    etag = '"' + hashlib.blake2b(content, digest_size=12).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": THREAD_CACHE}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type="text/html; charset=utf-8", headers=headers)
