"""Webhooks against a real local HTTP receiver: signed, one per event and endpoint through faults."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from drive import ARTICLE, post, subscribe

from engagement.core import Core, build_core
from engagement.models import Delivery, OutboxEvent, WebhookDelivery, WebhookEndpoint
from engagement.services.delivery.relay import sweep_unrelayed
from engagement.services.delivery.retention import prune_deliveries
from engagement.services.discussion.moderation import reject_comment
from engagement.services.discussion.reports import report_comment
from engagement.services.webhooks import signing
from engagement.services.webhooks.addresses import AddressGuard
from engagement.services.webhooks.client import MAX_RESPONSE_BYTES, Request, WebhookClient
from engagement.services.webhooks.deliveries import due_webhooks, retry_failed_webhooks
from engagement.services.webhooks.endpoints import add_endpoint, set_enabled
from engagement.services.webhooks.planning import delivery_key, message_id, plan_webhooks
from engagement.services.webhooks.sending import WebhookReport, WebhookSender, send_webhooks

LOOPBACK = AddressGuard(allow_private=True)  # the development switch: receivers listen on 127.0.0.1


def _settings(core: Core, **overrides: object):
    values = {
        "webhooks_allow_private": True,
        "webhook_retry_seconds": 10.0,
        "webhook_max_attempts": 3,
        "webhook_disable_after": 2,
        "delivery_lease_seconds": 1.0,
    }
    values.update(overrides)
    return core.settings.model_copy(update=values)


@pytest.fixture
def sender(core: Core) -> Iterator[WebhookSender]:
    made = WebhookSender(_settings(core), total_seconds=1.0)  # the 10 s timeout, shortened for the test
    try:
        yield made
    finally:
        made.close()


def drive(core: Core, sender: WebhookSender) -> WebhookReport:
    """One pass of the workers: relay every event, send every due webhook delivery."""
    sweep_unrelayed(core.uow(), older_than_seconds=0, window_seconds=0)
    total = WebhookReport()
    ids = due_webhooks(core.uow(), grace_seconds=0)
    if ids:
        report = send_webhooks(core.uow(), sender, ids)
        total.sent, total.failed, total.mails = report.sent, report.failed, report.mails
        total.retry_ids = report.retry_ids
    return total


def rows(core: Core) -> list[WebhookDelivery]:
    with core.engine.connect() as connection:
        return list(connection.execute(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)))  # type: ignore[arg-type]


def _readme_snippet() -> dict[str, Any]:
    """The README's verification snippet, run as a receiver would run it."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## Webhooks") :]
    code = section[section.index("```python\n") + 10 : section.index("```\n", section.index("```python"))]
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # the README's own snippet, under test
    return namespace


verify = _readme_snippet()["verify"]


def test_a_published_comment_reaches_the_endpoint_signed_with_its_public_fields(core, site, receiver, sender):
    endpoint = add_endpoint(core.uow(), LOOPBACK, "daily", receiver.url())
    post(core, author_email="jane@example.org", body="Well *said*.")

    report = drive(core, sender)

    assert report.sent == 1
    (request,) = receiver.received
    assert verify(endpoint.secret, request.headers, request.body)
    assert not verify("whsec_" + base64.b64encode(b"x" * 32).decode(), request.headers, request.body)
    assert not verify(endpoint.secret, request.headers, request.body.replace(b"Jane", b"Joan"))
    headers = request.headers
    stamp = int(headers["webhook-timestamp"])
    assert signing.verify(
        endpoint.secret, headers["webhook-id"], stamp, request.body, headers["webhook-signature"]
    )
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
    payload = json.loads(request.body)
    assert payload["type"] == "comment.published"
    data = payload["data"]
    assert data["page"] == {"url": ARTICLE, "title": "The article"}
    assert data["comment"]["author"]["name"] == "Jane"
    assert data["comment"]["url"].startswith(ARTICLE + "#engagement-comment-")
    assert "<em>said</em>" in data["comment"]["html"]
    assert b"@" not in request.body  # no address, the author's least of all
    (row,) = rows(core)
    assert (row.status, row.attempts, row.response_status) == ("sent", 1, 204)
    assert request.headers["webhook-id"] == row.message_id


def test_500s_and_429_are_retried_with_the_same_id_until_delivered_once(core, site, receiver, sender, clock):
    add_endpoint(core.uow(), LOOPBACK, "daily", receiver.url())
    receiver.answer(500)
    receiver.answer(429, **{"retry-after": "120"})
    post(core)

    first = drive(core, sender)
    assert first.retry_ids
    assert not first.sent
    (row,) = rows(core)
    assert (row.status, row.last_error) == ("pending", "HTTP 500")
    assert clock.now + timedelta(seconds=5) <= row.next_attempt_at <= clock.now + timedelta(seconds=10)
    drive(core, sender)  # not due yet: nothing leaves
    assert len(receiver.received) == 1

    clock.advance(seconds=11)
    drive(core, sender)
    (row,) = rows(core)
    assert row.next_attempt_at >= clock.now + timedelta(seconds=120)  # Retry-After honoured over the backoff
    clock.advance(seconds=121)
    drive(core, sender)

    assert list(receiver.by_id().values()) == [[500, 429, 204]]
    (row,) = rows(core)
    assert (row.status, row.attempts) == ("sent", 3)


