"""Digests: when each site's period ends, and one run per period sent in keyset chunks.

A run is unique per (site, period, start): beat firing twice finds the same run. It holds a
lease while it works, so a second runner leaves it alone and a crashed one's run is resumed
later. Progress (the last subscriber id done) is saved only after a chunk's mails are sent,
and each digest is a delivery keyed by run and subscriber, so a resumed chunk sends nothing
twice. The site-wide part, its most-discussed pages, is computed once when the run starts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement import validation as check
from engagement.config import Settings
from engagement.db import insert_ignoring_conflict
from engagement.models import Comment, DigestRun, Page, Site, Subscriber, Subscription
from engagement.models.subscriptions import CADENCES
from engagement.services.deliveries import NewDelivery, add_deliveries
from engagement.services.sites import get_site
from engagement.services.subscriptions import active_clause
from engagement.uow import UnitOfWork

DIGEST_TEMPLATE = "digest"
PERIODS = CADENCES
CHUNK_SIZE = 500
TOP_PAGES = 5
COMMENTS_PER_PAGE = 3
REPLIES_PER_DIGEST = 10
# A period is sent late (after a downtime) only this long after it ended, never days later.
CATCH_UP = {"daily": timedelta(hours=6), "weekly": timedelta(hours=24)}

SendChunk = Callable[[list[int]], tuple[int, int]]  # delivery ids → (sent, skipped)


@dataclass(frozen=True)
class DigestReport:
    """What one call did: ``busy`` when another runner held the run, ``done`` once complete."""

    run_id: int | None
    sent: int = 0
    skipped: int = 0
    done: bool = False
    busy: bool = False


def period_bounds(site: Site, period: str, now: datetime) -> tuple[datetime, datetime]:
    """The latest whole period ending at the site's digest time (its time zone) before ``now``."""
    local = now.astimezone(ZoneInfo(site.timezone or "UTC"))
    end = local.replace(hour=site.digest_hour, minute=0, second=0, microsecond=0)
    length = timedelta(days=1 if period == "daily" else 7)
    if period == "weekly":
        end -= timedelta(days=(local.weekday() - site.digest_weekday) % 7)
    if end > local:
        end -= length
    # Wall-clock arithmetic on the local time, then to UTC: a day stays a calendar day over DST.
    start = end - length
    return start.astimezone(UTC), end.astimezone(UTC)


def run_lease_seconds(settings: Settings) -> float:
    """How long a runner holds a run between chunks: a chunk's sending, even at a low rate."""
    return max(settings.delivery_lease_seconds, 2 * CHUNK_SIZE / settings.smtp_rate_per_second)


def due_digests(uow: UnitOfWork) -> list[tuple[str, str]]:
    """(site key, period) of every digest whose period ended recently and is not done yet."""
    with uow:
        now = uow.now()
        due = []
        for site in uow.session.scalars(sa.select(Site).order_by(Site.id)):
            for period in PERIODS:
                start, end = period_bounds(site, period, now)
                if now - end > CATCH_UP[period]:
                    continue
                done = uow.session.scalars(
                    sa.select(DigestRun.id).where(
                        DigestRun.site_id == site.id,
                        DigestRun.period == period,
                        DigestRun.period_start == start,
                        DigestRun.status == "done",
                    )
                ).first()
                if done is None and _has_subscribers(uow.session, site.id, period):
                    due.append((site.key, period))
        return due


def send_digest(
    uow: UnitOfWork,
    site_key: str,
    period: str,
    send_chunk: SendChunk,
    *,
    lease_seconds: float = 300.0,
    chunk_size: int = CHUNK_SIZE,
) -> DigestReport:
    """Run (or resume) the site's digest for the latest period; ``send_chunk`` sends the mails."""
    check.one_of("period", period, PERIODS)
    run_id = _start(uow, site_key, period, lease_seconds)
    if run_id is None:
        return DigestReport(run_id=None, busy=True)
    sent = skipped = 0
    while True:
        with uow:
            run = uow.session.get_one(DigestRun, run_id)
            if run.status == "done":
                return DigestReport(run.id, sent, skipped, done=True)
            ids, last = _plan_chunk(uow.session, run, uow.now(), chunk_size)
            uow.commit()
        chunk_sent, chunk_skipped = send_chunk(ids) if ids else (0, 0)
        sent, skipped = sent + chunk_sent, skipped + chunk_skipped
        with uow:
            now = uow.now()
            values: dict[str, Any] = {
                "sent": DigestRun.sent + chunk_sent,
                "skipped": DigestRun.skipped + chunk_skipped,
                "lease_until": now + timedelta(seconds=lease_seconds),
            }
            if last is None:
                values.update(status="done", finished_at=now, lease_until=None)
            else:
                # Never backwards, should a runner whose lease ran out still be finishing a chunk.
                values["last_subscriber_id"] = sa.case(
                    (DigestRun.last_subscriber_id < last, last), else_=DigestRun.last_subscriber_id
                )
            uow.session.execute(sa.update(DigestRun).where(DigestRun.id == run_id).values(**values))
            uow.commit()
        if last is None:
            return DigestReport(run_id, sent, skipped, done=True)


