"""A comment's permalink: the URL that names it, and the read that draws it in its thread."""

from __future__ import annotations

from dataclasses import dataclass

from engagement import validation as check
from engagement.errors import CommentNotFound, InvalidInput
from engagement.services import thread_sql as sql
from engagement.services.pages import page_key
from engagement.services.public import CommentView
from engagement.services.sites import is_site_key
from engagement.services.threads import assemble, my_votes
from engagement.uow import UnitOfWork

# The widget's own anchor for a comment (the id of its element); it also reads "#comment-<id>",
# the form that mails carried before.
FRAGMENT = "engagement-comment-"


def comment_url(page_url: str, comment_id: int) -> str:
    """The link to one comment: its page, with the fragment the widget opens the comment from."""
    return f"{page_url}#{FRAGMENT}{comment_id}"


@dataclass(frozen=True, kw_only=True)
class ContextQuery:
    """The published comment ``comment_id`` of ``page``, as a permalink to it names it."""

    site: str
    page: str
    comment_id: int
    reader_id: str | None = None


def comment_context(uow: UnitOfWork, query: ContextQuery) -> CommentView:
    """The linked comment's top-level comment, with every reply up to and including it.

    Shaped as a thread page shows a top-level comment: at least the replies a page carries,
    oldest first, then how many more there are and the cursor of the replies read. A comment
    that is not published, or not on that page of that site, is CommentNotFound.
    """
    if not isinstance(query.site, str) or not query.site:
        raise InvalidInput("site", "is required")
    key = page_key(query.page)
    check.integer("comment_id", query.comment_id, minimum=1, maximum=2**31 - 1)
    check.single_line("reader_id", query.reader_id, max_length=200, required=False)
    with uow:
        top = None
        if is_site_key(query.site):  # a key no site could have never reaches SQL
            params = {"comment_id": query.comment_id, "key": key, "site": query.site}
            top = uow.session.execute(sql.LINKED_THREAD, params).first()
        if top is None:
            raise CommentNotFound(f"no published comment {query.comment_id} on this page")
        place = 0
        if top.linked_parent is not None:
            params = {"tops": [top.id], "reply": query.comment_id}
            place = uow.session.execute(sql.REPLY_PLACE, params).scalar() or 0  # 0: gone meanwhile
        bound = {"tops": [top.id], "per_thread": max(sql.REPLIES_PER_THREAD, place)}
        replies = list(uow.session.execute(sql.REPLIES, bound))
        reader = uow.keys.reader_hash(query.reader_id) if query.reader_id else None
        (view,) = assemble([top], replies, my_votes(uow.session, reader, [top.id]))
        return view