def test_a_receiver_too_slow_or_down_is_retried_then_given_up_and_retried_by_hand(
    core, site, receiver, sender, clock
):
    add_endpoint(core.uow(), LOOPBACK, "daily", receiver.url())
    receiver.answer(204, delay=2.5)  # past the (shortened) total timeout
    post(core)
    drive(core, sender)
    (row,) = rows(core)
    assert row.status == "pending"
    assert "timed out" in row.last_error

    receiver.stop()  # the receiver is killed: connections are refused
    for _ in range(2):
        clock.advance(seconds=60)
        drive(core, sender)
    (row,) = rows(core)
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.last_error.startswith("gave up after 3 attempts")

    receiver.start()  # restarted on the same port
    assert retry_failed_webhooks(core.uow(), site="daily") == [row.id]
    drive(core, sender)
    statuses = receiver.by_id()
    assert list(statuses) == [row.message_id]
    assert statuses[row.message_id][-1] == 204
    assert [r.status for r in rows(core)] == ["sent"]


def test_a_receiver_restarted_during_retries_gets_the_event_once(core, site, receiver, sender, clock):
    add_endpoint(core.uow(), LOOPBACK, "daily", receiver.url())
    receiver.stop()
    post(core)
    drive(core, sender)
    receiver.start()
    clock.advance(seconds=11)
    drive(core, sender)
    clock.advance(seconds=60)
    drive(core, sender)
    assert [len(v) for v in receiver.by_id().values()] == [1]
    assert [(r.status, r.attempts) for r in rows(core)] == [("sent", 2)]


def test_slack_and_discord_get_their_own_unsigned_bodies(core, site, receiver, sender):
    add_endpoint(core.uow(), LOOPBACK, "daily", receiver.url("/slack"), fmt="slack")
    add_endpoint(core.uow(), LOOPBACK, "daily", receiver.url("/discord"), fmt="discord")
    posted = post(core, author_email="jane@example.org", body="Great piece.")
    drive(core, sender)

    by_path = {r.path: r for r in receiver.received}
    slack = json.loads(by_path["/slack"].body)
    discord = json.loads(by_path["/discord"].body)
    link = f"{ARTICLE}#engagement-comment-{posted.comment.id}"
    assert slack == {"text": f"New comment by Jane on “The article”: “Great piece.” {link}"}
    assert discord["content"] == slack["text"]
    assert discord["allowed_mentions"] == {"parse": []}
    for request in by_path.values():
        assert "webhook-signature" not in request.headers


def test_reports_removals_and_confirmed_subscriptions_reach_endpoints_that_asked(
    core, site, receiver, sender
):
    add_endpoint(core.uow(), LOOPBACK, "daily", receiver.url("/all"))
    add_endpoint(core.uow(), LOOPBACK, "daily", receiver.url("/removed"), events=["comment.removed"])
    posted = post(core)
    report_comment(core.uow(), posted.comment.id, "reader-1", "spam", None, "127.0.0.1")
    reject_comment(core.uow(), posted.comment.id)
    subscribe(core, "reader@example.org", page=ARTICLE)
    drive(core, sender)

    kinds = [(r.path, json.loads(r.body)["type"]) for r in receiver.received]
    assert sorted(kinds) == sorted(
        [
            ("/all", "comment.published"),
            ("/all", "comment.reported"),
            ("/all", "comment.removed"),
            ("/all", "subscription.confirmed"),
            ("/removed", "comment.removed"),
        ]
    )
    confirmed = next(json.loads(r.body) for r in receiver.received if b"subscription.confirmed" in r.body)
    assert confirmed["data"]["subscriptions"][0]["page"]["url"] == ARTICLE
    assert all(b"reader@example.org" not in r.body for r in receiver.received)


def test_an_endpoint_failing_in_a_row_is_disabled_and_its_owners_mailed_once(core, site, receiver, sender):
    endpoint = add_endpoint(core.uow(), LOOPBACK, "daily", receiver.url())
    receiver.answer(410, times=2)
    post(core)
    post(core, body="Another.")
    report = drive(core, sender)

    assert report.failed == 2
    assert len(report.mails) == 1
    with core.engine.connect() as connection:
        off = connection.execute(sa.select(WebhookEndpoint)).one()
        mails = connection.execute(sa.select(Delivery).where(Delivery.template == "webhook_disabled")).all()
    assert (off.enabled, off.disabled_reason) == (False, "2 deliveries failed in a row")
    assert [m.recipient for m in mails] == ["mod@example.org"]  # no owner yet: the site's moderators

    post(core, body="A third.")
    assert drive(core, sender).sent == 0
    assert len(rows(core)) == 2  # nothing planned for an endpoint that is off

    set_enabled(core.uow(), endpoint.id, True)
    retry_failed_webhooks(core.uow(), endpoint_id=endpoint.id)
    assert drive(core, sender).sent == 2


