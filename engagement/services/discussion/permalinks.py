"""A comment's permalink: the URL that names it, and the read that draws it in its thread."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement.errors import CommentNotFound
from engagement.models.comments import path_ids
from engagement.services.discussion import thread_sql as sql
from engagement.services.discussion.public import CommentView
from engagement.services.discussion.threads import assemble, check_read, my_votes
from engagement.services.pages import page_key
from engagement.services.sites import is_site_key
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
    """The linked comment's top-level comment, with the replies that draw the linked one.

    Shaped as a thread page shows a top-level comment, replies oldest first, then how many
    more there are and the cursor of the replies read. While the linked reply is among the
    first ``thread_sql.CONTEXT_MAX_REPLIES``, it carries every reply up to and including it
    (at least a page's worth). Further down, it carries a page's oldest replies, as a thread
    page does, then the linked reply and those of its ancestors not among them, nested under
    their parents: ``more_replies`` and ``replies_cursor`` count on from the page's replies,
    so the replies read gives those again. A comment that is not published, or not on that
    page of that site, is CommentNotFound.
    """
    check_read(query.site, query.reader_id, query.comment_id)
    key = page_key(query.page)
    with uow:
        top = None
        if is_site_key(query.site):  # a key no site could have never reaches SQL
            params = {"comment_id": query.comment_id, "key": key, "site": query.site}
            top = uow.session.execute(sql.LINKED_THREAD, params).first()
        if top is None:
            raise CommentNotFound(f"no published comment {query.comment_id} on this page")
        replies, chain = _replies(uow.session, top, query.comment_id)
        reader = uow.keys.reader_hash(query.reader_id) if query.reader_id else None
        (view,) = assemble([top], replies, my_votes(uow.session, reader, [top.id]), linked=chain)
        return view


def _replies(session: Session, top: sa.Row[Any], linked: int) -> tuple[list[sa.Row[Any]], list[sa.Row[Any]]]:
    """The replies read as a thread page reads them, and the linked reply's chain past them."""
    place = 0
    if top.linked_parent is not None:
        params = {
            "top": top.id,
            "created": top.linked_created,
            "reply": linked,
            "cap": sql.CONTEXT_MAX_REPLIES + 1,
        }
        place = session.execute(sql.REPLY_PLACE, params).scalar_one()
    within = place <= sql.CONTEXT_MAX_REPLIES
    per_thread = max(sql.REPLIES_PER_THREAD, place) if within else sql.REPLIES_PER_THREAD
    replies = list(session.execute(sql.REPLIES, {"tops": [top.id], "per_thread": per_thread}))
    if within:
        return replies, []
    shown = {top.id, *(r.id for r in replies)}
    wanted = [i for i in (*path_ids(top.linked_path), linked) if i not in shown]
    return replies, list(session.execute(sql.REPLY_CHAIN, {"top": top.id, "ids": wanted}))
