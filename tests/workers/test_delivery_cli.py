"""The delivery commands: deliveries list/retry/prune, bounces ingest (mbox and maildir), digest send."""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from drive import ARTICLE, deliver, deliveries, post, subscribe

from engagement.mail.mailer import build_mailer
from engagement.models import Comment, Site, Suppression
from engagement.services.delivery.digests import period_bounds


def test_failed_deliveries_are_listed_and_retried_by_the_operator(core, site, cli, sink, clock):
    down = build_mailer(
        core.settings.model_copy(update={"smtp_url": "smtp://127.0.0.1:9", "delivery_max_attempts": 1}),
        core.keys,
    )
    subscribe(core, "alice@example.org", page=ARTICLE)
    post(core, author_email="jane@example.org")
    deliver(core, down)

    listed = cli("deliveries", "list", "--status", "failed")
    assert listed.exit_code == 0, listed.output
    assert "alice@example.org" in listed.output
    assert "too_many_attempts" in listed.output

    retried = cli("deliveries", "retry")
    assert retried.exit_code == 0, retried.output
    assert "1 deliveries queued again" in retried.output
    assert cli("deliveries", "list", "--status", "failed").output.strip() == "no failed deliveries"
    # The folder broker holds the send task; run what a worker would, at the CLI's (real) time.
    clock.now = datetime.now(UTC)
    deliver(core, build_mailer(core.settings.model_copy(update={"smtp_url": sink.url}), core.keys))
    assert sink.recipients() == {"alice@example.org": 1}


def test_an_operator_sees_why_one_address_got_no_mail(core, site, cli, sink, mailer):
    subscribe(core, "alice@example.org", page=ARTICLE)
    subscribe(core, "bob@example.org", page=ARTICLE)
    sink.handler.refuse["bob@example.org"] = "550 5.1.1 No such user"
    post(core, author_email="jane@example.org")
    deliver(core, mailer)

    bob = cli("deliveries", "list", "--recipient", " Bob@Example.ORG ")
    assert bob.exit_code == 0, bob.output
    assert "bob@example.org is suppressed since" in bob.output
    assert "(bounced: 550 5.1.1 No such user)" in bob.output
    assert "refused" in bob.output
    assert "alice@example.org" not in bob.output

    alice = cli("deliveries", "list", "--recipient", "alice@example.org", "--status", "sent")
    assert "suppressed" not in alice.output
    assert "thread_notification" in alice.output
    none = cli("deliveries", "list", "--recipient", "alice@example.org", "--status", "failed")
    assert none.output.strip() == "no failed deliveries to alice@example.org"

    bad = cli("deliveries", "list", "--recipient", "not an address")
    assert bad.exit_code == 2
    assert "recipient:" in bad.stderr


def test_deliveries_prune_removes_old_finished_ones_and_refuses_a_bad_age(core, site, cli, mailer, clock):
    clock.now = datetime.now(UTC) - timedelta(days=40)  # the CLI reads the real clock
    subscribe(core, "alice@example.org", page=ARTICLE)
    post(core, author_email="jane@example.org")
    deliver(core, mailer)
    assert [d.status for d in deliveries(core)] == ["sent"]

    for bad in ("-1", "7"):
        refused = cli("deliveries", "prune", "--older-than", bad)
        assert refused.exit_code == 2
        assert "older_than: must be a whole number from 14 to 36500" in refused.stderr
    kept = cli("deliveries", "prune", ENGAGEMENT_DELIVERY_RETENTION_DAYS="0")
    assert kept.exit_code == 0, kept.output
    assert "deliveries are kept" in kept.output
    assert cli("deliveries", "prune").output.strip() == (
        "0 deliveries, 0 notification items and 0 relayed outbox events older than 90 days removed"
    )
    assert len(deliveries(core)) == 1

    pruned = cli("deliveries", "prune", "--older-than", "30")

    assert pruned.exit_code == 0, pruned.output
    assert pruned.output.strip() == (
        "1 deliveries, 1 notification items and 3 relayed outbox events older than 30 days removed"
    )
    assert deliveries(core) == []
    again = cli("deliveries", "prune", ENGAGEMENT_DELIVERY_RETENTION_DAYS="30")
    assert again.output.strip() == (
        "0 deliveries, 0 notification items and 0 relayed outbox events older than 30 days removed"
    )


