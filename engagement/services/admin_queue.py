"""The admin queue: pending, reported and spam comments across an admin's sites, newest first."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement import validation as check
from engagement.errors import CommentNotFound, InvalidInput
from engagement.models import Comment, Page, Report, Site
from engagement.services.admins import AdminView, require_site
from engagement.services.reports import ReportSummary, report_summaries
from engagement.uow import UnitOfWork

QUEUE_STATUSES = ("pending", "reported", "spam")
PAGE_SIZE = 50
OTHER_RECENT = 5
REPLIES_SHOWN = 3
SCAN_WINDOW = 5000  # comments a text search looks at per page
Listing = Any  # a select of (Comment, Page, Site) rows


@dataclass(frozen=True)
class AdminComment:
    """A comment as a moderator sees it: who wrote it (address too), where, and why it is held."""

    id: int
    parent_id: int | None
    thread_id: int | None
    status: str
    author_name: str
    author_email: str | None
    body: str
    html: str
    reason: str | None
    created_at: datetime
    site_key: str
    site_name: str
    page_id: int
    page_key: str
    page_title: str | None
    page_url: str | None
    reports: ReportSummary | None = None
    parent: AdminComment | None = None
    replies: tuple[AdminComment, ...] = ()
    author_others: int = 0  # the author's other comments on this site (by address)


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows: a status, and optionally one site, one page and a text."""

    status: str = "pending"
    site: str | None = None
    page_id: int | None = None
    text: str | None = None
    before: str | None = None  # the cursor of the previous page's last item


@dataclass(frozen=True)
class QueuePage:
    items: list[AdminComment]
    next_cursor: str | None
    # A text search looked no further back than this (the next cursor goes on from there).
    searched_to: datetime | None = None


@dataclass(frozen=True)
class CommentContext:
    """A comment in its thread: its parent, its replies, and its author's other recent comments."""

    comment: AdminComment
    replies: list[AdminComment]
    others: list[AdminComment]


def queue_page(
    uow: UnitOfWork, admin: AdminView, wanted: QueueFilter, limit: int = PAGE_SIZE, scan: int = SCAN_WINDOW
) -> QueuePage:
    """One page of the queue, newest first; ``next_cursor`` continues it."""
    check.one_of("status", wanted.status, QUEUE_STATUSES)
    text = check.single_line("text", wanted.text, max_length=200, required=False)
    with uow:
        stmt = admin_comments_select(uow.session, admin, wanted.site)
        if wanted.status == "reported":
            open_reports = sa.select(Report.comment_id).where(Report.cleared_at.is_(None))
            stmt = stmt.where(Comment.status == "approved", Comment.id.in_(open_reports))
        else:
            stmt = stmt.where(Comment.status == wanted.status)
        if wanted.page_id is not None:
            stmt = stmt.where(Comment.page_id == wanted.page_id)
        matches = [contains(Comment.body, text)] if text else []
        return read_page(uow.session, stmt, matches, wanted.before, limit, scan)


def read_page(
    session: Session,
    stmt: Listing,
    matches: list[sa.ColumnElement[bool]],
    before: str | None,
    limit: int,
    scan: int = SCAN_WINDOW,
) -> QueuePage:
    """One page, newest first, after the ``before`` cursor.

    Text matches cannot use an index, so they are tested on the next ``scan`` comments
    only: a rare word costs a bounded scan, and the page's cursor goes on from where it
    stopped (``searched_to``) instead of reading the whole table in one request.
    """
    stmt = after_cursor(stmt, before)
    edge = None
    if matches:
        # The window's last comment bounds the text scan by (created_at, id), an indexed range.
        bounds = stmt.with_only_columns(Comment.created_at, Comment.id).offset(scan - 1).limit(1)
        edge = session.execute(bounds).first()
        if edge is not None:
            stmt = stmt.where(
                sa.or_(
                    Comment.created_at > edge.created_at,
                    sa.and_(Comment.created_at == edge.created_at, Comment.id >= edge.id),
                )
            )
        stmt = stmt.where(*matches)
    rows = session.execute(stmt.limit(limit + 1)).all()
    items = with_parents(session, [admin_comment(*row) for row in rows[:limit]])
    if len(rows) > limit and items:
        return QueuePage(items, cursor_of(items[-1]))
    if edge is not None:
        return QueuePage(items, f"{edge.created_at.isoformat()}~{edge.id}", searched_to=edge.created_at)
    return QueuePage(items, None)


