"""Comments as moderators see them: one shape, the listing read newest first with its keyset
cursor, and what a page of them needs around it (reports, parents, replies) in a few statements."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement.errors import InvalidInput
from engagement.models import Comment, Page, Site
from engagement.services.discussion.reports import ReportSummary, report_summaries

PAGE_SIZE = 50
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
    author_verified: bool = False  # signed in by the publisher's site


@dataclass(frozen=True)
class QueuePage:
    items: list[AdminComment]
    next_cursor: str | None
    # A text search looked no further back than this (the next cursor goes on from there).
    searched_to: datetime | None = None


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
        author_verified=comment.author_verified,
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
