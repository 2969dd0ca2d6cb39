"""The statements of thread reads and counts, built once per shape and bound per call.

Built once, a statement's compiled form is found in SQLAlchemy's cache by a memoised key:
a read pays for binding and running it, never for building or hashing it. They select
columns, not entities: a read loads no ORM objects and leaves nothing in the session.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa

from engagement.db import UTCDateTime
from engagement.models import Comment, Page, Reaction, Site, Vote
from engagement.services.discussion.publication import APPROVED, visible_clause

ANY_PASSAGE = "*"  # lists every anchored comment: the "Inline Feedbacks" tab
PLACEHOLDER_STATUSES = ("deleted", "rejected", "spam")

_comments = Comment.__table__.c
_pages = Page.__table__.c
_sites = Site.__table__.c
_reactions = Reaction.__table__.c
_votes = Vote.__table__.c

# What a comment view needs, and nothing it must not show (no address, no token hash).
VIEW_COLUMNS = (
    _comments.id,
    _comments.parent_id,
    _comments.depth,
    _comments.author_name,
    _comments.author_supporter,
    _comments.author_verified,
    _comments.html,
    _comments.status,
    _comments.created_at,
    _comments.edited_at,
    _comments.score,
    _comments.reply_count,
    _comments.anchor_passage,
    _comments.anchor_exact,
    _comments.anchor_prefix,
    _comments.anchor_suffix,
)

# The page (absent: nobody engaged yet) and its reactions' tallies, one row per reaction given
# (one with a NULL reaction when none was): the site comes from the site cache.
PAGE_AND_TALLIES = (
    sa.select(
        _pages.id.label("page_id"),
        _pages.url,
        _pages.title,
        _pages.comment_count,
        _reactions.reaction,
        sa.func.count(_reactions.page_id).label("tally"),
    )
    .select_from(Page.__table__)
    .outerjoin(Reaction.__table__, _reactions.page_id == _pages.id)
    .where(_pages.site_id == sa.bindparam("site_id"), _pages.key == sa.bindparam("key"))
    .group_by(_pages.id, _pages.url, _pages.title, _pages.comment_count, _reactions.reaction)
)

# How many replies of each top-level comment a page of the thread carries, oldest first; the
# rest come from `replies_statement` on request, so a comment with thousands of replies does
# not swell every page. The oldest N replies always include each one's parent.
REPLIES_PER_THREAD = 50

# How far a permalink's answer lists every reply up to the linked one. The route is public and
# unauthenticated: past this, a link to reply 5,000 would make each request read and send 5,000
# replies. Beyond it, the answer carries a thread page's oldest replies and the linked reply's
# chain (`REPLY_CHAIN`), so its size is bounded by this and the nesting MAX_PATH allows.
CONTEXT_MAX_REPLIES = 200


def _ranked_replies(threads: Any) -> sa.Subquery:
    """Replies of the top-level comments ``threads`` selects, oldest first; placeholders only
    where replies hang; each with its place in its thread and the thread's number of visible
    replies."""
    return (
        sa.select(
            *VIEW_COLUMNS,
            _comments.thread_id,
            sa.func.row_number()
            .over(partition_by=_comments.thread_id, order_by=(_comments.created_at, _comments.id))
            .label("place"),
            sa.func.count().over(partition_by=_comments.thread_id).label("in_thread"),
        )
        .where(_comments.thread_id.in_(threads), _comments.parent_id.is_not(None), visible_clause())
        .subquery("ranked_replies")
    )


_RANKED_REPLIES = _ranked_replies(sa.bindparam("tops", expanding=True))
REPLIES = (
    sa.select(_RANKED_REPLIES)
    .where(_RANKED_REPLIES.c.place <= sa.bindparam("per_thread"))
    .order_by(_RANKED_REPLIES.c.created_at, _RANKED_REPLIES.c.id)
)

# A top-level comment of the site's pages (absent: no such comment there, or not top-level).
TOP_LEVEL_ON_SITE = (
    sa.select(_comments.id)
    .join(Page.__table__, _pages.id == _comments.page_id)
    .join(Site.__table__, _sites.id == _pages.site_id)
    .where(
        _comments.id == sa.bindparam("comment_id"),
        _comments.parent_id.is_(None),
        _sites.key == sa.bindparam("site"),
    )
)

# A permalink's comment: published, on the page named, with its thread's top-level comment as
# a thread page shows it (absent: no such comment there, or not published).
_linked = Comment.__table__.alias("linked")
LINKED_THREAD: sa.Select[Any] = (
    sa.select(
        *VIEW_COLUMNS,
        _linked.c.parent_id.label("linked_parent"),
        _linked.c.created_at.label("linked_created"),
        _linked.c.path.label("linked_path"),
    )
    .join(_linked, _linked.c.thread_id == _comments.id)
    .join(Page.__table__, _pages.id == _linked.c.page_id)
    .join(Site.__table__, _sites.id == _pages.site_id)
    .where(
        _linked.c.id == sa.bindparam("comment_id"),
        _linked.c.status == APPROVED,
        _pages.key == sa.bindparam("key"),
        _sites.key == sa.bindparam("site"),
    )
)

# Where a reply stands among its thread's visible replies, oldest first, counted no further than
# ``cap`` (bound: top, created, reply, cap): a range of the thread index, never the whole thread.
_UP_TO_REPLY = (
    sa.select(_comments.id)
    .where(
        _comments.thread_id == sa.bindparam("top"),
        _comments.parent_id.is_not(None),
        visible_clause(),
        sa.tuple_(_comments.created_at, _comments.id)
        <= sa.tuple_(sa.bindparam("created", type_=UTCDateTime()), sa.bindparam("reply", type_=sa.Integer())),
    )
    .limit(sa.bindparam("cap"))
    .subquery("up_to_reply")
)
REPLY_PLACE = sa.select(sa.func.count()).select_from(_UP_TO_REPLY)

# Replies of one thread named by id (bound: top, ids), oldest first, as `REPLIES` shapes them
# but without places: a permalink's reply and those of its ancestors (from its path) that a
# page's oldest replies do not hold. A read by primary key, as long as the reply is deep.
REPLY_CHAIN = (
    sa.select(*VIEW_COLUMNS, _comments.thread_id)
    .where(
        _comments.id.in_(sa.bindparam("ids", expanding=True)),
        _comments.thread_id == sa.bindparam("top"),
        _comments.parent_id.is_not(None),
        visible_clause(),
    )
    .order_by(_comments.created_at, _comments.id)
)


@cache
def replies_statement(after: bool) -> sa.Select[Any]:
    """The next replies of one top-level comment (bound as ``top``), oldest first."""
    columns = sort_columns("oldest")
    stmt = sa.select(*VIEW_COLUMNS).where(
        _comments.thread_id == sa.bindparam("top"), _comments.parent_id.is_not(None), visible_clause()
    )
    if after:
        stmt = stmt.where(_after("oldest", columns))
    return stmt.order_by(*order("oldest", columns)).limit(sa.bindparam("size"))


MY_VOTES = (
    sa.select(_votes.comment_id, _votes.value)
    .join(Comment.__table__, _comments.id == _votes.comment_id)
    .where(
        _votes.reader_hash == sa.bindparam("reader"),
        _comments.thread_id.in_(sa.bindparam("tops", expanding=True)),
    )
)


# A reader's own part of a thread page in one statement: their votes on the threads of
# ``tops`` (``comment_id``, ``value``) and their reaction to the page (``reaction``).
MINE = sa.union_all(
    MY_VOTES.add_columns(sa.cast(sa.null(), sa.String(32)).label("reaction")),
    sa.select(sa.cast(sa.null(), sa.Integer()), sa.cast(sa.null(), sa.Integer()), _reactions.reaction).where(
        _reactions.page_id == sa.bindparam("page_id"), _reactions.reader_hash == sa.bindparam("reader")
    ),
)


# Per requested page key: its comments and reactions; one row with NULLs when none match,
# none at all when the site does not exist.
PAGE_COUNTS = (
    sa.select(
        _pages.key,
        _pages.comment_count,
        sa.select(sa.func.count())
        .where(_reactions.page_id == _pages.id)
        .correlate(Page.__table__)
        .scalar_subquery(),
    )
    .select_from(Site.__table__)
    .outerjoin(
        Page.__table__,
        sa.and_(_pages.site_id == _sites.id, _pages.key.in_(sa.bindparam("keys", expanding=True))),
    )
    .where(_sites.key == sa.bindparam("site"))
)


def sort_columns(sort: str) -> list[Any]:
    if sort == "top":
        return [_comments.score, _comments.created_at, _comments.id]
    return [_comments.created_at, _comments.id]


def order(sort: str, columns: list[Any]) -> list[Any]:
    return [c.asc() for c in columns] if sort == "oldest" else [c.desc() for c in columns]


def after_params(sort: str, position: tuple[Any, ...]) -> dict[str, Any]:
    """The bound values of a cursor's position, named as :func:`top_level_statement` expects."""
    names = ("after_score", "after_created", "after_id") if sort == "top" else ("after_created", "after_id")
    return dict(zip(names, position, strict=True))


