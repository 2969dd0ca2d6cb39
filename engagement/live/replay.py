"""What a reconnecting stream missed: the page's comments published since its last event."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from engagement.live.notices import RESET, Notice, comment_notice
from engagement.models import Comment
from engagement.uow import UnitOfWork

# A stream resumes at most this far back, with at most this many comments; past either the
# reader is told to reload the thread (one read) rather than replay it piecemeal.
MAX_AGE = timedelta(hours=6)
MAX_COMMENTS = 100
# Commits do not land in the order of their clocks: a comment published a moment before the
# last one seen may commit after it. Going back this much more catches it; the widget skips
# comments it already shows.
OVERLAP = timedelta(seconds=5)

_SINCE = (
    sa.select(Comment.id, Comment.parent_id, Comment.published_at)
    .where(
        Comment.page_id == sa.bindparam("page_id"),
        Comment.status == "approved",
        Comment.published_at > sa.bindparam("since"),
    )
    .order_by(Comment.published_at, Comment.id)
    .limit(MAX_COMMENTS + 1)
)


def published_since(uow: UnitOfWork, page_id: int, since: datetime) -> list[Notice]:
    """The comment notices a stream that last saw ``since`` missed, or one ``reset`` notice."""
    if uow.now() - since > MAX_AGE:
        return [Notice(page_id, RESET, {})]
    with uow.reading() as connection:
        rows = connection.execute(_SINCE, {"page_id": page_id, "since": since - OVERLAP}).all()
    if len(rows) > MAX_COMMENTS:
        return [Notice(page_id, RESET, {})]
    return [comment_notice(page_id, row.id, row.parent_id, row.published_at) for row in rows]
