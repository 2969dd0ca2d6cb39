"""The daily cap on mails to one address: past it, a mail is skipped as "rate_limited"."""

from __future__ import annotations

from drive import ARTICLE, deliver, deliveries, post, subscribe

from engagement import links
from engagement.mail.mailer import build_mailer
from engagement.services.audience.subscriptions import confirm_subscriber
from engagement.services.sites import SiteChanges, add_site, update_site

PAGES = [ARTICLE, "https://news.example.org/2026/11/second", "https://news.example.org/2026/11/third"]


def _capped(core, mailer, cap: int):
    return build_mailer(
        mailer.settings.model_copy(update={"max_mails_per_recipient_per_day": cap}), core.keys
    )


def _reasons(core, recipient: str) -> list[tuple[str, str, str | None]]:
    return [(d.template, d.status, d.reason) for d in deliveries(core, recipient=recipient)]


def test_past_the_cap_a_mail_is_skipped_and_the_operator_sees_why(core, site, mailer, sink, cli):
    capped = _capped(core, mailer, 2)
    subscribe(core, "alice@example.org", page=ARTICLE)

    for body in ("One.", "Two.", "Three."):
        post(core, author_email="jane@example.org", body=body)
        deliver(core, capped)

    assert sink.recipients() == {"alice@example.org": 2}
    assert _reasons(core, "alice@example.org") == [
        ("thread_notification", "sent", None),
        ("thread_notification", "sent", None),
        ("thread_notification", "skipped", "rate_limited"),
    ]
    listed = cli("deliveries", "list", "--status", "skipped")
    assert listed.exit_code == 0, listed.output
    (line,) = [row for row in listed.output.splitlines() if "alice@example.org" in row]
    assert "thread_notification" in line
    assert "rate_limited" in line


def test_mails_sent_more_than_a_day_ago_no_longer_count(core, site, mailer, sink, clock):
    capped = _capped(core, mailer, 2)
    subscribe(core, "alice@example.org", page=ARTICLE)
    for body in ("One.", "Two."):
        post(core, author_email="jane@example.org", body=body)
        deliver(core, capped)

    clock.advance(hours=23, minutes=59)
    post(core, author_email="jane@example.org", body="Still within the day.")
    deliver(core, capped)
    assert sink.recipients() == {"alice@example.org": 2}

    clock.advance(minutes=2)
    post(core, author_email="jane@example.org", body="A new day.")
    deliver(core, capped)

    assert sink.recipients() == {"alice@example.org": 3}
    assert [status for _, status, _ in _reasons(core, "alice@example.org")] == [
        "sent",
        "sent",
        "skipped",
        "sent",
    ]


def test_a_cap_of_zero_means_no_cap(core, site, mailer, sink):
    unlimited = _capped(core, mailer, 0)
    subscribe(core, "alice@example.org", page=ARTICLE)

    for number in range(5):
        post(core, author_email="jane@example.org", body=f"Comment {number}.")
        deliver(core, unlimited)

    assert sink.recipients() == {"alice@example.org": 5}
    assert {reason for _, _, reason in _reasons(core, "alice@example.org")} == {None}


def test_confirmations_are_never_capped_nor_counted(core, site, mailer, sink):
    capped = _capped(core, mailer, 1)
    subscriber_id = subscribe(core, "alice@example.org", page=ARTICLE, confirm=False)
    deliver(core, capped)
    confirm_subscriber(core.uow(), links.confirm_token(core.keys, subscriber_id))

    post(core, author_email="jane@example.org")
    deliver(core, capped)
    assert sink.recipients() == {"alice@example.org": 2}  # the confirmation took no place

    # At the cap, she asks another site's digest: the confirmation she waits for still leaves.
    add_site(core.uow(), "weekly", SiteChanges(name="The Weekly", origins=["https://weekly.example.org"]))
    subscribe(core, "alice@example.org", "digest", site="weekly", confirm=False)
    post(core, author_email="jane@example.org", body="Past the cap.")
    deliver(core, capped)

    assert sink.recipients() == {"alice@example.org": 3}
    assert _reasons(core, "alice@example.org") == [
        ("confirm_subscription", "sent", None),
        ("thread_notification", "sent", None),
        ("confirm_subscription", "sent", None),
        ("thread_notification", "skipped", "rate_limited"),
    ]


def test_in_one_batch_the_mails_past_the_cap_are_skipped_with_one_count_for_the_batch(
    core, site, mailer, sink, count_statements
):
    capped = _capped(core, mailer, 2)
    for page in PAGES:
        subscribe(core, "alice@example.org", page=page)
    subscribe(core, "bob@example.org", page=ARTICLE)
    for page in PAGES:
        post(core, author_email="jane@example.org", page=page)
    count_statements.statements.clear()

    report = deliver(core, capped)  # one batch: three mails for alice, one for bob

    assert (report.sent, report.skipped) == (3, 1)
    assert sink.recipients() == {"alice@example.org": 2, "bob@example.org": 1}
    assert [reason for _, _, reason in _reasons(core, "alice@example.org")] == [None, None, "rate_limited"]
    counts = [s for s in count_statements.statements if "GROUP BY deliveries.recipient" in s]
    assert len(counts) == 1


def test_a_moderator_gets_no_more_than_the_cap_in_a_wave_of_held_comments(core, site, mailer, sink):
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    capped = _capped(core, mailer, 2)

    for number in range(4):
        post(core, author_email="spammer@example.net", body=f"Buy now {number}.")
    deliver(core, capped)
    post(core, author_email="spammer@example.net", body="And again.")
    deliver(core, capped)

    assert sink.recipients() == {"mod@example.org": 2}
    assert [reason for _, _, reason in _reasons(core, "mod@example.org")] == [
        None,
        None,
        "rate_limited",
        "rate_limited",
        "rate_limited",
    ]
