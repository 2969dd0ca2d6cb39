"""What an operator watches, read in a few cheap statements: outbox backlog, moderation queue, digests."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from engagement.models import Comment, DigestRun, Page, Site
from engagement.outbox import unrelayed_backlog
from engagement.uow import UnitOfWork


@dataclass(frozen=True)
class Gauges:
    outbox_pending: int = 0
    outbox_lag_seconds: float = 0.0  # the age of the oldest event not relayed yet; 0 when none
    moderation_pending: dict[str, int] = field(default_factory=dict)  # site key -> comments
    digest_run_sent: dict[tuple[str, str], int] = field(default_factory=dict)  # (site, period) -> mails


def read_gauges(uow: UnitOfWork) -> Gauges:
    """The gauges now; each statement uses an index (unrelayed events, comments by status)."""
    with uow:
        session = uow.session
        backlog = unrelayed_backlog(session)
        held = dict.fromkeys(session.scalars(sa.select(Site.key)), 0)
        counts = session.execute(
            sa.select(Site.key, sa.func.count())
            .select_from(Comment)
            .join(Page, Page.id == Comment.page_id)
            .join(Site, Site.id == Page.site_id)
            .where(Comment.status == "pending")
            .group_by(Site.key)
        )
        held.update({key: count for key, count in counts})  # noqa: C416 -- rows, not pairs, to mypy
        latest = (
            sa.select(DigestRun.site_id, DigestRun.period, sa.func.max(DigestRun.period_start).label("start"))
            .group_by(DigestRun.site_id, DigestRun.period)
            .subquery()
        )
        runs = session.execute(
            sa.select(Site.key, DigestRun.period, DigestRun.sent)
            .join(Site, Site.id == DigestRun.site_id)
            .join(
                latest,
                sa.and_(
                    latest.c.site_id == DigestRun.site_id,
                    latest.c.period == DigestRun.period,
                    latest.c.start == DigestRun.period_start,
                ),
            )
        )
        return Gauges(
            outbox_pending=backlog.pending,
            outbox_lag_seconds=backlog.lag_seconds(uow.now()),
            moderation_pending=held,
            digest_run_sent={(key, period): sent for key, period, sent in runs},
        )
