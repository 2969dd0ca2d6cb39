"""At most ``ENGAGEMENT_MAX_MAILS_PER_RECIPIENT_PER_DAY`` mails to one address a day; the rest are skipped."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.orm import Session

from engagement.mail.mailer import Outgoing, Skip
from engagement.models import Delivery
from engagement.services.delivery.deliveries import SENT

log = structlog.get_logger(__name__)
RATE_LIMITED = "rate_limited"
DAY = timedelta(hours=24)


def cap_per_recipient(
    session: Session,
    deliveries: Sequence[Delivery],
    composed: list[Outgoing | Skip],
    *,
    cap: int,
    now: datetime,
    exempt: Collection[str],
) -> list[Outgoing | Skip]:
    """``composed`` (one result per delivery, in order) with the mails past each address's cap skipped.

    A reader following many busy pages, or a moderator during a spam wave, would otherwise get
    mail without end. The mails sent in the last 24 hours count, then this batch's in order;
    templates in ``exempt`` neither count nor are capped. A mail already skipped for another
    reason uses up nothing.

    The count is the database's, shared by every worker but read without a lock: workers
    sending to one address at the same time may overshoot the cap by at most the mails they
    hold in flight for it, which is cheaper than serialising every send on a lock.
    """
    if cap == 0:
        return composed
    candidates = [
        d.id
        for d, item in zip(deliveries, composed, strict=True)
        if isinstance(item, Outgoing) and d.template not in exempt
    ]
    if not candidates:
        return composed
    rows = {d.id: d for d in deliveries}
    counts = _sent_since(session, {rows[i].recipient for i in candidates}, now - DAY, exempt)
    over: set[int] = set()
    for delivery_id in candidates:
        recipient = rows[delivery_id].recipient
        if counts.get(recipient, 0) >= cap:
            over.add(delivery_id)
        else:
            # Counted before it leaves: a mail of this batch that then fails still took its place.
            counts[recipient] = counts.get(recipient, 0) + 1
    if over:
        log.info("delivery.rate_limited", delivery_ids=sorted(over), cap=cap)
    return [Skip(item.delivery_id, RATE_LIMITED) if item.delivery_id in over else item for item in composed]


def _sent_since(
    session: Session, recipients: set[str], since: datetime, exempt: Collection[str]
) -> dict[str, int]:
    """Mails sent to each of ``recipients`` since ``since``: one query, over the recipient index.

    Addresses are compared as the deliveries store them (normalised, lower-cased when planned).
    """
    stmt = (
        sa.select(Delivery.recipient, sa.func.count())
        .where(
            Delivery.recipient.in_(sorted(recipients)),
            Delivery.status == SENT,
            Delivery.sent_at >= since,
            Delivery.template.not_in(list(exempt)),
        )
        .group_by(Delivery.recipient)
    )
    return dict(session.execute(stmt).all())
