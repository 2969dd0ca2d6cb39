"""Helpers for the comment tests: post with sensible defaults, read a thread, list outbox events."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import sqlalchemy as sa

from engagement.core import Core
from engagement.models import Comment, OutboxEvent, Page
from engagement.services.comments import PostComment, PostedComment, post_comment
from engagement.services.public import CommentView
from engagement.services.threads import ThreadQuery, ThreadView, list_thread

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