@cache
def top_level_statement(sort: str, passage: str | None, after: bool) -> sa.Select[Any]:
    """Keyset page of top-level comments for one shape of query.

    ``passage`` is None (all comments), :data:`ANY_PASSAGE` (anchored ones) or "one" (bound
    as ``passage``). Published comments and placeholders are read by two index-ordered
    branches, merged: a single ``status = 'approved' OR reply_count > 0`` would make the
    database sort them all.
    """
    columns = sort_columns(sort)

    def branch(visible: sa.ColumnElement[bool]) -> sa.Subquery:
        stmt = sa.select(_comments.id).where(
            _comments.page_id == sa.bindparam("page_id"), _comments.parent_id.is_(None), visible
        )
        if passage == ANY_PASSAGE:
            stmt = stmt.where(
                sa.or_(_comments.anchor_passage.is_not(None), _comments.anchor_exact.is_not(None))
            )
        elif passage is not None:
            stmt = stmt.where(_comments.anchor_passage == sa.bindparam("passage"))
        if after:
            stmt = stmt.where(_after(sort, columns))
        return stmt.order_by(*order(sort, columns)).limit(sa.bindparam("size")).subquery()

    published = branch(_comments.status == APPROVED)
    placeholders = branch(sa.and_(_comments.status.in_(PLACEHOLDER_STATUSES), _comments.reply_count > 0))
    merged = sa.union_all(sa.select(published), sa.select(placeholders)).subquery()
    return (
        sa.select(*VIEW_COLUMNS)
        .join(merged, merged.c.id == _comments.id)
        .order_by(*order(sort, columns))
        .limit(sa.bindparam("size"))
    )


