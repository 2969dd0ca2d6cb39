"""Ingest bounces: hard failures suppress their address and mark the delivery they name."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from engagement.mail.bounces import Bounce, bounces_in, read_mailbox
from engagement.mail.mailer import bounce_signature
from engagement.models import Delivery
from engagement.services.delivery.deliveries import FAILED, suppress
from engagement.uow import UnitOfWork


@dataclass
class IngestReport:
    messages: int = 0
    reports: int = 0
    suppressed: list[str] = field(default_factory=list)


def ingest_bounces(uow: UnitOfWork, path: Path, *, secret_key: str) -> IngestReport:
    """Read every DSN in ``path`` (mbox or maildir); suppress each address that failed for good.

    A bounce returned to a VERP address names its delivery (its signature is checked, so a
    forged bounce cannot pick one); the delivery is marked failed with the report's status.
    Soft reports (delayed, 4.x.x) change nothing. Ingesting a file twice is harmless.
    """
    report = IngestReport()
    with uow:
        for message in read_mailbox(path):
            report.messages += 1
            for bounce in bounces_in(message):
                report.reports += 1
                if bounce.permanent:
                    address = _suppress(uow, bounce, secret_key)
                    if address is not None and address not in report.suppressed:
                        report.suppressed.append(address)
        uow.commit()
    return report


def _suppress(uow: UnitOfWork, bounce: Bounce, secret_key: str) -> str | None:
    delivery = _delivery(uow, bounce, secret_key)
    address = bounce.recipient or (delivery.recipient if delivery else None)
    if address is None:
        return None
    detail = " ".join(filter(None, [bounce.status, bounce.diagnostic]))
    suppress(uow.session, address, reason="bounced", detail=detail, now=uow.now())
    if delivery is not None:
        uow.session.execute(
            sa.update(Delivery)
            .where(Delivery.id == delivery.id)
            .values(status=FAILED, reason="bounced", last_error=detail[:2000])
        )
    return address


def _delivery(uow: UnitOfWork, bounce: Bounce, secret_key: str) -> Delivery | None:
    if bounce.verp is None:
        return None
    delivery_id, signature = bounce.verp
    if not hmac.compare_digest(signature, bounce_signature(secret_key, delivery_id)):
        return None
    return uow.session.get(Delivery, delivery_id)
