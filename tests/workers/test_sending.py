"""Sending faults, run in line: each ends with every mail delivered exactly once."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from datetime import timedelta

import redis
import sqlalchemy as sa
from drive import ARTICLE, deliver, deliveries, post, subscribe

from engagement.mail.gate import LocalGate, RedisGate
from engagement.mail.mailer import build_mailer
from engagement.mail.transport import NO_SMTPUTF8
from engagement.models import Subscriber, Suppression
from engagement.services.delivery.deliveries import (
    claim_deliveries,
    due_deliveries,
    list_deliveries,
    retry_failed,
)
from engagement.services.delivery.relay import flush_notifications, sweep_unrelayed
from engagement.services.delivery.sending import send_deliveries
from engagement.web.mailbox import list_mails

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


def test_the_resume_sweep_takes_an_expired_claim_at_once_and_a_pending_row_after_its_grace(
    core, site, mailer, sink, clock
):
    _followers(core, mailer, sink, ["alice@example.org", "bob@example.org"])
    post(core, author_email="jane@example.org")
    sweep_unrelayed(core.uow(), older_than_seconds=0, window_seconds=0)
    claimed, pending = flush_notifications(core.uow())
    lease = core.settings.delivery_lease_seconds
    with core.uow() as uow:  # a worker claims one, then dies
        claim_deliveries(uow.session, [claimed], uow.now(), lease)
        uow.commit()

    assert due_deliveries(core.uow(), grace_seconds=lease * 2) == []
    clock.advance(seconds=lease + 1)
    # The lease was the dead worker's grace; the pending row's task may still be queued.
    assert due_deliveries(core.uow(), grace_seconds=lease * 2) == [claimed]
    clock.advance(seconds=lease)
    assert sorted(due_deliveries(core.uow(), grace_seconds=lease * 2)) == sorted([claimed, pending])


def test_a_stopping_sender_finishes_the_mail_on_the_wire_and_hands_the_rest_back(core, site, mailer, sink):
    people = [f"reader{i}@example.org" for i in range(6)]
    _followers(core, mailer, sink, people)
    post(core, author_email="jane@example.org")
    sweep_unrelayed(core.uow(), older_than_seconds=0, window_seconds=0)
    ids = sorted(flush_notifications(core.uow()))

    def stop_after_two() -> bool:  # as a SIGTERM arriving while the third mail is next
        return len(sink.received) >= 2

    report = send_deliveries(core.uow(), mailer, ids, stopping=stop_after_two)

    assert report.sent == 2
    assert sorted(report.handed_back) == sorted(ids[2:])
    rows = {d.id: d for d in deliveries(core)}
    # Given back due at once, the attempt that never happened not counted.
    assert [(rows[i].status, rows[i].attempts) for i in report.handed_back] == [("pending", 0)] * 4
    assert send_deliveries(core.uow(), mailer, report.handed_back).sent == 4
    assert sink.recipients() == dict.fromkeys(people, 1)


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


def test_an_international_domain_gets_its_mail_at_the_idna_form_of_the_domain(core, site, mailer, sink):
    sink.offer_smtputf8(False)  # the IDNA form needs nothing of the server
    _followers(core, mailer, sink, ["user@bücher.example", "alice@example.org"])

    post(core, author_email="jane@example.org")
    report = deliver(core, mailer)

    assert (report.sent, report.skipped, report.failed) == (2, 0, 0)
    assert sink.recipients() == {"user@xn--bcher-kva.example": 1, "alice@example.org": 1}
    (mail,) = [r for r in sink.received if "user@xn--bcher-kva.example" in r.recipients]
    assert mail.data.isascii()
    assert mail.mail_options == []
    assert mail.message["To"] == "user@xn--bcher-kva.example"
    (row,) = [
        d for d in deliveries(core, recipient="user@bücher.example") if d.template != "confirm_subscription"
    ]
    assert row.status == "sent"


def test_a_utf8_local_part_is_sent_with_smtputf8_and_ascii_mail_stays_ascii(core, site, mailer, sink):
    _followers(core, mailer, sink, ["jörg@bücher.example", "alice@example.org"])

    post(core, author_email="jane@example.org")
    deliver(core, mailer)

    assert sink.recipients() == {"jörg@xn--bcher-kva.example": 1, "alice@example.org": 1}
    (utf8,) = [r for r in sink.received if "jörg@xn--bcher-kva.example" in r.recipients]
    (ascii_,) = [r for r in sink.received if "alice@example.org" in r.recipients]
    assert set(utf8.mail_options) == {"SMTPUTF8", "BODY=8BITMIME"}
    assert ascii_.mail_options == []
    assert ascii_.data.isascii()
    # Only the To: line is UTF-8; every other line (headers and bodies) stays ASCII.
    lines = utf8.data.split(b"\r\n")
    assert [line for line in lines if not line.isascii()] == ["To: jörg@xn--bcher-kva.example".encode()]
    for policy in (email.policy.SMTPUTF8, email.policy.default):
        message = email.message_from_bytes(utf8.data, policy=policy)
        assert message["To"] == "jörg@xn--bcher-kva.example"
        assert message["Subject"] == ascii_.message["Subject"]
    # The stdlib's bytes parser keeps an 8-bit address part undecoded; a UTF-8 reader sees it whole.
    (to,) = email.message_from_string(utf8.data.decode(), policy=email.policy.SMTPUTF8)["To"].addresses
    assert (to.username, to.domain) == ("jörg", "xn--bcher-kva.example")


def test_a_utf8_local_part_fails_without_smtputf8_unsuppressed_and_an_operator_retries_it(
    core, site, mailer, sink
):
    _followers(core, mailer, sink, ["jörg@example.de", "alice@example.org", "user@bücher.example"])
    sink.offer_smtputf8(False)

    post(core, author_email="jane@example.org")
    report = deliver(core, mailer)

    assert (report.sent, report.failed, report.retry_ids) == (2, 1, [])
    assert sink.recipients() == {"alice@example.org": 1, "user@xn--bcher-kva.example": 1}
    (row,) = [
        d for d in deliveries(core, recipient="jörg@example.de") if d.template != "confirm_subscription"
    ]
    assert (row.status, row.reason, row.attempts) == ("failed", "rejected", 1)
    assert row.last_error == NO_SMTPUTF8
    with core.uow() as uow:
        assert uow.session.scalars(sa.select(Suppression)).all() == []

    sink.offer_smtputf8(True)  # the operator switched to a relay that offers it
    assert retry_failed(core.uow(), [row.id]) == [row.id]
    deliver(core, mailer)

    assert sink.recipients()["jörg@example.de"] == 1
    assert deliveries(core, id=row.id)[0].status == "sent"


def test_the_mail_folder_keeps_a_utf8_mail_as_it_is(core, site, tmp_path):
    folder = tmp_path / "mail-folder"
    to_folder = build_mailer(core.settings.model_copy(update={"smtp_url": f"file://{folder}"}), core.keys)
    subscribe(core, "jörg@bücher.example", page=ARTICLE)
    deliver(core, to_folder)
    for old in folder.glob("*.eml"):  # the confirmation request
        old.unlink()

    post(core, author_email="jane@example.org")
    deliver(core, to_folder)

    (written,) = folder.glob("*.eml")
    assert "To: jörg@xn--bcher-kva.example\r\n".encode() in written.read_bytes()
    (listed,) = list_mails(folder)  # the demo's mailbox
    assert listed.recipient == "jörg@xn--bcher-kva.example"


def test_an_address_stored_unchecked_that_no_header_can_carry_is_skipped_and_the_batch_goes_on(
    core, site, mailer, sink
):
    # Every address the services store is checked; one written around them (an import) may not be.
    _followers(core, mailer, sink, ["bob@example.org", "alice@example.org"])
    with core.uow() as uow:
        uow.session.execute(
            sa.update(Subscriber)
            .where(Subscriber.email == "bob@example.org")
            .values(email="bob <x>@example.org")
        )
        uow.commit()

    post(core, author_email="jane@example.org")
    report = deliver(core, mailer)

    assert sink.recipients() == {"alice@example.org": 1}
    assert (report.sent, report.skipped) == (1, 1)
    (row,) = deliveries(core, recipient="bob <x>@example.org")
    assert (row.status, row.reason) == ("skipped", "unsendable")
