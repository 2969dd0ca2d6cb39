"""Sending faults, run in line: each ends with every mail delivered exactly once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import redis
import sqlalchemy as sa
from drive import ARTICLE, deliver, deliveries, post, subscribe

from engagement.mail.gate import LocalGate, RedisGate
from engagement.mail.mailer import build_mailer
from engagement.models import Suppression
from engagement.services.deliveries import claim_deliveries, list_deliveries, retry_failed
from engagement.services.relay import flush_notifications, sweep_unrelayed
from engagement.services.sending import send_deliveries

PEOPLE = ["alice@example.org", "bob@example.org", "carol@example.org"]


def _followers(core, mailer, sink, people=PEOPLE):
    for address in people:
        subscribe(core, address, page=ARTICLE)
    deliver(core, mailer)
    sink.handler.received.clear()


def test_a_transient_failure_is_retried_after_a_backoff_then_delivered_once(core, site, mailer, sink, clock):
    _followers(core, mailer, sink)
    sink.handler.transient["bob@example.org"] = 1

    post(core, author_email="jane@example.org")
    report = deliver(core, mailer)

    assert sink.recipients() == {"alice@example.org": 1, "carol@example.org": 1}
    (row,) = [d for d in deliveries(core, recipient="bob@example.org") if d.template == "thread_notification"]
    assert (row.status, row.reason, row.attempts) == ("pending", "retrying", 1)
    assert row.last_error.startswith("451")
    assert report.retry_ids == [row.id]
    assert clock.now + timedelta(seconds=5) <= report.retry_at <= clock.now + timedelta(seconds=10)

    deliver(core, mailer)  # not due yet: nothing happens
    assert sink.recipients()["bob@example.org"] == 0
    clock.advance(seconds=11)
    deliver(core, mailer)
    deliver(core, mailer)

    assert sink.recipients() == dict.fromkeys(PEOPLE, 1)


def test_a_permanent_refusal_suppresses_that_address_and_the_batch_goes_on(core, site, mailer, sink, clock):
    _followers(core, mailer, sink)
    sink.handler.refuse["bob@example.org"] = "550 5.1.1 No such user"

    post(core, author_email="jane@example.org")
    deliver(core, mailer)
    clock.advance(hours=1)
    deliver(core, mailer)

    assert sink.recipients() == {"alice@example.org": 1, "carol@example.org": 1}
    (row,) = [d for d in deliveries(core, recipient="bob@example.org") if d.template == "thread_notification"]
    assert (row.status, row.reason, row.attempts) == ("failed", "refused", 1)
    assert "550" in row.last_error
    with core.uow() as uow:
        suppressed = uow.session.scalars(sa.select(Suppression)).one()
    assert (suppressed.email, suppressed.reason) == ("bob@example.org", "bounced")

    post(core, author_email="jane@example.org", body="Another one.")
    deliver(core, mailer)
    assert sink.recipients() == {"alice@example.org": 2, "carol@example.org": 2}


def test_the_same_batch_sent_twice_at_once_sends_each_mail_once(core, site, mailer, sink):
    _followers(core, mailer, sink, [f"reader{i}@example.org" for i in range(30)])
    post(core, author_email="jane@example.org")
    sweep_unrelayed(core.uow(), older_than_seconds=0, window_seconds=0)
    ids = flush_notifications(core.uow())
    assert len(ids) == 30

    barrier = threading.Barrier(2)
    reports = []

    def send() -> None:
        barrier.wait()
        reports.append(send_deliveries(core.uow(), mailer, ids))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert sum(r.sent for r in reports) == 30
    assert set(sink.recipients().values()) == {1}
    assert len(sink.received) == 30


def test_a_claim_held_by_a_dead_worker_is_taken_over_once_its_lease_runs_out(core, site, mailer, sink, clock):
    _followers(core, mailer, sink, ["alice@example.org"])
    post(core, author_email="jane@example.org")
    sweep_unrelayed(core.uow(), older_than_seconds=0, window_seconds=0)
    (delivery_id,) = flush_notifications(core.uow())
    with core.uow() as uow:  # a worker claims it, then dies before sending
        claim_deliveries(uow.session, [delivery_id], uow.now(), core.settings.delivery_lease_seconds)
        uow.commit()

    assert send_deliveries(core.uow(), mailer, [delivery_id]).sent == 0
    clock.advance(seconds=core.settings.delivery_lease_seconds + 1)
    assert send_deliveries(core.uow(), mailer, [delivery_id]).sent == 1
    assert send_deliveries(core.uow(), mailer, [delivery_id]).sent == 0

    assert sink.recipients() == {"alice@example.org": 1}
    (row,) = deliveries(core, id=delivery_id)
    assert (row.status, row.attempts) == ("sent", 2)


def test_an_unreachable_server_leaves_mails_failed_and_an_operator_retries_them(core, site, sink, clock):
    settings = core.settings.model_copy(
        update={"smtp_url": "smtp://127.0.0.1:9", "delivery_max_attempts": 2, "smtp_rate_per_second": 1000.0}
    )
    down = build_mailer(settings, core.keys)
    subscribe(core, "alice@example.org", page=ARTICLE)
    post(core, author_email="jane@example.org")

    deliver(core, down)
    clock.advance(hours=1)
    deliver(core, down)

    failed = list_deliveries(core.uow(), status="failed")
    assert [(d.recipient, d.reason, d.attempts) for d in failed] == [
        ("alice@example.org", "too_many_attempts", 2)
    ]
    assert "cannot connect" in failed[0].last_error

    working = build_mailer(core.settings.model_copy(update={"smtp_url": sink.url}), core.keys)
    assert retry_failed(core.uow()) == [failed[0].id]
    deliver(core, working)

    assert sink.recipients() == {"alice@example.org": 1}
    assert list_deliveries(core.uow(), status="failed") == []


def test_the_rate_gate_spaces_mails_evenly():
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)

    gate = LocalGate(4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        gate.wait()

    assert slept == [0.25, 0.5, 0.75, 1.0]


def test_the_redis_gate_holds_the_rate_across_processes_on_one_key(redis_broker):
    url, prefix = redis_broker
    client = redis.Redis.from_url(url)
    gates = [RedisGate(client, f"{prefix}rate", rate=40.0) for _ in range(2)]  # two worker processes
    times: list[float] = []

    def send(gate: RedisGate) -> None:
        for _ in range(20):
            gate.wait()
            times.append(time.monotonic())

    threads = [threading.Thread(target=send, args=(g,)) for g in gates]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    client.close()

    times.sort()
    assert len(times) == 40
    # 40 mails at 40 per second: never more than 4 within any tenth of a second, ~1 s in all.
    assert times[-1] - times[0] >= 0.9
    assert max(sum(1 for u in times if t <= u < t + 0.1) for t in times) <= 5


def test_an_address_no_header_can_carry_is_skipped_and_the_batch_goes_on(core, site, mailer, sink):
    _followers(core, mailer, sink, ["jörg@example.de", "alice@example.org"])

    post(core, author_email="jane@example.org")
    report = deliver(core, mailer)

    assert sink.recipients() == {"alice@example.org": 1}
    assert (report.sent, report.skipped) == (1, 1)
    (row,) = [
        d for d in deliveries(core, recipient="jörg@example.de") if d.template != "confirm_subscription"
    ]
    assert (row.status, row.reason) == ("skipped", "unsendable")
