"""The thread without JavaScript: ``/embed/thread`` (and its replies' pages), framed in ``<noscript>``.

It reads, pages and posts comments with plain links and a form (POST, then redirect to a GET).
No cookie is set or read. The form carries a signed token bound to the site and page
(``services/thread_forms``), and a post is refused unless the browser says it came from our own
page (``Sec-Fetch-Site``, ``Origin``). Posting goes through ``post_comment``, as the API's does:
the same validation, bans, rate limits, moderation and "Notify of" choice.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engagement.core import Core
from engagement.errors import EngagementError, Forbidden, RateLimited, SignInRequired
from engagement.i18n.locales import from_accept_language
from engagement.services.audience.signin import Visitor, identify
from engagement.services.discussion.comments import PostComment, post_comment
from engagement.services.discussion.public import CommentView
from engagement.services.discussion.thread_sql import REPLIES_PER_THREAD
from engagement.services.discussion.threads import (
    RepliesQuery,
    ThreadQuery,
    ThreadView,
    list_replies,
    list_thread,
)
from engagement.services.thread_forms import check_thread_form_token, thread_form_token
from engagement.services.thread_language import thread_locale
from engagement.uow import UnitOfWork
from engagement.web.comments import PageQuery
from engagement.web.cors import origin_of
from engagement.web.deps import ClientIp, SiteQuery, Uow
from engagement.web.errors import responses, status_for
from engagement.web.templating import HTML_PAGE, form_fields, html_errors, path_for, render, render_error
from engagement.web.thread_html import ThreadLinks, find_comment, frame_headers, query

router = APIRouter(tags=["no-JavaScript thread"], responses=responses(503))
PAGE_SIZE = 20
SORTS = (("newest", "Newest"), ("oldest", "Oldest"), ("top", "Most voted"))
Sort = Literal["newest", "oldest", "top"]
Cursor = Annotated[str | None, Query(max_length=200, description="`More comments` link's cursor")]
Title = Annotated[str | None, Query(max_length=300, description="The page's title, for mails")]
Lang = Annotated[
    str | None, Query(max_length=35, description="A BCP 47 tag; one we do not ship gives the site's language")
]


@router.get("/embed/thread", response_class=HTMLResponse, responses={**HTML_PAGE, **html_errors(404, 422)})
async def embed_thread(
    request: Request,
    uow: Uow,
    site: SiteQuery,
    page: PageQuery,
    sort: Sort = "newest",
    cursor: Cursor = None,
    title: Title = None,
    reply: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="The comment to reply to")] = None,
    posted: Literal["approved", "pending"] | None = None,
    confirm: bool = False,
    lang: Lang = None,
) -> Response:
    """A page of the thread with its comment form, for readers without JavaScript."""
    params = {"site": site, "page": page, "sort": sort, "cursor": cursor, "title": title, "lang": lang}
    try:
        locale = _locale(request, uow, site, lang)
        thread = list_thread(
            uow, ThreadQuery(site=site, page=page, sort=sort, limit=PAGE_SIZE, cursor=cursor)
        )
        guests_write = _guests_write(uow, site)
    except EngagementError as exc:
        return _error(request, site, exc)
    # Not cached (the pages' no-store): back on the article after posting, a reader must see it.
    notice = {"posted": posted, "confirm": confirm, "guests_write": guests_write}
    return _page(request, thread, params, locale, reply=reply, notice=notice)


@router.get("/embed/replies", response_class=HTMLResponse, responses={**HTML_PAGE, **html_errors(404, 422)})
async def embed_replies(
    request: Request,
    uow: Uow,
    site: SiteQuery,
    page: PageQuery,
    comment: Annotated[int, Query(ge=1, le=2**31 - 1, description="The top-level comment")],
    cursor: Cursor = None,
    sort: Sort = "newest",
    title: Title = None,
    lang: Lang = None,
) -> Response:
    """The replies of a top-level comment beyond those its thread page carries, oldest first."""
    try:
        locale = _locale(request, uow, site, lang)
        found = list_replies(
            uow, RepliesQuery(site=site, comment_id=comment, cursor=cursor, limit=REPLIES_PER_THREAD)
        )
    except EngagementError as exc:
        return _error(request, site, exc)
    here = path_for(request, "embed_thread")
    base = {"site": site, "page": page, "sort": sort, "title": title, "lang": lang}
    more = path_for(request, "embed_replies")
    article = page if page.startswith(("https://", "http://")) else None
    response = render(
        request,
        "embed/replies.html",
        locale=locale,
        replies=found.replies,
        top=comment,
        links=ThreadLinks(article, lambda cid: f"{here}?{query(**base, reply=cid)}#eg-form", locale=locale),
        thread_url=f"{here}?{query(**base)}",
        next_url=f"{more}?{query(**base, comment=comment, cursor=found.next_cursor)}"
        if found.next_cursor
        else None,
        feed_url=path_for(request, "page_feed", site=site) + "?" + query(page=page),
    )
    response.headers.update(frame_headers(request, site))
    return response


@router.post(
    "/embed/thread",
    response_class=HTMLResponse,
    responses={303: {"description": "Posted: back to the thread"}, **html_errors(403, 404, 422, 429)},
)
async def embed_post(
    request: Request,
    uow: Uow,
    ip: ClientIp,
    site: SiteQuery,
    page: PageQuery,
    sort: Sort = "newest",
    cursor: Cursor = None,
    title: Title = None,
    lang: Lang = None,
) -> Response:
    """Post the form's comment; answer with a redirect to the thread, or the page with the reason."""
    params = {"site": site, "page": page, "sort": sort, "cursor": cursor, "title": title, "lang": lang}
    try:
        _check_origin(request)
        fields = await form_fields(request)
    except EngagementError as exc:
        return _error(request, site, exc)
    core: Core = request.app.state.core
    try:
        locale = _locale(request, uow, site, lang)
        check_thread_form_token(core.keys, site, page, fields.get("token"))
        # A guest, as every no-JavaScript reader is: refused where the site requires sign-in.
        identify(uow, site, Visitor(), writing=True)
        draft = _draft(fields, site, page, title, ip, locale)
        posted = await run_in_threadpool(post_comment, uow, draft)
    except EngagementError as exc:
        return await _refused(request, uow, params, fields, exc)
    # A reply is shown on the page its parent is on; a new comment on the first.
    shown_on = cursor if draft.parent else None
    back = query(
        site=site, page=page, sort=sort, cursor=shown_on, title=title, lang=lang, posted=posted.status
    )
    if posted.confirmation_needed:
        back += "&confirm=true"
    fragment = f"#engagement-comment-{posted.comment.id}" if posted.status == "approved" else "#eg-heading"
    return RedirectResponse(f"{path_for(request, 'embed_thread')}?{back}{fragment}", status_code=303)