def _dsn(recipient: str, status: str, action: str = "failed", to: str = "news@example.org") -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.net\r\n"
        f"To: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n'
        "\r\n"
        "--b1\r\nContent-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        "\r\n--b1\r\nContent-Type: text/rfc822-headers\r\n\r\nSubject: x\r\n"
        "--b1--\r\n"
    ).encode()


def _suppressed(core) -> list[str]:
    with core.uow() as uow:
        return sorted(uow.session.scalars(sa.select(Suppression.email)))


@pytest.mark.parametrize("kind", ["mbox", "maildir"])
def test_bounces_in_a_mbox_or_maildir_suppress_their_addresses(core, site, cli, tmp_path, kind):
    path = tmp_path / f"bounces.{kind}"
    box = mailbox.mbox(str(path)) if kind == "mbox" else mailbox.Maildir(str(path), create=True)
    box.add(_dsn("Gone@Example.org", "5.1.1"))
    box.add(_dsn("later@example.org", "4.4.7", action="delayed"))  # soft: nothing happens
    box.add(b"From: friend@example.org\r\nSubject: hello\r\n\r\nnot a bounce\r\n")
    box.flush()
    box.close()

    result = cli("bounces", "ingest", str(path))

    assert result.exit_code == 0, result.output
    assert "3 messages read, 2 delivery reports, 1 addresses suppressed" in result.output
    assert _suppressed(core) == ["gone@example.org"]
    assert cli("bounces", "ingest", str(path)).exit_code == 0  # twice is harmless
    assert _suppressed(core) == ["gone@example.org"]


def test_a_bounce_to_a_verp_address_fails_its_delivery_and_a_forged_one_does_not(
    core, site, sink, cli, tmp_path
):
    verp = build_mailer(
        core.settings.model_copy(update={"smtp_url": sink.url, "bounce_domain": "b.example.org"}), core.keys
    )
    subscribe(core, "alice@example.org", page=ARTICLE)
    post(core, author_email="jane@example.org")
    deliver(core, verp)
    (received,) = sink.received
    (row,) = [d for d in deliveries(core) if d.template == "thread_notification"]
    assert received.sender == verp.bounce_address(row.id)
    assert received.message["Return-Path"] == f"<{received.sender}>"

    box = mailbox.mbox(str(tmp_path / "b.mbox"))
    box.add(_dsn("alice@example.org", "5.2.1", to=received.sender))
    box.add(_dsn("alice@example.org", "5.2.1", to=f"bounces+{row.id}-000000000000@b.example.org"))
    box.close()
    assert cli("bounces", "ingest", str(tmp_path / "b.mbox")).exit_code == 0

    (row,) = [d for d in deliveries(core) if d.template == "thread_notification"]
    assert (row.status, row.reason) == ("failed", "bounced")
    assert "5.2.1" in row.last_error
    assert _suppressed(core) == ["alice@example.org"]


def test_digest_send_runs_a_digest_now_and_only_once(core, site, cli, sink, clock):
    clock.now = datetime(2026, 11, 25, 6, tzinfo=UTC)
    subscribe(core, "alice@example.org", "digest", cadence="weekly")
    post(core, author_email="jane@example.org")
    deliver(core, build_mailer(core.settings.model_copy(update={"smtp_url": sink.url}), core.keys))
    sink.handler.received.clear()
    # The CLI reads the real clock: the comment moves into its latest weekly period.
    with core.uow() as uow:
        start, end = period_bounds(uow.session.get_one(Site, site.id), "weekly", datetime.now(UTC))
        for comment in uow.session.scalars(sa.select(Comment)):
            comment.published_at = start + (end - start) / 2
        uow.commit()

    first = cli("digest", "send", "--site", "daily", "--period", "weekly")
    second = cli("digest", "send", "--site", "daily", "--period", "weekly")

    assert first.exit_code == 0, first.output
    assert "weekly digest of daily: 1 sent" in first.output
    assert "0 sent" in second.output
    assert sink.recipients() == {"alice@example.org": 1}
    assert cli("digest", "send", "--site", "nope", "--period", "weekly").exit_code == 3
