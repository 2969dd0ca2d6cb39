"""Reading threads and counts: a fixed number of statements whatever a thread's size."""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from engagement import validation as check
from engagement.db import UTCDateTime
from engagement.errors import InvalidInput
from engagement.models import Comment, Page, Reaction, Site, Vote
from engagement.pagekeys import clean_url
from engagement.services.pages import page_key
from engagement.services.public import CommentView, comment_view
from engagement.services.publication import APPROVED
from engagement.services.sites import get_site
from engagement.uow import UnitOfWork

SORTS = ("newest", "oldest", "top")
MAX_LIMIT = 100
MAX_COUNT_PAGES = 500
ANY_PASSAGE = "*"  # lists every anchored comment: the "Inline Feedbacks" tab
PLACEHOLDER_STATUSES = ("deleted", "rejected", "spam")


@dataclass(frozen=True, kw_only=True)
class ThreadQuery:
    """One page of a thread: ``cursor`` is the opaque ``next_cursor`` of the page before."""

    site: str
    page: str
    sort: str = "newest"
    limit: int = 20
    cursor: str | None = None
    passage: str | None = None
    reader_id: str | None = None


@dataclass(frozen=True)
class PageInfo:
    url: str | None
    title: str | None
    comments: int
    reactions: dict[str, int]
    my_reaction: str | None


@dataclass(frozen=True)
class ThreadView:
    page: PageInfo
    comments: tuple[CommentView, ...]
    next_cursor: str | None


def list_thread(uow: UnitOfWork, query: ThreadQuery) -> ThreadView:
    """Top-level comments in the chosen order, each with all its replies (oldest first)."""
    key, position = _checked(query)
    with uow:
        site = get_site(uow.session, query.site)
        reader = uow.keys.reader_hash(query.reader_id) if query.reader_id else None
        page = uow.session.scalars(
            sa.select(Page).where(Page.site_id == site.id, Page.key == key)
        ).one_or_none()
        if page is None:  # nobody engaged with it yet: an empty thread, not an error
            zero = dict.fromkeys(site.reaction_keys, 0)
            return ThreadView(PageInfo(clean_url(query.page), None, 0, zero, None), (), None)
        tops = _top_level(uow.session, page, query, position)
        more = len(tops) > query.limit
        tops = tops[: query.limit]
        top_ids = [c.id for c in tops]
        replies = _replies(uow.session, top_ids)
        votes = _my_votes(uow.session, reader, top_ids)
        reactions, mine = _reactions(uow.session, site, page, reader)
        return ThreadView(
            page=PageInfo(page.url, page.title, page.comment_count, reactions, mine),
            comments=_assemble(tops, replies, votes),
            next_cursor=_cursor(query.sort, tops[-1]) if more else None,
        )


def page_counts(uow: UnitOfWork, site_key: str, pages: Sequence[str]) -> dict[str, dict[str, int]]:
    """Comments and reactions of up to 500 pages (URLs, paths or ids), in three statements."""
    if isinstance(pages, str) or len(pages) > MAX_COUNT_PAGES:
        raise InvalidInput("pages", f"give a list of at most {MAX_COUNT_PAGES} pages")
    keys = {ref: page_key(ref) for ref in pages}
    with uow:
        site = get_site(uow.session, site_key)
        rows = uow.session.execute(
            sa.select(Page.id, Page.key, Page.comment_count).where(
                Page.site_id == site.id, Page.key.in_(set(keys.values()))
            )
        ).all()
        reactions: dict[int, int] = {}
        if rows:
            reactions = dict(
                uow.session.execute(
                    sa.select(Reaction.page_id, sa.func.count())
                    .where(Reaction.page_id.in_([r.id for r in rows]))
                    .group_by(Reaction.page_id)
                ).all()
            )
        found = {r.key: (r.comment_count, reactions.get(r.id, 0)) for r in rows}
        return {
            ref: {"comments": found.get(k, (0, 0))[0], "reactions": found.get(k, (0, 0))[1]}
            for ref, k in keys.items()
        }


def passage_counts(uow: UnitOfWork, site_key: str, page: str) -> dict[str, int]:
    """Published comments per marked passage of a page, replies included."""
    key = page_key(page)
    with uow:
        site = get_site(uow.session, site_key)
        root = aliased(Comment)
        rows = uow.session.execute(
            sa.select(root.anchor_passage, sa.func.count(Comment.id))
            .join(Page, Page.id == Comment.page_id)
            .join(root, root.id == Comment.thread_id)
            .where(
                Page.site_id == site.id,
                Page.key == key,
                Comment.status == APPROVED,
                root.anchor_passage.is_not(None),
            )
            .group_by(root.anchor_passage)
        ).all()
        return {str(passage): int(n) for passage, n in rows}


def _checked(query: ThreadQuery) -> tuple[str, tuple[Any, ...] | None]:
    if not isinstance(query.site, str) or not query.site:
        raise InvalidInput("site", "is required")
    key = page_key(query.page)
    check.one_of("sort", query.sort, SORTS)
    check.integer("limit", query.limit, minimum=1, maximum=MAX_LIMIT)
    check.single_line("passage", query.passage, max_length=check.MAX_PASSAGE, required=False)
    check.single_line("reader_id", query.reader_id, max_length=200, required=False)
    position = _decode_cursor(query.sort, query.cursor) if query.cursor is not None else None
    return key, position


def _sort_columns(sort: str, table: Any) -> list[Any]:
    if sort == "top":
        return [table.score, table.created_at, table.id]
    return [table.created_at, table.id]


