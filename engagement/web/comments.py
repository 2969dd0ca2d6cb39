"""The comment routes: post, read a thread (ETag, 304) or a permalink's part of it, edit and delete."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response

from engagement.services.audience.signin import identify, identify_for_comment
from engagement.services.discussion.comments import PostComment, delete_comment, edit_comment, post_comment
from engagement.services.discussion.permalinks import ContextQuery, comment_context
from engagement.services.discussion.thread_sql import REPLIES_PER_THREAD
from engagement.services.discussion.threads import RepliesQuery, ThreadQuery, list_replies, list_thread
from engagement.uow import UnitOfWork
from engagement.web.bearer import bearer_token
from engagement.web.cors import bind_site
from engagement.web.deps import SiteQuery, Uow, client_ip_of, uow_of
from engagement.web.errors import responses
from engagement.web.responses import FastJSON, Rendered, dumps
from engagement.web.schemas import (
    CommentEdit,
    CommentIn,
    ContextOut,
    EditedOut,
    PostedOut,
    RepliesOut,
    ThreadOut,
    comment_json,
    replies_json,
    thread_json,
)
from engagement.web.signin import SSO_HEADER, SsoToken, VisitorDep
from engagement.web.votes import CommentId

router = APIRouter(prefix="/api/v1", tags=["comments"], responses=responses(503))

# Short: a reader sees new comments within seconds; the ETag makes revalidation cheap.
THREAD_CACHE = "public, max-age=5, stale-while-revalidate=30"
# Every read that carries a reader's own votes varies with the reader: a shared cache keeps one copy each.
READ_HEADERS = {"Cache-Control": THREAD_CACHE, "Vary": f"X-Engagement-Reader, {SSO_HEADER}"}


def _edit_token(
    authorization: Annotated[
        str | None,
        Header(
            alias="Authorization",
            description="`Bearer <edit_token>`, the token the comment's POST answered with "
            "(not needed by its author signed in with `X-Engagement-SSO`)",
        ),
    ] = None,
    sso: SsoToken = None,
) -> str | None:
    if authorization is None and sso is not None:
        return None  # the author proves it by signing in
    return bearer_token(authorization, "edit_token")


EditToken = Annotated[str | None, Depends(_edit_token)]

PageQuery = Annotated[str, Query(max_length=2000, description="The page's URL, path or explicit id")]


@router.post(
    "/comments",
    status_code=201,
    response_model=PostedOut,
    responses={
        202: {"model": PostedOut, "description": "Stored; waits for a moderator"},
        **responses(400, 401, 403, 404, 413, 422, 429),
    },
)
def post_a_comment(payload: CommentIn, request: Request, visitor: VisitorDep) -> FastJSON:
    """Post a comment or a reply: 201 when published, 202 when it waits for moderation.

    A reader signed in by the publisher's site (`X-Engagement-SSO`) sends no `author`: the
    token's name (and address, for "Notify of") are used."""
    bind_site(request, payload.site)
    uow, ip = uow_of(request), client_ip_of(request)
    who = identify(uow, payload.site, visitor, writing=True)
    author = payload.author
    posted = post_comment(
        uow,
        PostComment(
            site=payload.site,
            page=payload.page,
            page_title=payload.page_title,
            parent=payload.parent,
            author_name=author.name if author else None,
            author_email=author.email if author else None,
            body=payload.body,
            anchor=payload.anchor.to_anchor() if payload.anchor else None,
            notify=payload.notify,
            reader_id=who.reader_id,
            client_ip=ip,
            honeypot=payload.honeypot,
            locale=payload.locale,
            signed_in=who.signed_in,
        ),
    )
    content = {
        "comment": comment_json(posted.comment),
        "edit_token": posted.edit_token,
        "status": posted.status,
        "confirmation_needed": posted.confirmation_needed,
    }
    return FastJSON(content, status_code=201 if posted.status == "approved" else 202)


@router.get(
    "/comments",
    response_model=ThreadOut,
    responses={304: {"description": "Unchanged since the ETag given"}, **responses(400, 401, 403, 404, 422)},
)
async def get_thread(
    request: Request,
    uow: Uow,
    visitor: VisitorDep,
    site: SiteQuery,
    page: PageQuery,
    sort: Literal["newest", "oldest", "top"] = "newest",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the page before")
    ] = None,
    passage: Annotated[str | None, Query(max_length=200, description="A passage id, or `*` for all")] = None,
) -> Response:
    """A page of top-level comments, each with its replies, and the page's reactions."""
    bind_site(request, site)
    reader = identify(uow, site, visitor, writing=False).reader_id
    query = ThreadQuery(
        site=site, page=page, sort=sort, limit=limit, cursor=cursor, passage=passage, reader_id=reader
    )
    return thread_response(request, uow, query)