@cache
def page_statement(sort: str, passage: str | None, after: bool) -> sa.CompoundSelect[Any]:
    """A page of a thread in one statement: the rows of :func:`top_level_statement` (``rank``
    1, 2, … in their order), then the oldest replies of the first ``shown`` of them as
    ``REPLIES`` gives them (``rank`` 0, oldest first)."""
    columns = sort_columns(sort)
    tops = (
        top_level_statement(sort, passage, after)
        .add_columns(sa.func.row_number().over(order_by=order(sort, columns)).label("rank"))
        .cte("tops")
    )
    ranked = _ranked_replies(sa.select(tops.c.id).where(tops.c.rank <= sa.bindparam("shown")))
    no_place = sa.cast(sa.null(), sa.Integer())
    top_rows = sa.select(
        *(tops.c[c.name] for c in VIEW_COLUMNS),
        tops.c.id.label("thread_id"),
        no_place.label("place"),
        no_place.label("in_thread"),
        tops.c.rank,
    )
    reply_rows = sa.select(ranked, sa.literal(0).label("rank")).where(
        ranked.c.place <= sa.bindparam("per_thread")
    )
    both = sa.union_all(top_rows, reply_rows)
    return both.order_by(
        both.selected_columns.rank, both.selected_columns.created_at, both.selected_columns.id
    )


def _after(sort: str, columns: list[Any]) -> sa.ColumnElement[bool]:
    values = [
        sa.bindparam("after_created", type_=UTCDateTime()),
        sa.bindparam("after_id", type_=sa.Integer()),
    ]
    if sort == "top":
        values.insert(0, sa.bindparam("after_score", type_=sa.Integer()))
    left, right = sa.tuple_(*columns), sa.tuple_(*values)
    return left > right if sort == "oldest" else left < right
