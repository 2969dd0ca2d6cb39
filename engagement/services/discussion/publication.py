"""The bookkeeping that follows a comment into and out of its public thread, in one transaction.

A comment is *visible* in its thread when it is approved, or when it is a placeholder (deleted,
rejected or spam) that still has visible replies. ``Comment.reply_count`` counts a comment's
visible direct replies and ``Page.comment_count`` its approved comments; both change here only,
with atomic ``UPDATE … SET n = n + 1`` so concurrent writers never lose a count.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engagement.errors import CommentNotFound
from engagement.live.notices import comment_notice, removed_notice
from engagement.models import Comment, Page
from engagement.outbox import COMMENT_PUBLISHED, COMMENT_REMOVED
from engagement.uow import UnitOfWork

APPROVED = "approved"


def is_visible(comment: Comment) -> bool:
    return visible(comment.status, comment.reply_count)


def visible(status: str, reply_count: int) -> bool:
    """:func:`is_visible` for a comment known by these two columns."""
    return status == APPROVED or reply_count > 0


def visible_clause() -> sa.ColumnElement[bool]:
    """:func:`is_visible` as SQL, for thread reads."""
    return sa.or_(Comment.status == APPROVED, Comment.reply_count > 0)


def load_comment(session: Session, comment_id: int) -> Comment:
    """The comment with its row locked until commit, so counts follow its latest state.

    PostgreSQL locks the row (FOR UPDATE). SQLite ignores that; a no-op UPDATE takes its
    write lock first instead, so the read cannot go stale before this transaction writes.
    """
    if isinstance(comment_id, bool) or not isinstance(comment_id, int):
        raise CommentNotFound(f"no comment {comment_id!r}")
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            sa.update(Comment).where(Comment.id == comment_id).values(status=Comment.status),
            execution_options={"synchronize_session": False},
        )
    comment = session.scalars(
        sa.select(Comment)
        .where(Comment.id == comment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if comment is None:
        raise CommentNotFound(f"no comment {comment_id}")
    return comment


def publish(uow: UnitOfWork, comment: Comment, *, after_moderation: bool = False) -> None:
    """Approve an unpublished comment (flushed, so it has an id) and announce it."""
    was_visible = is_visible(comment)
    comment.status = APPROVED
    comment.moderation_reason = None
    comment.published_at = uow.now()
    _count_on_page(uow, comment.page_id, +1)
    if not was_visible:
        count_in_ancestors(uow.session, comment.ancestor_ids, +1)
    payload: dict[str, object] = {"comment_id": comment.id}
    if after_moderation:
        payload["after_moderation"] = True
    uow.add_event(COMMENT_PUBLISHED, payload)
    uow.announce(comment_notice(comment.page_id, comment.id, comment.parent_id, comment.published_at))


def withdraw(uow: UnitOfWork, comment: Comment, status: str) -> None:
    """Move a comment to an unpublished ``status``; counts follow if it was published."""
    was_visible = is_visible(comment)
    was_published = comment.status == APPROVED
    comment.status = status
    if was_published:
        _count_on_page(uow, comment.page_id, -1)
        uow.announce(removed_notice(comment.page_id, comment.id))
        if status != "pending":  # back in the queue is announced as comment.pending by the caller
            uow.add_event(COMMENT_REMOVED, {"comment_id": comment.id, "status": status})
    if was_visible and not is_visible(comment):
        # Without replies it leaves the thread; with replies it stays as a placeholder.
        count_in_ancestors(uow.session, comment.ancestor_ids, -1)


def _count_on_page(uow: UnitOfWork, page_id: int, delta: int) -> None:
    """One comment more (+1) or fewer (-1) on the page."""
    statement = _PAGE_COUNT_UP if delta > 0 else _PAGE_COUNT_DOWN
    row = uow.session.execute(
        statement,
        {"pid": page_id, "now": uow.now()} if delta > 0 else {"pid": page_id},
        execution_options={"synchronize_session": False},
    ).one()
    _sync(uow.session, Page, page_id, comment_count=row.comment_count, last_comment_at=row.last_comment_at)


# Built once: every published or withdrawn comment runs one of them.
_PAGE_COUNT_UP = (
    sa.update(Page)
    .where(Page.id == sa.bindparam("pid"))
    .values(comment_count=Page.comment_count + 1, last_comment_at=sa.bindparam("now"))
    .returning(Page.comment_count, Page.last_comment_at)
)
_PAGE_COUNT_DOWN = (
    sa.update(Page)
    .where(Page.id == sa.bindparam("pid"))
    .values(comment_count=Page.comment_count - 1)
    .returning(Page.comment_count, Page.last_comment_at)
)


_REPLY_COUNT = (
    sa.update(Comment)
    .where(Comment.id == sa.bindparam("cid"))
    .values(reply_count=Comment.reply_count + sa.bindparam("delta", type_=sa.Integer()))
    .returning(Comment.reply_count, Comment.status)
)


def count_in_ancestors(session: Session, ancestor_ids: list[int], delta: int) -> None:
    """Add ``delta`` to the parent's reply count (the last of ``ancestor_ids``, root first), and
    further up while visibility changes: a comment that becomes or stops being visible."""
    for ancestor_id in reversed(ancestor_ids):
        row = session.execute(
            _REPLY_COUNT,
            {"cid": ancestor_id, "delta": delta},
            execution_options={"synchronize_session": False},
        ).one()
        _sync(session, Comment, ancestor_id, reply_count=row.reply_count)
        # A placeholder that gains its first reply appears, one that loses its last vanishes:
        # either way its own parent's count changes too.
        changed = row.reply_count == (1 if delta > 0 else 0) and row.status != APPROVED
        if not changed:
            break


def _sync(session: Session, model: type[Comment] | type[Page], row_id: int, **values: object) -> None:
    """Keep an already loaded object in step with an UPDATE that bypassed the ORM."""
    loaded = session.identity_map.get(session.identity_key(model, row_id))
    if loaded is not None:
        for name, value in values.items():
            set_committed_value(loaded, name, value)
