"""An address as the admin looks it up: everything held about it, and suppressing its mail by hand."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from engagement import validation as check
from engagement.errors import Conflict
from engagement.models import Suppression
from engagement.services.audience.privacy import export_address
from engagement.services.delivery.deliveries import suppress
from engagement.uow import UnitOfWork

BY_HAND = "manual"


def look_up_address(uow: UnitOfWork, email: str) -> dict[str, Any]:
    """Subscriptions, digests, supporter state, suppression and every mail sent to the address."""
    return export_address(uow, email)


def suppress_address(uow: UnitOfWork, email: str) -> None:
    """Never mail the address again until it is unsuppressed; suppressing twice changes nothing."""
    address = check.email("email", email)
    with uow:
        suppress(uow.session, address, reason=BY_HAND, detail="suppressed from the admin", now=uow.now())
        uow.commit()


def unsuppress_address(uow: UnitOfWork, email: str) -> None:
    """Mail the address again (after a bounce was fixed, say); Conflict when it was not suppressed."""
    address = check.email("email", email)
    with uow:
        gone = uow.session.execute(sa.delete(Suppression).where(Suppression.email == address))
        if not gone.rowcount:  # type: ignore[attr-defined]
            raise Conflict(f"{address} is not suppressed")
        uow.commit()