def comment_context(uow: UnitOfWork, admin: AdminView, comment_id: int) -> CommentContext:
    """A comment with its parent, its direct replies and its author's other recent comments."""
    with uow:
        session = uow.session
        found = session.execute(listing().where(Comment.id == comment_id)).first()
        if found is None:
            raise CommentNotFound(f"no comment {comment_id}")
        require_site(admin, found[2].id)
        comment = with_parents(session, [admin_comment(*found)])[0]
        thread = found[0].thread_id or comment_id
        replies_stmt = (
            listing().where(Comment.thread_id == thread, Comment.parent_id == comment_id).order_by(None)
        )
        replies = [
            admin_comment(*r) for r in session.execute(replies_stmt.order_by(Comment.created_at).limit(50))
        ]
        others: list[AdminComment] = []
        raw = session.get(Comment, comment_id)
        author = [Comment.author_email == raw.author_email] if raw and raw.author_email else []
        if raw is not None and raw.author_reader:
            author.append(Comment.author_reader == raw.author_reader)
        if author:
            others_stmt = (
                admin_comments_select(session, admin, found[2].key)
                .where(sa.or_(*author), Comment.id != comment_id)
                .limit(OTHER_RECENT)
            )
            others = [admin_comment(*r) for r in session.execute(others_stmt)]
        return CommentContext(comment, replies, others)


def admin_comments_select(session: Session, admin: AdminView, site_key: str | None) -> Listing:
    """Comments with their page and site, limited to the admin's sites (and to one, if named)."""
    stmt = listing()
    if site_key:
        site_id = session.scalar(sa.select(Site.id).where(Site.key == site_key))
        if site_id is None:
            raise InvalidInput("site", f"no site {site_key!r}")
        require_site(admin, site_id)
        stmt = stmt.where(Comment.page_id.in_(sa.select(Page.id).where(Page.site_id == site_id)))
    elif admin.site_ids is not None:
        # By page id: the (page, status, created) index reads a few sites' comments directly.
        their_pages = sa.select(Page.id).where(Page.site_id.in_(sorted(admin.site_ids)))
        stmt = stmt.where(Comment.page_id.in_(their_pages))
    return stmt


def listing() -> Listing:
    """Comments with their page and site, newest first."""
    return (
        sa.select(Comment, Page, Site)
        .join(Page, Page.id == Comment.page_id)
        .join(Site, Site.id == Page.site_id)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
    )


