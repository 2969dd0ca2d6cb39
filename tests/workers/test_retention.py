"""Retention: old finished deliveries go with their items; the rest, and every key in use, stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from drive import ARTICLE, deliveries, post, subscribe

from engagement.config import load_settings
from engagement.core import build_core
from engagement.errors import InvalidInput
from engagement.models import Delivery, NotificationItem, OutboxEvent
from engagement.services.delivery.deliveries import (
    NewDelivery,
    add_deliveries,
    claim_deliveries,
    retry_failed,
)
from engagement.services.delivery.relay import flush_notifications, sweep_unrelayed
from engagement.services.delivery.retention import PruneReport, prune_deliveries
from engagement.services.delivery.sending import send_deliveries
from workers import make_celery


def _add(core, *keys: str, status: str = "pending") -> list[int]:
    """Deliveries written now (a confirmation mail each), then put in ``status``."""
    with core.uow() as uow:
        rows = [
            NewDelivery(key, f"{key.removeprefix('confirm:')}@example.org", "confirmation", None, {})
            for key in keys
        ]
        ids = list(add_deliveries(uow.session, rows, uow.now()).values())
        uow.session.execute(sa.update(Delivery).where(Delivery.id.in_(ids)).values(status=status))
        uow.commit()
        return ids


def _set_status(core, recipient: str, status: str) -> None:
    with core.uow() as uow:
        uow.session.execute(sa.update(Delivery).where(Delivery.recipient == recipient).values(status=status))
        uow.commit()


def _send_new(core, mailer, *, window: int = 0) -> None:
    """Relay, flush and send what that produces (not the older rows still due)."""
    ids = list(sweep_unrelayed(core.uow(), older_than_seconds=0, window_seconds=window).deliveries)
    ids += flush_notifications(core.uow())
    send_deliveries(core.uow(), mailer, ids)


def _items(core) -> list[int | None]:
    with core.uow() as uow:
        return sorted(
            uow.session.scalars(sa.select(NotificationItem.delivery_id)), key=lambda d: (d is not None, d)
        )


def test_old_finished_deliveries_go_with_their_items_and_the_rest_stays(core, site, mailer, sink, clock):
    for name in ("alice", "bob", "carol"):
        subscribe(core, f"{name}@example.org", page=ARTICLE)
    post(core, author_email="jane@example.org")
    _send_new(core, mailer)
    _set_status(core, "bob@example.org", "failed")  # as a bounce does
    _set_status(core, "carol@example.org", "skipped")
    _add(core, "confirm:pending")
    sending = _add(core, "confirm:sending")
    with core.uow() as uow:
        claim_deliveries(uow.session, sending, uow.now(), lease_seconds=300)
        uow.commit()
    (retried,) = _add(core, "confirm:retried", status="failed")
    old_notifications = {d.id for d in deliveries(core, template="thread_notification")}

    clock.advance(days=35)
    retry_failed(core.uow(), [retried])  # an operator retried it lately, and it failed again
    _set_status(core, "retried@example.org", "failed")
    clock.advance(days=5)
    post(core, author_email="jane@example.org", body="Forty days later.")
    _send_new(core, mailer)
    post(core, author_email="jane@example.org", body="Still in its window.")
    _send_new(core, mailer, window=3600)

    report = prune_deliveries(core.uow(), 30)

    # Three confirmations requested and confirmed (subscription.confirmed, for webhooks) and the
    # first comment's event were relayed forty days ago.
    assert report == PruneReport(deliveries=3, notification_items=3, outbox_events=7)
    left = deliveries(core)
    assert not old_notifications & {d.id for d in left}
    assert sorted((d.idempotency_key.split(":")[0], d.status) for d in left) == [
        ("confirm", "failed"),
        ("confirm", "pending"),
        ("confirm", "sending"),
        ("notify", "sent"),
        ("notify", "sent"),
        ("notify", "sent"),
    ]
    kept = {d.id for d in left}
    items = _items(core)
    assert items[:3] == [None, None, None]  # the open window's items
    assert len(items) == 6
    assert set(items[3:]) <= kept
    assert prune_deliveries(core.uow(), 30) == PruneReport()


def test_many_rows_go_in_several_short_batches_and_no_id_comes_back(core, clock, count_statements):
    old = _add(core, *(f"confirm:reader{i}" for i in range(7)), status="sent")
    clock.advance(days=20)

    count_statements.statements.clear()
    report = prune_deliveries(core.uow(), 14, batch=3)

    assert report == PruneReport(deliveries=7, notification_items=0)
    batches = [s for s in count_statements.statements if s.startswith("DELETE FROM deliveries")]
    assert len(batches) == 3
    assert deliveries(core) == []
    # A bounce address names its delivery by id: a new row never takes a removed one's.
    (new,) = _add(core, "confirm:later")
    assert new > max(old)


def _events(core) -> list[tuple[int, bool]]:
    with core.uow() as uow:
        rows = uow.session.execute(sa.select(OutboxEvent.id, OutboxEvent.relayed_at).order_by(OutboxEvent.id))
        return [(event_id, relayed_at is not None) for event_id, relayed_at in rows]


def test_relayed_events_go_when_old_and_unrelayed_ones_stay_however_old(core, site, clock):
    post(core)
    sweep_unrelayed(core.uow(), older_than_seconds=0, window_seconds=0)
    post(core, body="Its hand-off was lost and no sweep came yet.")
    clock.advance(days=20)
    post(core, body="Recent.")
    sweep_unrelayed(core.uow(), older_than_seconds=0, window_seconds=0)
    _, (waiting, _), (recent, _) = _events(core)
    with core.uow() as uow:  # the lost one stays unrelayed
        uow.session.execute(sa.update(OutboxEvent).where(OutboxEvent.id == waiting).values(relayed_at=None))
        uow.commit()

    assert prune_deliveries(core.uow(), 14).outbox_events == 1

    assert _events(core) == [(waiting, False), (recent, True)]
    clock.advance(days=20)
    assert prune_deliveries(core.uow(), 14).outbox_events == 1  # the newest id goes
    post(core, body="Later still.")
    # Delivery keys name events by id (confirm:<id>…): a new event never takes a removed one's.
    assert max(event_id for event_id, _ in _events(core)) > recent


@pytest.mark.parametrize("days", [-1, 0, 13, 36_501, True])
def test_a_retention_that_could_forget_a_key_in_use_is_refused(core, clock, days):
    _add(core, "confirm:old", status="sent")
    clock.advance(days=400)

    with pytest.raises(InvalidInput, match="older_than"):
        prune_deliveries(core.uow(), days)

    assert len(deliveries(core)) == 1


def test_the_daily_task_prunes_by_the_setting_and_nothing_when_it_is_0(core, clock):
    _add(core, "confirm:old", status="sent")
    clock.advance(days=100)

    for days, left in ((0, 1), (90, 0)):
        own = build_core(core.settings.model_copy(update={"delivery_retention_days": days}), clock=clock)
        try:
            make_celery(own.settings, core=own).tasks["engagement.prune"]()
        finally:
            own.dispose()
        assert len(deliveries(core)) == left


def test_beat_runs_the_prune_daily_on_the_digest_queue(tmp_path):
    app = make_celery(load_settings(data_dir=tmp_path, secret_key="beat-" + "x" * 40))

    assert app.conf.beat_schedule["prune-deliveries"] == {
        "task": "engagement.prune",
        "schedule": timedelta(days=1),
    }
    assert app.tasks["engagement.prune"].queue == "digest"
