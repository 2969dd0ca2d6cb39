"""The admin overview: comments per day, what waits, the most discussed pages, mail and digests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement.models import Comment, Delivery, DigestRun, Page, Report, Site
from engagement.outbox import unrelayed_backlog
from engagement.services.admin.admins import AdminView
from engagement.uow import UnitOfWork

DAYS = 30


@dataclass(frozen=True)
class Overview:
    per_day: list[tuple[date, int]]
    pending: int
    reported: int
    top_pages: list[tuple[str, str, int]]  # site key, page title or key, comments in 30 days
    deliveries: dict[str, int]  # owners only; empty for a moderator
    digest_runs: list[tuple[str, str, datetime, str, int]]  # site, period, started, status, sent
    outbox_lag_seconds: float | None  # the oldest unrelayed event's age; None when all relayed


def overview(uow: UnitOfWork, admin: AdminView) -> Overview:
    with uow:
        session, now = uow.session, uow.now()
        since = (now - timedelta(days=DAYS - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
        mine = _scope(admin)
        day = _utc_day(session)
        recent = (
            sa.select(day, sa.func.count())
            .select_from(Comment)
            .join(Page, Page.id == Comment.page_id)
            .where(Comment.created_at >= since, *mine)
            .group_by(day)
        )
        counts = {date.fromisoformat(str(when)): int(n) for when, n in session.execute(recent)}
        days = [since.date() + timedelta(days=n) for n in range(DAYS)]
        return Overview(
            per_day=[(day, counts.get(day, 0)) for day in days],
            pending=_count(session, Comment.status == "pending", *mine),
            reported=_count(
                session,
                Comment.status == "approved",
                Comment.id.in_(sa.select(Report.comment_id).where(Report.cleared_at.is_(None))),
                *mine,
            ),
            top_pages=_top_pages(session, since, mine),
            deliveries=_deliveries(session) if admin.is_owner else {},
            digest_runs=_digest_runs(session, mine),
            outbox_lag_seconds=_lag(session, now) if admin.is_owner else None,
        )


def _utc_day(session: Session) -> sa.ColumnElement[object]:
    """A comment's UTC day, counted by the database (SQLite keeps UTC text, PostgreSQL timestamptz)."""
    if session.get_bind().dialect.name == "sqlite":
        return sa.func.date(Comment.created_at)
    return sa.cast(sa.func.timezone("UTC", Comment.created_at), sa.Date)


def _scope(admin: AdminView) -> list[sa.ColumnElement[bool]]:
    return [] if admin.site_ids is None else [Page.site_id.in_(sorted(admin.site_ids))]


def _count(session: Session, *where: sa.ColumnElement[bool]) -> int:
    stmt = (
        sa.select(sa.func.count()).select_from(Comment).join(Page, Page.id == Comment.page_id).where(*where)
    )
    return int(session.scalar(stmt) or 0)


def _top_pages(
    session: Session, since: datetime, mine: list[sa.ColumnElement[bool]]
) -> list[tuple[str, str, int]]:
    n = sa.func.count(Comment.id).label("n")
    stmt = (
        sa.select(Site.key, sa.func.coalesce(Page.title, Page.key), n)
        .join(Page, Page.id == Comment.page_id)
        .join(Site, Site.id == Page.site_id)
        .where(Comment.status == "approved", Comment.created_at >= since, *mine)
        .group_by(Site.key, Page.id, Page.title, Page.key)
        .order_by(n.desc())
        .limit(10)
    )
    return [(row[0], row[1], int(row[2])) for row in session.execute(stmt)]


def _deliveries(session: Session) -> dict[str, int]:
    stmt = sa.select(Delivery.status, sa.func.count()).group_by(Delivery.status).order_by(Delivery.status)
    return {status: int(n) for status, n in session.execute(stmt)}


def _digest_runs(
    session: Session, mine: list[sa.ColumnElement[bool]]
) -> list[tuple[str, str, datetime, str, int]]:
    where = [DigestRun.site_id.in_(sa.select(Page.site_id).where(*mine))] if mine else []
    stmt = (
        sa.select(Site.key, DigestRun.period, DigestRun.started_at, DigestRun.status, DigestRun.sent)
        .join(Site, Site.id == DigestRun.site_id)
        .where(*where)
        .order_by(DigestRun.started_at.desc())
        .limit(10)
    )
    return [(r[0], r[1], r[2], r[3], int(r[4])) for r in session.execute(stmt)]


def _lag(session: Session, now: datetime) -> float | None:
    backlog = unrelayed_backlog(session)
    return backlog.lag_seconds(now) if backlog.pending else None
