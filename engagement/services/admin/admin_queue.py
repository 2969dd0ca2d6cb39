"""The admin queue: pending, reported and spam comments across an admin's sites, newest first."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement import validation as check
from engagement.errors import CommentNotFound, InvalidInput
from engagement.models import Comment, Page, Report, Site
from engagement.services.admin.admin_comments import (
    PAGE_SIZE,
    SCAN_WINDOW,
    AdminComment,
    Listing,
    QueuePage,
    admin_comment,
    contains,
    listing,
    read_page,
    with_parents,
)
from engagement.services.admin.admins import AdminView, require_site
from engagement.uow import UnitOfWork

QUEUE_STATUSES = ("pending", "reported", "spam")
OTHER_RECENT = 5


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows: a status, and optionally one site, one page and a text."""

    status: str = "pending"
    site: str | None = None
    page_id: int | None = None
    text: str | None = None
    before: str | None = None  # the cursor of the previous page's last item


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