def thread_response(request: Request, uow: UnitOfWork, query: ThreadQuery) -> Response:
    """The thread page's answer, with its ETag (304 when the reader has it already); the route
    and its fast path (``web/fast_reads.py``) both answer with it, the site bound already."""
    view = list_thread(uow, query)
    shared: Rendered | None = view.rendered.get("json") if view.rendered is not None else None
    if shared is None:
        content = dumps(thread_json(view))
        etag = '"' + hashlib.blake2b(content, digest_size=12).hexdigest() + '"'
        answer = Response(content, media_type="application/json", headers={"ETag": etag, **READ_HEADERS})
        if view.rendered is not None:  # every reader without votes on the page gets this answer
            view.rendered["json"] = Rendered(answer, etag)
    else:
        answer, etag = shared.again(), shared.etag
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={"ETag": etag, **READ_HEADERS})
    return answer


@router.get(
    "/comments/{comment_id}/replies",
    response_model=RepliesOut,
    responses=responses(400, 401, 403, 404, 422),
)
async def get_replies(
    comment_id: CommentId,
    request: Request,
    uow: Uow,
    visitor: VisitorDep,
    site: SiteQuery,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`replies_cursor` of the comment, or `next_cursor`")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = REPLIES_PER_THREAD,
) -> Response:
    """The next replies of a top-level comment, for threads whose page did not carry them all."""
    bind_site(request, site)
    reader = identify(uow, site, visitor, writing=False).reader_id
    query = RepliesQuery(site=site, comment_id=comment_id, cursor=cursor, limit=limit, reader_id=reader)
    content = dumps(replies_json(list_replies(uow, query)))
    return Response(content, media_type="application/json", headers=READ_HEADERS)


@router.get(
    "/comments/{comment_id}/context",
    response_model=ContextOut,
    responses=responses(400, 401, 403, 404, 422),
)
async def get_context(
    comment_id: CommentId,
    request: Request,
    uow: Uow,
    site: SiteQuery,
    page: PageQuery,
    visitor: VisitorDep,
) -> Response:
    """A published comment in its thread, for a permalink: its top-level comment with the
    replies that draw it (every one up to it; for a reply far down a busy thread, the replies
    a thread page carries and its chain of ancestors); 404 for a comment not published on that
    page."""
    bind_site(request, site)
    reader = identify(uow, site, visitor, writing=False).reader_id
    query = ContextQuery(site=site, page=page, comment_id=comment_id, reader_id=reader)
    content = dumps({"comment": comment_json(comment_context(uow, query))})
    return Response(content, media_type="application/json", headers=READ_HEADERS)


@router.patch(
    "/comments/{comment_id}", response_model=EditedOut, responses=responses(400, 401, 403, 404, 413, 422)
)
def patch_comment(
    comment_id: CommentId, payload: CommentEdit, uow: Uow, authorization: EditToken, visitor: VisitorDep
) -> EditedOut:
    """Change a comment's text within the site's edit window (its author: the edit token, or
    signed in by the publisher's site, from any device)."""
    author = _signed_in_reader(uow, comment_id, authorization, visitor)
    view = edit_comment(uow, comment_id, authorization, payload.body, signed_in_reader=author)
    return EditedOut.model_validate({"comment": comment_json(view)})


@router.delete(
    "/comments/{comment_id}",
    status_code=204,
    response_class=Response,
    responses=responses(400, 401, 403, 404, 422),
)
def delete_a_comment(
    comment_id: CommentId, uow: Uow, authorization: EditToken, visitor: VisitorDep
) -> Response:
    """Remove a comment within the edit window; with replies it stays as a placeholder."""
    author = _signed_in_reader(uow, comment_id, authorization, visitor)
    delete_comment(uow, comment_id, authorization, signed_in_reader=author)
    return Response(status_code=204)


def _signed_in_reader(uow: Uow, comment_id: int, edit_token: str | None, visitor: VisitorDep) -> str | None:
    """The reader id the sign-in token gives, when it (not an edit token) proves authorship."""
    if edit_token is not None:
        return None
    who = identify_for_comment(uow, comment_id, visitor, writing=False)
    return who.reader_id if who.signed_in is not None else None
