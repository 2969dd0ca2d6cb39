"""Imported wishes to be told of follow-ups: subscribers and subscriptions, written in bulk."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engagement import validation as check
from engagement.db import dialect_insert
from engagement.errors import InvalidInput
from engagement.models import Subscriber, Subscription
from engagement.services.audience.supporter_flags import is_supporter
from engagement.services.operations.imports.records import ImportSummary

_CHUNK = 500
_SUBSCRIBERS: sa.Table = Subscriber.__table__  # type: ignore[assignment]
_SUBSCRIPTIONS: sa.Table = Subscription.__table__  # type: ignore[assignment]


def checked_email(value: str) -> str | None:
    try:
        return check.email("email", value)
    except InvalidInput:
        return None


def subscribe_all(
    conn: Connection,
    site_id: int,
    wishes: Sequence[tuple[str, str, int | None, int | None, bool]],
    summary: ImportSummary,
    now: datetime,
) -> None:
    """(address, kind, page id, comment id, confirmed) each become a subscription, idempotently.

    An address confirmed here is confirmed for the site: the publisher vouches for the list.
    No confirmation mail is asked for: an import writes no outbox event.
    """
    addresses = sorted({wish[0] for wish in wishes})
    confirmed = sorted({wish[0] for wish in wishes if wish[4]})
    _add_subscribers(conn, site_id, addresses, now)
    for start in range(0, len(confirmed), _CHUNK):
        conn.execute(
            sa.update(Subscriber)
            .where(
                Subscriber.site_id == site_id,
                Subscriber.email.in_(confirmed[start : start + _CHUNK]),
                Subscriber.confirmed_at.is_(None),
            )
            .values(confirmed_at=now)
        )
    ids = _subscriber_ids(conn, site_id, addresses)
    rows = []
    for email, kind, page_id, comment_id, _confirmed in wishes:
        target = f"page:{page_id}" if kind == "thread" else f"comment:{comment_id}"
        rows.append(
            {
                "subscriber_id": ids[email],
                "kind": kind,
                "target": target,
                "page_id": page_id if kind == "thread" else None,
                "comment_id": comment_id if kind == "replies" else None,
                "cadence": None,
                "created_at": now,
            }
        )
    before = _count(conn, ids.values())
    if rows:
        insert = dialect_insert(conn, _SUBSCRIPTIONS).on_conflict_do_nothing(
            index_elements=["subscriber_id", "kind", "target"]
        )
        conn.execute(insert, rows)
    added = _count(conn, ids.values()) - before
    summary.add("subscriptions", added)
    if len(rows) > added:
        summary.seen_before("subscriptions", len(rows) - added)


def _add_subscribers(conn: Connection, site_id: int, addresses: list[str], now: datetime) -> None:
    if not addresses:
        return
    insert = dialect_insert(conn, _SUBSCRIBERS).on_conflict_do_nothing(index_elements=["site_id", "email"])
    conn.execute(
        insert,
        [{"site_id": site_id, "email": email, "created_at": now, "supporter": False} for email in addresses],
    )
    for start in range(0, len(addresses), _CHUNK):
        conn.execute(
            sa.update(Subscriber)
            .where(Subscriber.site_id == site_id, Subscriber.email.in_(addresses[start : start + _CHUNK]))
            .values(supporter=is_supporter(Subscriber.site_id, Subscriber.email))
        )


def _subscriber_ids(conn: Connection, site_id: int, addresses: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(addresses), _CHUNK):
        stmt = sa.select(Subscriber.email, Subscriber.id).where(
            Subscriber.site_id == site_id, Subscriber.email.in_(addresses[start : start + _CHUNK])
        )
        found.update(dict(conn.execute(stmt).all()))
    return found


def _count(conn: Connection, subscriber_ids: Iterable[int]) -> int:
    ids = sorted(subscriber_ids)
    total = 0
    for start in range(0, len(ids), _CHUNK):
        stmt = sa.select(sa.func.count()).where(Subscription.subscriber_id.in_(ids[start : start + _CHUNK]))
        total += conn.execute(stmt).scalar_one()
    return total
