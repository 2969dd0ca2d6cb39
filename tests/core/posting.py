"""Helpers for the comment tests: post with defaults, read a thread and its replies, list outbox events."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import sqlalchemy as sa

from engagement.core import Core
from engagement.models import Comment, OutboxEvent, Page
from engagement.services.discussion.comments import PostComment, PostedComment, post_comment
from engagement.services.discussion.public import CommentView
from engagement.services.discussion.thread_sql import REPLIES_PER_THREAD
from engagement.services.discussion.threads import (
    RepliesQuery,
    RepliesView,
    ThreadQuery,
    ThreadView,
    list_replies,
    list_thread,
)

ARTICLE = "https://news.example.org/2026/11/the-article"


def post(core: Core, uow: Any = None, **overrides: Any) -> PostedComment:
    values: dict[str, Any] = {"site": "daily", "page": ARTICLE, "author_name": "Jane", "body": "A comment."}
    values.update(overrides)
    return post_comment(uow or core.uow(), PostComment(**values))


def reply(core: Core, parent: PostedComment | int, **overrides: Any) -> PostedComment:
    parent_id = parent if isinstance(parent, int) else parent.comment.id
    return post(core, parent=parent_id, **{"author_name": "Bob", "body": "A reply.", **overrides})


def thread(core: Core, **overrides: Any) -> ThreadView:
    values: dict[str, Any] = {"site": "daily", "page": ARTICLE}
    values.update(overrides)
    return list_thread(core.uow(), ThreadQuery(**values))


def walk(core: Core, **overrides: Any) -> list[ThreadView]:
    """Every page of a thread, following next_cursor to the end."""
    pages = [thread(core, **overrides)]
    while pages[-1].next_cursor is not None:
        pages.append(thread(core, **{**overrides, "cursor": pages[-1].next_cursor}))
    return pages


def replies(core: Core, comment_id: int, **overrides: Any) -> RepliesView:
    return list_replies(core.uow(), RepliesQuery(site="daily", comment_id=comment_id, **overrides))


def every_reply(
    core: Core, comment_id: int, cursor: str | None = None, **overrides: Any
) -> list[CommentView]:
    """Follow the cursors from ``cursor`` to the end; the pages' replies in order."""
    found: list[CommentView] = []
    while True:
        page = replies(core, comment_id, cursor=cursor, **overrides)
        found += page.replies
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def busy_thread(core: Core, extra: int) -> tuple[int, list[int]]:
    """A top-level comment with REPLIES_PER_THREAD + ``extra`` replies, every third one nested."""
    top = post(core, body="the busy one").comment.id
    posted: list[int] = []
    for i in range(REPLIES_PER_THREAD + extra):
        parent = posted[-1] if posted and i % 3 == 2 else top
        posted.append(reply(core, parent, body=f"reply {i}").comment.id)
    return top, posted


def ids(views: tuple[CommentView, ...] | list[CommentView]) -> list[int]:
    return [v.id for v in views]


def events(core: Core) -> list[tuple[str, dict[str, Any]]]:
    with core.uow() as uow:
        return [
            (e.kind, e.payload) for e in uow.session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id))
        ]


def row(core: Core, comment_id: int) -> Comment:
    with core.uow() as uow:
        comment = uow.session.get(Comment, comment_id)
        assert comment is not None
        return comment


def page_row(core: Core, ref: str = "/2026/11/the-article") -> Page | None:
    with core.uow() as uow:
        return uow.session.scalars(sa.select(Page).where(Page.key == ref)).one_or_none()


def as_plain(value: Any) -> Any:
    """A view as nested plain data (what an adapter would serialise)."""
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: as_plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [as_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: as_plain(v) for k, v in value.items()}
    return value


def descendants(view: CommentView) -> list[CommentView]:
    """Every reply under ``view``, oldest first (the order they were posted in)."""
    found: list[CommentView] = []
    stack = list(view.replies)
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(current.replies)
    return sorted(found, key=lambda v: (v.created_at, v.id))
