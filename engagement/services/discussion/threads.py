"""Reading threads and counts: a fixed number of statements whatever a thread's size."""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from engagement import validation as check
from engagement.errors import CommentNotFound, InvalidInput, SiteNotFound
from engagement.models import Comment, Page
from engagement.pagekeys import clean_url
from engagement.services.discussion import thread_sql as sql
from engagement.services.discussion.public import CommentView, comment_view
from engagement.services.discussion.publication import APPROVED
from engagement.services.discussion.thread_sql import ANY_PASSAGE
from engagement.services.pages import page_key
from engagement.services.site_cache import site_rules
from engagement.services.sites import get_site, is_site_key
from engagement.thread_cache import CachedCounts, CachedPage
from engagement.uow import UnitOfWork

SORTS = ("newest", "oldest", "top")
MAX_LIMIT = 100
MAX_COUNT_PAGES = 500


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


@dataclass(frozen=True, kw_only=True)
class RepliesQuery:
    """More replies of one top-level comment: ``cursor`` is its ``replies_cursor``, or a page's
    ``next_cursor``."""

    site: str
    comment_id: int
    cursor: str | None = None
    limit: int = sql.REPLIES_PER_THREAD
    reader_id: str | None = None


@dataclass(frozen=True)
class RepliesView:
    """Replies oldest first, flat: each names its parent, which is shown already or comes first."""

    replies: tuple[CommentView, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class ThreadView:
    page: PageInfo
    comments: tuple[CommentView, ...]
    next_cursor: str | None
    # The cache entry's memo (``CachedPage.rendered``) when this view is what every reader
    # without votes or reaction on the page sees; None for a reader's own view.
    rendered: dict[str, Any] | None = field(default=None, compare=False, repr=False)


def list_thread(uow: UnitOfWork, query: ThreadQuery) -> ThreadView:
    """Top-level comments in the chosen order, each with its oldest replies (oldest first).

    What every reader sees alike comes from the thread cache when a read of the same query
    filled it lately (no statement at all without a reader id); the reader's own votes and
    reaction are always read, in one statement. Otherwise the page and its tallies take one
    statement and the comments another; the site's rules come from the site cache.
    """
    key, position = _checked(query)
    cache = uow.thread_cache
    cache_key = (query.site, key, query.sort, query.limit, query.cursor, query.passage)
    hit = cache.get(cache_key)
    cached = hit if isinstance(hit, CachedPage) else None
    if cached is not None and not query.reader_id:
        return _thread_view(cached, query, {}, None)
    if cached is not None:  # only the reader's own part to read: one statement
        params = _mine_params(uow, cached, query.reader_id)
        rows = uow.read_rows(sql.MINE, params) if params is not None else []
        votes, mine = _mine(rows, cached)
        return _thread_view(cached, query, votes, mine)
    with uow:
        generation = cache.generation()
        page = _read_page(uow, query, key, position)
        if page.page_id is not None:
            cache.put(cache_key, page, generation)
        params = _mine_params(uow, page, query.reader_id)
        votes, mine = _mine(uow.session.execute(sql.MINE, params) if params is not None else [], page)
        return _thread_view(page, query, votes, mine)


def _read_page(uow: UnitOfWork, query: ThreadQuery, key: str, position: tuple[Any, ...] | None) -> CachedPage:
    """The rows every reader sees alike: the page, its tallies, its comments."""
    site = site_rules(uow, query.site)
    found = uow.session.execute(sql.PAGE_AND_TALLIES, {"site_id": site.id, "key": key}).all()
    tallies = dict.fromkeys(site.reaction_keys, 0)
    if not found:  # nobody engaged with it yet: an empty thread, not an error
        return CachedPage(clean_url(query.page), None, 0, None, tallies, [], [], more=False)
    for row in found:
        if row.reaction in tallies:
            tallies[row.reaction] = int(row.tally)
    page = found[0]
    tops, replies = _comments(uow.session, page.page_id, query, position)
    more = len(tops) > query.limit
    tops = tops[: query.limit]
    return CachedPage(
        page.url,
        page.title,
        page.comment_count,
        page.page_id,
        tallies,
        tops,
        replies,
        more,
        views=assemble(tops, replies, {}),
        next_cursor=_cursor(query.sort, tops[-1]) if more else None,
    )


def _mine_params(uow: UnitOfWork, page: CachedPage, reader_id: str | None) -> dict[str, Any] | None:
    """The parameters of ``thread_sql.MINE`` for the reader, or None: nothing of theirs to read."""
    if not reader_id or page.page_id is None:
        return None
    reader = uow.keys.reader_hash(reader_id)
    return {"reader": reader, "tops": [c.id for c in page.tops], "page_id": page.page_id}


def _mine(rows: Iterable[Any], page: CachedPage) -> tuple[dict[int, int], str | None]:
    """The reader's votes on the page's comments and their reaction (if the site still offers it)."""
    votes: dict[int, int] = {}
    mine = None
    for comment_id, value, reaction in rows:
        if reaction is None:
            votes[int(comment_id)] = int(value)
        elif reaction in page.reactions:
            mine = str(reaction)
    return votes, mine


def _thread_view(page: CachedPage, query: ThreadQuery, votes: dict[int, int], mine: str | None) -> ThreadView:
    return ThreadView(
        page=PageInfo(page.url, page.title, page.comments, dict(page.reactions), mine),
        # Most readers have voted on nothing shown: they get the comments assembled once.
        comments=assemble(page.tops, page.replies, votes) if votes or not page.views else page.views,
        next_cursor=page.next_cursor,
        rendered=page.rendered if not votes and mine is None else None,
    )


def list_replies(uow: UnitOfWork, query: RepliesQuery) -> RepliesView:
    """The next replies of a top-level comment whose thread page did not carry them all."""
    check_read(query.site, query.reader_id, query.comment_id)
    check.integer("limit", query.limit, minimum=1, maximum=MAX_LIMIT)
    position = _decode_cursor(REPLIES_CURSOR, query.cursor) if query.cursor is not None else None
    with uow:
        found = None
        if is_site_key(query.site):
            params = {"comment_id": query.comment_id, "site": query.site}
            found = uow.session.execute(sql.TOP_LEVEL_ON_SITE, params).first()
        if found is None:
            raise CommentNotFound(f"no top-level comment {query.comment_id} on site {query.site!r}")
        bound: dict[str, Any] = {"top": query.comment_id, "size": query.limit + 1}
        if position is not None:
            bound |= sql.after_params("oldest", position)
        rows = list(uow.session.execute(sql.replies_statement(position is not None), bound))
        reader = uow.keys.reader_hash(query.reader_id) if query.reader_id else None
        votes = my_votes(uow.session, reader, [query.comment_id])
        shown = rows[: query.limit]
        return RepliesView(
            replies=tuple(comment_view(r, my_vote=votes.get(r.id, 0)) for r in shown),
            next_cursor=_cursor(REPLIES_CURSOR, shown[-1]) if len(rows) > query.limit else None,
        )


def page_counts(uow: UnitOfWork, site_key: str, pages: Sequence[str]) -> dict[str, dict[str, int]]:
    """Comments and reactions of up to 500 pages (URLs, paths or ids), in one statement; the
    dict may be shared with other readers' answers: not to be changed."""
    return cached_counts(uow, site_key, pages).counts


def cached_counts(uow: UnitOfWork, site_key: str, pages: Sequence[str]) -> CachedCounts:
    """:func:`page_counts` as the thread cache keeps it (with its ``rendered`` memo): a listing
    page asked again within the cache's life costs no statement and no parsing of its pages."""
    if isinstance(pages, str) or len(pages) > MAX_COUNT_PAGES:
        raise InvalidInput("pages", f"give a list of at most {MAX_COUNT_PAGES} pages")
    for ref in pages:
        if not isinstance(ref, str):
            page_key(ref)  # its InvalidInput, before any use as a part of the cache's key
    cache = uow.thread_cache
    cache_key = ("counts", site_key, *pages)
    cached = cache.get(cache_key)
    if isinstance(cached, CachedCounts):
        return cached
    keys = {ref: page_key(ref) for ref in pages}
    if not is_site_key(site_key):
        raise SiteNotFound(f"no site with key {site_key!r}")
    generation = cache.generation()
    wanted = sorted(set(keys.values()))
    rows = uow.read_rows(sql.PAGE_COUNTS, {"site": site_key, "keys": wanted})
    if not rows:
        raise SiteNotFound(f"no site with key {site_key!r}")
    found = {key: (int(comments), int(reactions)) for key, comments, reactions in rows if key is not None}
    none = (0, 0)
    counts = {
        ref: {"comments": found.get(k, none)[0], "reactions": found.get(k, none)[1]}
        for ref, k in keys.items()
    }
    entry = CachedCounts(counts)
    cache.put(cache_key, entry, generation)
    return entry


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


def check_read(site: str, reader_id: str | None, comment_id: int | None = None) -> None:
    """What every public read of comments takes: a site, maybe a reader id, maybe a comment id."""
    if not isinstance(site, str) or not site:
        raise InvalidInput("site", "is required")
    if comment_id is not None:
        check.integer("comment_id", comment_id, minimum=1, maximum=2**31 - 1)
    check.single_line("reader_id", reader_id, max_length=200, required=False)


def _checked(query: ThreadQuery) -> tuple[str, tuple[Any, ...] | None]:
    check_read(query.site, query.reader_id)
    key = page_key(query.page)
    check.one_of("sort", query.sort, SORTS)
    check.integer("limit", query.limit, minimum=1, maximum=MAX_LIMIT)
    check.single_line("passage", query.passage, max_length=check.MAX_PASSAGE, required=False)
    position = _decode_cursor(query.sort, query.cursor) if query.cursor is not None else None
    return key, position


def _comments(
    session: Session, page_id: int, query: ThreadQuery, position: tuple[Any, ...] | None
) -> tuple[list[sa.Row[Any]], list[sa.Row[Any]]]:
    """Keyset page of top-level comments, one more than asked (to tell whether more follow),
    and the oldest replies of those shown, in one statement."""
    passage = query.passage if query.passage in (None, ANY_PASSAGE) else "one"
    stmt = sql.page_statement(query.sort, passage, position is not None)
    params: dict[str, Any] = {
        "page_id": page_id,
        "size": query.limit + 1,
        "shown": query.limit,
        "per_thread": sql.REPLIES_PER_THREAD,
        "passage": query.passage,
    }
    if position is not None:
        params |= sql.after_params(query.sort, position)
    tops: list[sa.Row[Any]] = []
    replies: list[sa.Row[Any]] = []
    for row in session.execute(stmt, params):
        (tops if row.rank else replies).append(row)
    return tops, replies


def my_votes(session: Session, reader: str | None, top_ids: list[int]) -> dict[int, int]:
    """The reader's votes on the comments of the threads of ``top_ids`` (their replies too)."""
    if reader is None or not top_ids:
        return {}
    rows = session.execute(sql.MY_VOTES, {"reader": reader, "tops": top_ids})
    return {int(cid): int(value) for cid, value in rows}


def assemble(
    tops: list[sa.Row[Any]],
    replies: list[sa.Row[Any]],
    votes: dict[int, int],
    linked: Sequence[sa.Row[Any]] = (),
) -> tuple[CommentView, ...]:
    """Nest replies under their parents, deepest first, without recursion (depth is unbounded).

    ``replies`` are rows of ``thread_sql.REPLIES``: their places tell each top-level comment
    how many replies did not fit, and where the next ones start. ``linked`` are rows of
    ``thread_sql.REPLY_CHAIN``, newer than those: nested alike, they leave that count as it is.
    """
    children: dict[int, list[sa.Row[Any]]] = defaultdict(list)
    last_shown: dict[int, sa.Row[Any]] = {}  # per thread, the newest reply this page carries
    for reply in replies:
        last_shown[reply.thread_id] = reply
    for reply in [*replies, *linked]:
        if reply.parent_id is not None:
            children[reply.parent_id].append(reply)
    views: dict[int, CommentView] = {}
    for comment in sorted([*tops, *replies, *linked], key=lambda c: c.depth, reverse=True):
        nested = tuple(views[c.id] for c in children.get(comment.id, ()) if c.id in views)
        views[comment.id] = comment_view(comment, my_vote=votes.get(comment.id, 0), replies=nested)
    return tuple(_with_more(views[c.id], last_shown.get(c.id)) for c in tops)


def _with_more(view: CommentView, last: sa.Row[Any] | None) -> CommentView:
    """A top-level comment whose replies did not all fit: how many more, and where they start."""
    if last is None or last.place >= last.in_thread:
        return view
    return replace(
        view, more_replies=last.in_thread - last.place, replies_cursor=_cursor(REPLIES_CURSOR, last)
    )


REPLIES_CURSOR = "replies"  # a cursor's kind: replies of one comment, oldest first


def _cursor(sort: str, last: sa.Row[Any]) -> str:
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