def _draft(
    fields: dict[str, str], site: str, page: str, title: str | None, ip: str, locale: str
) -> PostComment:
    parent = fields.get("parent", "")
    if parent and not (parent.isdigit() and len(parent) < 11):
        parent = "0"  # the service refuses it with its reason
    return PostComment(
        site=site,
        page=page,
        page_title=title,
        parent=int(parent) if parent else None,
        author_name=fields.get("name", ""),
        author_email=fields.get("email") or None,
        body=fields.get("body", ""),
        notify=fields.get("notify", "none"),
        client_ip=ip,
        honeypot=fields.get("website") or None,
        locale=locale,  # the language of the page is the one of the mails they asked for
    )


def _check_origin(request: Request) -> None:
    """Refuse a post that a browser says came from elsewhere than our own page."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site != "same-origin":
        raise Forbidden("this form was sent from another site; it was refused")
    origin = request.headers.get("origin")
    if origin is None:
        return
    core: Core = request.app.state.core
    own = {
        origin_of(core.settings.base_url),
        f"{request.url.scheme}://{request.headers.get('host', '')}".lower(),
    }
    if origin == "null" or origin_of(origin) not in own:
        raise Forbidden("this form was sent from another site; it was refused")


def _guests_write(uow: UnitOfWork, site: str) -> bool:
    """Whether a guest may post here: the form is shown only then (sign-in needs the widget)."""
    try:
        identify(uow, site, Visitor(), writing=True)
    except SignInRequired:
        return False
    return True


def _locale(request: Request, uow: UnitOfWork, site: str, lang: str | None) -> str:
    return thread_locale(uow, site, lang, from_accept_language(request.headers.get("accept-language")))


async def _refused(
    request: Request, uow: UnitOfWork, params: dict[str, Any], fields: dict[str, str], exc: EngagementError
) -> Response:
    """The thread again with the reason and the reader's text (never their address) kept."""
    try:
        locale = _locale(request, uow, params["site"], params["lang"])
        thread = list_thread(
            uow, ThreadQuery(site=params["site"], page=params["page"], sort=params["sort"], limit=PAGE_SIZE)
        )
    except EngagementError as read_error:
        return _error(request, params["site"], read_error)
    parent = fields.get("parent", "")
    reply = int(parent) if parent.isdigit() and len(parent) < 11 else None
    response = _page(
        request,
        thread,
        {**params, "cursor": None},
        locale,
        reply=reply,
        error=exc.reason,
        form=fields,
        status=status_for(exc),
        notice={"guests_write": not isinstance(exc, SignInRequired)},
    )
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _page(
    request: Request,
    thread: ThreadView,
    params: dict[str, Any],
    locale: str,
    *,
    reply: int | None = None,
    notice: dict[str, Any] | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    core: Core = request.app.state.core
    site, page, here = params["site"], params["page"], path_for(request, "embed_thread")
    base = {k: params[k] for k in ("site", "page", "sort", "title", "lang")}

    def reply_href(comment_id: int) -> str:
        return f"{here}?{query(**base, cursor=params['cursor'], reply=comment_id)}#eg-form"

    def more_href(view: CommentView) -> str:
        replies = path_for(request, "embed_replies")
        return f"{replies}?{query(**base, comment=view.id, cursor=view.replies_cursor)}"

    def sort_url(key: str) -> str:
        return f"{here}?{query(**{**base, 'sort': key})}"

    parent = None
    if reply is not None:
        shown = find_comment(thread.comments, reply)
        parent = {"id": reply, "name": shown.author.name if shown and shown.author.name else f"#{reply}"}
    response = render(
        request,
        "embed/thread.html",
        status=status,
        locale=locale,
        thread=thread,
        links=ThreadLinks(thread.page.url, reply_href, more_href, locale=locale),
        sorts=SORTS,
        sort=params["sort"],
        sort_url=sort_url,
        token=thread_form_token(core.keys, site, page),
        post_url=f"{here}?{query(**base, cursor=params['cursor'])}",
        cancel_url=f"{here}?{query(**base, cursor=params['cursor'])}#eg-form",
        first_url=f"{here}?{query(**base)}" if params["cursor"] else None,
        next_url=f"{here}?{query(**base, cursor=thread.next_cursor)}" if thread.next_cursor else None,
        feed_url=path_for(request, "page_feed", site=site) + "?" + query(page=page),
        parent=parent,
        error=error,
        form={"body": "", "name": "", "notify": "none", **(form or {})},
        **(notice or {}),
    )
    response.headers.update(frame_headers(request, site))
    return response


def _error(request: Request, site: str, exc: EngagementError) -> HTMLResponse:
    # Framed like the thread, so the reader sees the reason where the thread would be.
    response = render_error(request, exc)
    response.headers.update(frame_headers(request, site))
    return response