SEND_IN_A_CHILD = textwrap.dedent(
    """
    import sys
    from engagement.config import load_settings
    from engagement.core import build_core
    from engagement.services.webhooks.sending import WebhookSender, send_webhooks
    settings = load_settings()
    send_webhooks(build_core(settings).uow(), WebhookSender(settings), [int(i) for i in sys.argv[1:]])
    """
)


def test_a_sender_killed_mid_send_leaves_one_duplicate_with_the_same_id(core, site, receiver, tmp_path):
    settings = _settings(core)
    live = build_core(settings)  # the real clock: the child's lease is in real time
    try:
        add_endpoint(live.uow(), LOOPBACK, "daily", receiver.url())
        post(live)
        sweep_unrelayed(live.uow(), older_than_seconds=0, window_seconds=0)
        (row,) = rows(live)
        receiver.hold_next = True
        env = {
            **os.environ,
            "ENGAGEMENT_DATA_DIR": str(tmp_path),
            "ENGAGEMENT_DATABASE_URL": settings.resolved_database_url,
            "ENGAGEMENT_SECRET_KEY": settings.secret_key,
            "ENGAGEMENT_WEBHOOKS_ALLOW_PRIVATE": "true",
            "ENGAGEMENT_DELIVERY_LEASE_SECONDS": "1",
        }
        child = subprocess.Popen([sys.executable, "-c", SEND_IN_A_CHILD, str(row.id)], env=env)
        assert receiver.arrived.wait(30), "the child's request never arrived"
        child.send_signal(signal.SIGKILL)  # killed with the request on the wire, unanswered
        child.wait(10)
        receiver.release.set()
        assert [r.status for r in rows(live)] == ["sending"]

        time.sleep(1.2)  # the lease runs out: the resume sweep takes the claim over
        sender = WebhookSender(settings)
        try:
            ids = due_webhooks(live.uow(), grace_seconds=60)
            assert ids == [row.id]
            assert send_webhooks(live.uow(), sender, ids).sent == 1
        finally:
            sender.close()
        for _ in range(100):
            if len(receiver.received) == 2:
                break
            time.sleep(0.05)
        assert receiver.by_id() == {row.message_id: [204, 204]}  # one duplicate, the same webhook-id
        assert [(r.status, r.attempts) for r in rows(live)] == [("sent", 2)]
    finally:
        live.dispose()


def test_a_stopping_sender_finishes_requests_in_flight_and_hands_the_rest_back(core, site, receiver):
    for i in range(4):
        add_endpoint(core.uow(), LOOPBACK, "daily", receiver.url(f"/hook/{i}"))
    receiver.answer(204, times=4, delay=0.3)
    post(core)
    sweep_unrelayed(core.uow(), older_than_seconds=0, window_seconds=0)
    one_at_a_time = WebhookSender(_settings(core, webhook_concurrency=1), total_seconds=2.0)
    try:
        ids = due_webhooks(core.uow(), grace_seconds=0)
        report = send_webhooks(core.uow(), one_at_a_time, ids, stopping=lambda: bool(receiver.received))
    finally:
        one_at_a_time.close()

    assert report.handed_back
    assert report.sent + len(report.handed_back) == 4
    assert len(receiver.received) == report.sent  # nothing handed back had left
    back = [r for r in rows(core) if r.id in report.handed_back]
    assert {(r.status, r.attempts) for r in back} == {("pending", 0)}
    assert {r.status for r in rows(core) if r.id not in report.handed_back} == {"sent"}


def test_finished_webhook_deliveries_are_pruned_with_the_mail_retention(core, site, receiver, sender, clock):
    add_endpoint(core.uow(), LOOPBACK, "daily", receiver.url())
    post(core)
    drive(core, sender)
    receiver.stop()
    post(core, body="Later.")
    drive(core, sender)  # this one waits for a retry: never pruned
    clock.advance(days=91)

    report = prune_deliveries(core.uow(), 90)

    assert report.webhook_deliveries == 1
    assert [r.status for r in rows(core)] == ["pending"]


