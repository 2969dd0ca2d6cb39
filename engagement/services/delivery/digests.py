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
from engagement.models import DigestRun, Site, Subscriber, Subscription
from engagement.models.subscriptions import CADENCES
from engagement.services.audience.subscriptions import active_clause
from engagement.services.delivery.deliveries import NewDelivery, add_deliveries
from engagement.services.delivery.digest_content import followed_pages, replies_to, top_pages
from engagement.services.sites import get_site
from engagement.uow import UnitOfWork

DIGEST_TEMPLATE = "digest"
PERIODS = CADENCES
CHUNK_SIZE = 500
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
    stopped: bool = False  # the runner was told to stop: the run's lease is given back


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
    stopping: Callable[[], bool] | None = None,
) -> DigestReport:
    """Run (or resume) the site's digest for the latest period; ``send_chunk`` sends the mails.

    Once ``stopping()`` turns true (the worker is shutting down) the run stops between two
    chunks and gives its lease back, so that another runner resumes it at once.
    """
    check.one_of("period", period, PERIODS)
    run_id = _start(uow, site_key, period, lease_seconds)
    if run_id is None:
        return DigestReport(run_id=None, busy=True)
    sent = skipped = 0
    while True:
        if stopping is not None and stopping():
            _release(uow, run_id)
            return DigestReport(run_id, sent, skipped, stopped=True)
        with uow:
            run = uow.session.get_one(DigestRun, run_id)
            if run.status == "done":
                return DigestReport(run.id, sent, skipped, done=True)
            ids, last = _plan_chunk(uow.session, run, uow.now(), chunk_size)
            uow.commit()
        chunk_sent, chunk_skipped = send_chunk(ids) if ids else (0, 0)
        sent, skipped = sent + chunk_sent, skipped + chunk_skipped
        _record_chunk(uow, run_id, last, (chunk_sent, chunk_skipped), lease_seconds)
        if last is None:
            return DigestReport(run_id, sent, skipped, done=True)


def _record_chunk(
    uow: UnitOfWork, run_id: int, last: int | None, counts: tuple[int, int], lease_seconds: float
) -> None:
    """Save a sent chunk's counts and progress, renewing the lease; the run is done at the end."""
    with uow:
        now = uow.now()
        values: dict[str, Any] = {
            "sent": DigestRun.sent + counts[0],
            "skipped": DigestRun.skipped + counts[1],
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


def _release(uow: UnitOfWork, run_id: int) -> None:
    """Give the run's lease back: the next runner need not wait for it to run out."""
    with uow:
        uow.session.execute(
            sa.update(DigestRun)
            .where(DigestRun.id == run_id, DigestRun.status != "done")
            .values(lease_until=None)
        )
        uow.commit()


def _start(uow: UnitOfWork, site_key: str, period: str, lease_seconds: float) -> int | None:
    """Find or create the period's run and take its lease; None while another runner holds it."""
    with uow:
        now = uow.now()
        run = _find_or_create_run(uow.session, get_site(uow.session, site_key), period, now)
        if run.status == "done":
            return run.id
        if not _take_lease(uow.session, run.id, now, lease_seconds):
            return None
        if run.last_subscriber_id == 0 and not run.top_pages:
            top = top_pages(uow.session, run)
            uow.session.execute(sa.update(DigestRun).where(DigestRun.id == run.id).values(top_pages=top))
        uow.commit()
        return run.id


def _find_or_create_run(session: Session, site: Site, period: str, now: datetime) -> DigestRun:
    """The run of the site's latest period, inserted unless a runner already did."""
    start, end = period_bounds(site, period, now)
    insert_ignoring_conflict(
        session,
        DigestRun.__table__,  # type: ignore[arg-type]
        {
            "site_id": site.id,
            "period": period,
            "period_start": start,
            "period_end": end,
            "status": "running",
            "top_pages": [],
            "last_subscriber_id": 0,
            "sent": 0,
            "skipped": 0,
            "started_at": now,
        },
        ["site_id", "period", "period_start"],
    )
    return session.scalars(
        sa.select(DigestRun).where(
            DigestRun.site_id == site.id, DigestRun.period == period, DigestRun.period_start == start
        )
    ).one()


def _take_lease(session: Session, run_id: int, now: datetime, lease_seconds: float) -> bool:
    """Lease the run unless another runner's lease is still running."""
    taken = session.execute(
        sa.update(DigestRun)
        .where(DigestRun.id == run_id, sa.or_(DigestRun.lease_until.is_(None), DigestRun.lease_until <= now))
        .values(lease_until=now + timedelta(seconds=lease_seconds))
        .returning(DigestRun.id),
        execution_options={"synchronize_session": False},
    ).first()
    return taken is not None


def _has_subscribers(session: Session, site_id: int, period: str) -> bool:
    stmt = (
        sa.select(Subscriber.id)
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscriber.site_id == site_id, Subscription.kind == "digest", Subscription.cadence == period)
        .limit(1)
    )
    return session.scalars(stmt).first() is not None


def _chunk_subscribers(session: Session, run: DigestRun, size: int) -> Sequence[sa.Row[int, str, int]]:
    """(subscriber id, e-mail, subscription id) of the next chunk's active digest subscribers."""
    return session.execute(
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


def _plan_chunk(session: Session, run: DigestRun, now: datetime, size: int) -> tuple[list[int], int | None]:
    """Write the next chunk's deliveries; their ids and the chunk's last subscriber (None: end)."""
    rows = _chunk_subscribers(session, run, size)
    if not rows:
        return [], None
    if not run.top_pages:
        # Nobody commented on the site this period: every digest would be empty, none is sent.
        return [], rows[-1][0]
    emails = {subscriber_id: email for subscriber_id, email, _ in rows}
    followed = followed_pages(session, run, list(emails))
    replies = replies_to(session, run, emails)
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
