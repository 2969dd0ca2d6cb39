"""The relay: parallel relays on PostgreSQL never take the same event; a bad event stays apart."""

from __future__ import annotations

import sqlalchemy as sa
from drive import ARTICLE, post, subscribe

from engagement.models import NotificationItem, OutboxEvent
from engagement.outbox import COMMENT_PUBLISHED
from engagement.services.relay import MAX_EVENT_ATTEMPTS, relay_events, sweep_unrelayed
from engagement.services.sites import SiteChanges, add_site


def _unrelayed(core) -> list[int]:
    with core.uow() as uow:
        return list(uow.session.scalars(sa.select(OutboxEvent.id).where(OutboxEvent.relayed_at.is_(None))))


def test_an_event_another_relay_holds_is_skipped_not_relayed_twice(pg_core):
    add_site(pg_core.uow(), "daily", SiteChanges(name="The Daily Example"))
    subscribe(pg_core, "alice@example.org", page=ARTICLE)
    post(pg_core, author_email="jane@example.org")
    ids = _unrelayed(pg_core)

    with pg_core.engine.connect() as other:  # a parallel relay, in the middle of its transaction
        other.execute(sa.select(OutboxEvent.id).where(OutboxEvent.id.in_(ids)).with_for_update())
        assert relay_events(pg_core.uow(), ids, window_seconds=0).relayed == 0
        assert sweep_unrelayed(pg_core.uow(), older_than_seconds=0, window_seconds=0).relayed == 0
        other.rollback()

    assert relay_events(pg_core.uow(), ids, window_seconds=0).relayed == len(ids)
    assert relay_events(pg_core.uow(), ids, window_seconds=0).relayed == 0
    with pg_core.uow() as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(NotificationItem)) == 1


def test_a_bad_event_is_recorded_retried_and_given_up_while_the_others_go_on(core, site):
    subscribe(core, "alice@example.org", page=ARTICLE)
    with core.uow() as uow:
        uow.session.add(OutboxEvent(kind=COMMENT_PUBLISHED, payload={}, created_at=uow.now()))
        uow.commit()
    post(core, author_email="jane@example.org")

    sweep_unrelayed(core.uow(), older_than_seconds=0, window_seconds=0)

    with core.uow() as uow:
        events = uow.session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id)).all()
    broken = [e for e in events if not e.payload]
    assert [(e.attempts, e.relayed_at) for e in broken] == [(1, None)]
    assert broken[0].last_error.startswith("KeyError")
    assert all(e.relayed_at is not None for e in events if e.payload)

    for _ in range(MAX_EVENT_ATTEMPTS):
        sweep_unrelayed(core.uow(), older_than_seconds=0, window_seconds=0)
    assert _unrelayed(core) == []  # given up after its attempts, logged as an error
