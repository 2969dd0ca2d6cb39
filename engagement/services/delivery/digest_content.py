"""What a digest says: the site's most-discussed pages, activity on followed pages, replies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement.models import Comment, DigestRun, Page, Subscription

TOP_PAGES = 5
COMMENTS_PER_PAGE = 3
REPLIES_PER_DIGEST = 10


def top_pages(session: Session, run: DigestRun) -> list[dict[str, Any]]:
    """The site's most-discussed pages of the period (computed once per run)."""
    count = sa.func.count(Comment.id).label("n")
    rows = session.execute(
        sa.select(Page, count)
        .join(Comment, Comment.page_id == Page.id)
        .where(Page.site_id == run.site_id, *published_in(run))
        .group_by(Page.id)
        .order_by(count.desc(), Page.id)
        .limit(TOP_PAGES)
    )
    return [{"page_id": page.id, "count": n} for page, n in rows]


def published_in(run: DigestRun) -> list[sa.ColumnElement[bool]]:
    """Conditions on Comment: approved and published within the run's period."""
    return [
        Comment.status == "approved",
        Comment.published_at >= run.period_start,
        Comment.published_at < run.period_end,
    ]


def followed_pages(
    session: Session, run: DigestRun, subscriber_ids: Sequence[int]
) -> dict[int, list[list[Any]]]:
    """subscriber → [[page id, new comments, [latest comment ids]], …] for the pages they follow."""
    follows = session.execute(
        sa.select(Subscription.subscriber_id, Subscription.page_id).where(
            Subscription.subscriber_id.in_(list(subscriber_ids)), Subscription.kind == "thread"
        )
    ).all()
    pages = {page_id for _, page_id in follows if page_id is not None}
    if not pages:
        return {}
    rank = sa.func.row_number().over(
        partition_by=Comment.page_id, order_by=(Comment.published_at.desc(), Comment.id.desc())
    )
    total = sa.func.count().over(partition_by=Comment.page_id)
    inner = (
        sa.select(Comment.page_id, Comment.id, rank.label("r"), total.label("n"))
        .where(Comment.page_id.in_(pages), *published_in(run))
        .subquery()
    )
    activity: dict[int, list[Any]] = {}
    for page_id, comment_id, _, n in session.execute(
        sa.select(inner).where(inner.c.r <= COMMENTS_PER_PAGE).order_by(inner.c.page_id, inner.c.r)
    ):
        activity.setdefault(page_id, [page_id, n, []])[2].append(comment_id)
    result: dict[int, list[list[Any]]] = {}
    for subscriber_id, page_id in follows:
        if page_id in activity:
            result.setdefault(subscriber_id, []).append(activity[page_id])
    return result


def replies_to(session: Session, run: DigestRun, emails: dict[int, str]) -> dict[int, list[int]]:
    """subscriber → ids of the period's replies to their comments (by others), newest first."""
    parent = sa.orm.aliased(Comment)
    by_email: dict[str, list[int]] = {}
    for email, comment_id in session.execute(
        sa.select(parent.author_email, Comment.id)
        .join(parent, parent.id == Comment.parent_id)
        .join(Page, Page.id == Comment.page_id)
        .where(
            Page.site_id == run.site_id,
            parent.author_email.in_(list(emails.values())),
            sa.or_(Comment.author_email.is_(None), Comment.author_email != parent.author_email),
            *published_in(run),
        )
        .order_by(Comment.published_at.desc(), Comment.id.desc())
    ):
        if email is not None:
            by_email.setdefault(email, []).append(comment_id)
    return {s: by_email[e][:REPLIES_PER_DIGEST] for s, e in emails.items() if e in by_email}