def _order(sort: str, columns: list[Any]) -> list[Any]:
    return [c.asc() for c in columns] if sort == "oldest" else [c.desc() for c in columns]


def _top_level(
    session: Session, page: Page, query: ThreadQuery, position: tuple[Any, ...] | None
) -> list[Comment]:
    """Keyset page of top-level comments.

    Published comments and placeholders are read by two index-ordered branches, merged: a
    single ``status = 'approved' OR reply_count > 0`` would make the database sort them all.
    """
    size = query.limit + 1

    def branch(visible: sa.ColumnElement[bool]) -> sa.Subquery:
        columns = _sort_columns(query.sort, Comment)
        stmt = sa.select(Comment.id).where(Comment.page_id == page.id, Comment.parent_id.is_(None), visible)
        if query.passage == ANY_PASSAGE:
            stmt = stmt.where(sa.or_(Comment.anchor_passage.is_not(None), Comment.anchor_exact.is_not(None)))
        elif query.passage is not None:
            stmt = stmt.where(Comment.anchor_passage == query.passage)
        if position is not None:
            stmt = stmt.where(_after(query.sort, columns, position))
        return stmt.order_by(*_order(query.sort, columns)).limit(size).subquery()

    published = branch(Comment.status == APPROVED)
    placeholders = branch(sa.and_(Comment.status.in_(PLACEHOLDER_STATUSES), Comment.reply_count > 0))
    merged = sa.union_all(sa.select(published), sa.select(placeholders)).subquery()
    stmt = (
        sa.select(Comment)
        .join(merged, merged.c.id == Comment.id)
        .order_by(*_order(query.sort, _sort_columns(query.sort, Comment)))
        .limit(size)
    )
    return list(session.scalars(stmt))


def _after(sort: str, columns: list[Any], position: tuple[Any, ...]) -> sa.ColumnElement[bool]:
    values = [sa.literal(v, UTCDateTime()) if isinstance(v, datetime) else sa.literal(v) for v in position]
    left, right = sa.tuple_(*columns), sa.tuple_(*values)
    return left > right if sort == "oldest" else left < right


def _replies(session: Session, top_ids: list[int]) -> list[Comment]:
    if not top_ids:
        return []
    stmt = (
        sa.select(Comment)
        .where(
            Comment.thread_id.in_(top_ids),
            Comment.parent_id.is_not(None),
            sa.or_(Comment.status == APPROVED, Comment.reply_count > 0),
        )
        .order_by(Comment.created_at, Comment.id)
    )
    return list(session.scalars(stmt))


def _my_votes(session: Session, reader: str | None, top_ids: list[int]) -> dict[int, int]:
    if reader is None or not top_ids:
        return {}
    stmt = (
        sa.select(Vote.comment_id, Vote.value)
        .join(Comment, Comment.id == Vote.comment_id)
        .where(Vote.reader_hash == reader, Comment.thread_id.in_(top_ids))
    )
    return {int(cid): int(value) for cid, value in session.execute(stmt)}


def _reactions(
    session: Session, site: Site, page: Page, reader: str | None
) -> tuple[dict[str, int], str | None]:
    """Tallies for every reaction of the site and the reader's own, in one statement."""
    mine = sa.func.max(sa.case((Reaction.reader_hash == reader, 1), else_=0)) if reader else sa.literal(0)
    rows = session.execute(
        sa.select(Reaction.reaction, sa.func.count(), mine)
        .where(Reaction.page_id == page.id)
        .group_by(Reaction.reaction)
    ).all()
    tallies = dict.fromkeys(site.reaction_keys, 0)
    my_reaction = None
    for reaction, count, is_mine in rows:
        if reaction in tallies:
            tallies[reaction] = int(count)
            if is_mine:
                my_reaction = str(reaction)
    return tallies, my_reaction


def _assemble(tops: list[Comment], replies: list[Comment], votes: dict[int, int]) -> tuple[CommentView, ...]:
    """Nest replies under their parents, deepest first, without recursion (depth is unbounded)."""
    children: dict[int, list[Comment]] = defaultdict(list)
    for reply in replies:
        if reply.parent_id is not None:
            children[reply.parent_id].append(reply)
    views: dict[int, CommentView] = {}
    for comment in sorted([*tops, *replies], key=lambda c: c.depth, reverse=True):
        nested = tuple(views[c.id] for c in children.get(comment.id, ()) if c.id in views)
        views[comment.id] = comment_view(comment, my_vote=votes.get(comment.id, 0), replies=nested)
    return tuple(views[c.id] for c in tops)


def _cursor(sort: str, last: Comment) -> str:
    key: list[Any] = [last.created_at.isoformat(), last.id]
    if sort == "top":
        key.insert(0, last.score)
    raw = json.dumps({"s": sort, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode_cursor(sort: str, cursor: str) -> tuple[Any, ...]:
    """The position a cursor names, or InvalidInput for anything this module did not write."""
    bad = InvalidInput("cursor", "is not a cursor this thread gave out")
    if not isinstance(cursor, str) or len(cursor) > 200:
        raise bad
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key = data["k"]
        if data["s"] != sort or not isinstance(key, list) or len(key) != (3 if sort == "top" else 2):
            raise bad
        *score, created, ident = key
        created_at = datetime.fromisoformat(created)
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise bad from None
    numbers = [*score, ident]
    if created_at.tzinfo is None or not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        raise bad
    return (*score, created_at, ident)
