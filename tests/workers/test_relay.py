"""The relay: parallel relays on PostgreSQL never take the same event; a bad event stays apart."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from drive import ARTICLE, post, subscribe

from engagement.models import NotificationItem, OutboxEvent, Subscriber, Subscription
from engagement.outbox import COMMENT_PUBLISHED
from engagement.services.delivery.relay import (
    FIRST_RECIPIENTS,
    MAX_EVENT_ATTEMPTS,
    relay_events,
    sweep_unrelayed,
)
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


def _followers(core, n: int) -> None:
    """``n`` confirmed followers of the article, written in bulk."""
    first = subscribe(core, "follower0@example.org", page=ARTICLE)
    with core.uow() as uow:
        subscriber = uow.session.get_one(Subscriber, first)
        page_id = uow.session.scalars(sa.select(Subscription.page_id)).one()
        now = uow.now()
        rows = [
            {
                "site_id": subscriber.site_id,
                "email": f"follower{i}@example.org",
                "confirmed_at": now,
                "created_at": now,
            }
            for i in range(1, n)
        ]
        uow.session.execute(sa.insert(Subscriber), rows)
        ids = uow.session.scalars(sa.select(Subscriber.id).where(Subscriber.id != first)).all()
        follows = [
            {
                "subscriber_id": i,
                "kind": "thread",
                "target": f"page:{page_id}",
                "page_id": page_id,
                "created_at": now,
            }
            for i in ids
        ]
        uow.session.execute(sa.insert(Subscription), follows)
        uow.commit()
    sweep_unrelayed(core.uow(), older_than_seconds=0, window_seconds=0)  # the first one's confirmation


def _items(core) -> int:
    with core.uow() as uow:
        return uow.session.scalar(sa.select(sa.func.count()).select_from(NotificationItem))


def test_a_large_fan_out_hands_its_first_recipients_over_before_planning_the_rest(core, site):
    _followers(core, FIRST_RECIPIENTS + 250)
    post(core, author_email="jane@example.org")
    seen = []

    def first_recipients_planned():  # the worker flushes and sends these at this point
        seen.append((_items(core), _unrelayed(core)))

    assert (
        relay_events(
            core.uow(), _unrelayed(core), window_seconds=0, first_recipients_planned=first_recipients_planned
        ).relayed
        == 1
    )
    (event,) = {e for _, ids in seen for e in ids}
    assert seen == [(FIRST_RECIPIENTS, [event])]  # committed, the event still unrelayed
    assert _items(core) == FIRST_RECIPIENTS + 250
    assert _unrelayed(core) == []


def test_a_relay_stopped_after_the_first_recipients_is_relayed_again_without_a_double(core, site):
    _followers(core, FIRST_RECIPIENTS + 20)
    post(core, author_email="jane@example.org")

    def killed():
        raise RuntimeError("worker lost")

    with pytest.raises(RuntimeError):
        relay_events(core.uow(), _unrelayed(core), window_seconds=0, first_recipients_planned=killed)
    assert _items(core) == FIRST_RECIPIENTS
    assert len(_unrelayed(core)) == 1
    assert sweep_unrelayed(core.uow(), older_than_seconds=0, window_seconds=0).relayed == 1
    assert _items(core) == FIRST_RECIPIENTS + 20  # one item per follower, the first ones not twice
    with core.uow() as uow:
        per_follower = uow.session.execute(
            sa.select(NotificationItem.subscriber_id, sa.func.count()).group_by(
                NotificationItem.subscriber_id
            )
        ).all()
    assert {n for _, n in per_follower} == {1}


@pytest.mark.parametrize(("followers", "window"), [(3, 0), (FIRST_RECIPIENTS + 5, 600)])
def test_small_fan_outs_and_windows_not_yet_due_are_planned_in_one_go(core, site, followers, window):
    calls = []
    _followers(core, followers)
    post(core, author_email="jane@example.org")
    relayed = relay_events(
        core.uow(), _unrelayed(core), window_seconds=window, first_recipients_planned=lambda: calls.append(1)
    )
    assert relayed.relayed == 1
    assert calls == []
    assert _items(core) == followers