def test_planning_an_event_again_writes_nothing_new_and_names_the_same_rows(core, site, receiver):
    for i in range(3):
        add_endpoint(core.uow(), LOOPBACK, "daily", receiver.url(f"/hook/{i}"))
    add_endpoint(core.uow(), LOOPBACK, "daily", receiver.url("/slack"), fmt="slack")
    add_endpoint(core.uow(), LOOPBACK, "daily", receiver.url("/removed"), events=["comment.removed"])
    post(core)
    uow = core.uow()
    with uow:
        event = uow.session.scalars(
            sa.select(OutboxEvent).where(OutboxEvent.kind == "comment.published")
        ).one()
        first = plan_webhooks(uow.session, event, uow.now())
        again = plan_webhooks(uow.session, event, uow.now())
        uow.commit()

    assert len(first) == 4
    assert again == first
    planned = rows(core)
    assert sorted(r.id for r in planned) == first
    for r in planned:
        assert r.idempotency_key == delivery_key(event.id, r.endpoint_id)
        assert r.message_id == message_id(event.id, r.endpoint_id)
        assert (r.status, r.attempts, r.event_type) == ("pending", 0, "comment.published")
    bodies = {r.endpoint_id: json.loads(r.body) for r in planned}
    assert sum("text" in b for b in bodies.values()) == 1  # the slack endpoint's own body
    assert sum(b.get("type") == "comment.published" for b in bodies.values()) == 3


def test_a_fault_while_posting_is_recorded_as_a_retry_of_that_delivery(
    core, site, receiver, sender, monkeypatch
):
    add_endpoint(core.uow(), LOOPBACK, "daily", receiver.url())
    post(core)

    async def broken(request: object) -> object:
        raise ValueError("boom")

    monkeypatch.setattr(sender.client, "send", broken)
    report = drive(core, sender)

    assert (report.sent, len(report.retry_ids)) == (0, 1)
    (row,) = rows(core)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "ValueError: boom")
    assert receiver.received == []


def test_a_sender_killed_mid_fan_out_sends_each_delivery_at_most_once_more(core, site, receiver, tmp_path):
    """Answers are written in batches: those a kill leaves unwritten go again, once, with the same id."""
    settings = _settings(core)
    live = build_core(settings)  # the real clock: the child's lease is in real time
    try:
        for i in range(40):
            add_endpoint(live.uow(), LOOPBACK, "daily", receiver.url(f"/hook/{i}"))
        receiver.answer(204, times=40, delay=0.05)  # slow enough for the kill to land mid-chunk
        post(live)
        sweep_unrelayed(live.uow(), older_than_seconds=0, window_seconds=0)
        ids = [r.id for r in rows(live)]
        env = {
            **os.environ,
            "ENGAGEMENT_DATA_DIR": str(tmp_path),
            "ENGAGEMENT_DATABASE_URL": settings.resolved_database_url,
            "ENGAGEMENT_SECRET_KEY": settings.secret_key,
            "ENGAGEMENT_WEBHOOKS_ALLOW_PRIVATE": "true",
            "ENGAGEMENT_DELIVERY_LEASE_SECONDS": "1",
        }
        child = subprocess.Popen([sys.executable, "-c", SEND_IN_A_CHILD, *map(str, ids)], env=env)
        deadline = time.monotonic() + 30
        while len(receiver.received) < 12 and time.monotonic() < deadline:
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        assert 12 <= len(receiver.received) < 40, "the kill did not land mid-chunk"

        time.sleep(1.2)  # the lease runs out: the resume sweep takes the rest over
        sender = WebhookSender(settings)
        try:
            again = due_webhooks(live.uow(), grace_seconds=60)
            send_webhooks(live.uow(), sender, again)
        finally:
            sender.close()
        time.sleep(0.2)
        by_id = receiver.by_id()
        assert sorted(by_id) == sorted(r.message_id for r in rows(live))  # every delivery arrived
        assert all(len(statuses) in (1, 2) for statuses in by_id.values())  # at most once more
        assert {r.status for r in rows(live)} == {"sent"}
    finally:
        live.dispose()


def test_redirects_are_not_followed_and_long_answers_are_read_up_to_a_cap(receiver):
    client = WebhookClient(LOOPBACK, total_seconds=5.0)
    try:
        receiver.answer(302, location=receiver.url("/elsewhere"))
        moved = client.run(client.send(Request(receiver.url(), "msg_1_1", "{}", None))).result()
        receiver.answer(200, body=b"x" * (4 * MAX_RESPONSE_BYTES))
        long = client.run(client.send(Request(receiver.url(), "msg_1_2", "{}", None))).result()
        after = client.run(client.send(Request(receiver.url(), "msg_1_3", "{}", None))).result()
    finally:
        client.close()

    assert (moved.kind, moved.status) == ("failed", 302)
    assert "redirects are not followed" in (moved.error or "")
    assert (long.kind, long.status, after.kind) == ("sent", 200, "sent")
    assert [r.path for r in receiver.received] == ["/hook"] * 3  # never to /elsewhere