def _start(uow: UnitOfWork, site_key: str, period: str, lease_seconds: float) -> int | None:
    """Find or create the period's run and take its lease; None while another runner holds it."""
    with uow:
        now = uow.now()
        site = get_site(uow.session, site_key)
        start, end = period_bounds(site, period, now)
        values = {"site_id": site.id, "period": period, "period_start": start, "period_end": end}
        insert_ignoring_conflict(
            uow.session,
            DigestRun.__table__,  # type: ignore[arg-type]
            {
                **values,
                "status": "running",
                "top_pages": [],
                "last_subscriber_id": 0,
                "sent": 0,
                "skipped": 0,
                "started_at": now,
            },
            ["site_id", "period", "period_start"],
        )
        run = uow.session.scalars(
            sa.select(DigestRun).where(
                DigestRun.site_id == site.id, DigestRun.period == period, DigestRun.period_start == start
            )
        ).one()
        if run.status == "done":
            return run.id
        taken = uow.session.execute(
            sa.update(DigestRun)
            .where(
                DigestRun.id == run.id, sa.or_(DigestRun.lease_until.is_(None), DigestRun.lease_until <= now)
            )
            .values(lease_until=now + timedelta(seconds=lease_seconds))
            .returning(DigestRun.id),
            execution_options={"synchronize_session": False},
        ).first()
        if taken is None:
            return None
        if run.last_subscriber_id == 0 and not run.top_pages:
            top = _top_pages(uow.session, run)
            uow.session.execute(sa.update(DigestRun).where(DigestRun.id == run.id).values(top_pages=top))
        uow.commit()
        return run.id


def _top_pages(session: Session, run: DigestRun) -> list[dict[str, Any]]:
    """The site's most-discussed pages of the period (computed once per run)."""
    count = sa.func.count(Comment.id).label("n")
    rows = session.execute(
        sa.select(Page, count)
        .join(Comment, Comment.page_id == Page.id)
        .where(Page.site_id == run.site_id, *_published_in(run))
        .group_by(Page.id)
        .order_by(count.desc(), Page.id)
        .limit(TOP_PAGES)
    )
    return [{"page_id": page.id, "count": n} for page, n in rows]


def _published_in(run: DigestRun) -> list[sa.ColumnElement[bool]]:
    return [
        Comment.status == "approved",
        Comment.published_at >= run.period_start,
        Comment.published_at < run.period_end,
    ]


def _has_subscribers(session: Session, site_id: int, period: str) -> bool:
    stmt = (
        sa.select(Subscriber.id)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscriber.site_id == site_id, Subscription.kind == "digest", Subscription.cadence == period)
        .limit(1)
    )
    return session.scalars(stmt).first() is not None


def _plan_chunk(session: Session, run: DigestRun, now: datetime, size: int) -> tuple[list[int], int | None]:
    """Write the next chunk's deliveries; their ids and the chunk's last subscriber (None: end)."""
    rows = session.execute(
        sa.select(Subscriber.id, Subscriber.email, Subscription.id)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(
            Subscriber.site_id == run.site_id,
            Subscriber.id > run.last_subscriber_id,
            Subscription.kind == "digest",
            Subscription.cadence == run.period,
            active_clause(),
        )
        .order_by(Subscriber.id)
        .limit(size)
    ).all()
    if not rows:
        return [], None
    if not run.top_pages:
        # Nobody commented on the site this period: every digest would be empty, none is sent.
        return [], rows[-1][0]
    emails = {subscriber_id: email for subscriber_id, email, _ in rows}
    followed = _followed(session, run, list(emails))
    replies = _replies(session, run, emails)
    wanted = [
        NewDelivery(
            key=f"digest:{run.id}:{subscriber_id}",
            recipient=email,
            template=DIGEST_TEMPLATE,
            site_id=run.site_id,
            context={
                "run_id": run.id,
                "subscriber_id": subscriber_id,
                "subscription_id": subscription_id,
                "followed": followed.get(subscriber_id, []),
                "replies": replies.get(subscriber_id, []),
            },
        )
        for subscriber_id, email, subscription_id in rows
    ]
    ids = add_deliveries(session, wanted, now)
    return [ids[w.key] for w in wanted], rows[-1][0]


def _followed(session: Session, run: DigestRun, subscriber_ids: Sequence[int]) -> dict[int, list[list[Any]]]:
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
        .where(Comment.page_id.in_(pages), *_published_in(run))
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


def _replies(session: Session, run: DigestRun, emails: dict[int, str]) -> dict[int, list[int]]:
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
            *_published_in(run),
        )
        .order_by(Comment.published_at.desc(), Comment.id.desc())
    ):
        if email is not None:
            by_email.setdefault(email, []).append(comment_id)
    return {s: by_email[e][:REPLIES_PER_DIGEST] for s, e in emails.items() if e in by_email}