def contains(column: Any, text: str) -> sa.ColumnElement[bool]:
    """A case-insensitive substring match with the LIKE wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    match: sa.ColumnElement[bool] = column.ilike(f"%{escaped}%", escape="\\")
    return match


def after_cursor(stmt: Listing, cursor: str | None) -> Listing:
    """Continue a newest-first listing after the item ``cursor`` names."""
    if not cursor:
        return stmt
    stamp, _, ident = cursor.partition("~")
    try:
        when, last_id = datetime.fromisoformat(stamp), int(ident)
    except ValueError:
        raise InvalidInput("before", "is not a cursor this page gave") from None
    if when.tzinfo is None:
        raise InvalidInput("before", "is not a cursor this page gave")
    return stmt.where(
        sa.or_(Comment.created_at < when, sa.and_(Comment.created_at == when, Comment.id < last_id))
    )


def cursor_of(item: AdminComment) -> str:
    return f"{item.created_at.isoformat()}~{item.id}"


def admin_comment(
    comment: Comment, page: Page, site: Site, reports: ReportSummary | None = None
) -> AdminComment:
    return AdminComment(
        id=comment.id,
        parent_id=comment.parent_id,
        thread_id=comment.thread_id,
        status=comment.status,
        author_name=comment.author_name,
        author_email=comment.author_email,
        body=comment.body,
        html=comment.html,
        reason=comment.moderation_reason,
        created_at=comment.created_at,
        site_key=site.key,
        site_name=site.name,
        page_id=page.id,
        page_key=page.key,
        page_title=page.title,
        page_url=page.url,
        reports=reports,
    )


def with_parents(session: Session, items: list[AdminComment]) -> list[AdminComment]:
    """The items with their open reports, parent, first replies and the count of their author's
    other comments on the site: four statements for a whole page, whatever its length."""
    reports = report_summaries(session, [item.id for item in items])
    parent_ids = {item.parent_id for item in items if item.parent_id is not None}
    parents: dict[int, AdminComment] = {}
    if parent_ids:
        stmt = listing().where(Comment.id.in_(parent_ids))
        parents = {row[0].id: admin_comment(*row) for row in session.execute(stmt)}
    replies, others = _first_replies(session, items), _author_counts(session, items)
    return [
        replace(
            item,
            reports=reports.get(item.id),
            parent=parents.get(item.parent_id or 0),
            replies=tuple(replies.get(item.id, ())),
            author_others=max(0, others.get((item.author_email, item.site_key), 0) - 1),
        )
        for item in items
    ]


def _first_replies(session: Session, items: list[AdminComment]) -> dict[int, list[AdminComment]]:
    if not items:
        return {}
    stmt = (
        listing()
        # Through the thread index: replies share their parent's thread.
        .where(
            Comment.thread_id.in_({item.thread_id or item.id for item in items}),
            Comment.parent_id.in_([item.id for item in items]),
        )
        .order_by(None)
        .order_by(Comment.created_at, Comment.id)
        .limit(REPLIES_SHOWN * len(items))
    )
    found: dict[int, list[AdminComment]] = {}
    for row in session.execute(stmt):
        shown = found.setdefault(row[0].parent_id, [])
        if len(shown) < REPLIES_SHOWN:
            shown.append(admin_comment(*row))
    return found


def _author_counts(session: Session, items: list[AdminComment]) -> dict[tuple[str | None, str], int]:
    emails = {item.author_email for item in items if item.author_email}
    if not emails:
        return {}
    stmt = (
        sa.select(Comment.author_email, Site.key, sa.func.count())
        .join(Page, Page.id == Comment.page_id)
        .join(Site, Site.id == Page.site_id)
        .where(Comment.author_email.in_(sorted(emails)))
        .group_by(Comment.author_email, Site.key)
    )
    return {(email, key): int(n) for email, key, n in session.execute(stmt)}


def search_comments(
    uow: UnitOfWork,
    admin: AdminView,
    site_key: str,
    *,
    text: str | None = None,
    author: str | None = None,
    page: str | None = None,
    before: str | None = None,
    limit: int = PAGE_SIZE,
) -> QueuePage:
    """Every comment of a site (any status), by text, author name and page, newest first."""
    text = check.single_line("text", text, max_length=200, required=False)
    author = check.single_line("author", author, max_length=100, required=False)
    page = check.single_line("page", page, max_length=2000, required=False)
    with uow:
        stmt = admin_comments_select(uow.session, admin, check.required_text("site", site_key, max_length=64))
        matches = [contains(Comment.body, text)] if text else []
        if author:
            matches.append(contains(Comment.author_name, author))
        if page:
            matches.append(sa.or_(contains(Page.key, page), contains(sa.func.coalesce(Page.title, ""), page)))
        return read_page(uow.session, stmt, matches, before, limit)
