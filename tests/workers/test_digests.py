"""Digests: periods in the site's time zone, content per subscriber, once per period whatever happens."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from drive import ARTICLE, deliver, deliveries, post, reply, subscribe

from engagement.models import Site
from engagement.services.audience.supporters import import_patreon_csv, set_supporter
from engagement.services.delivery.digests import due_digests, period_bounds, send_digest
from engagement.services.delivery.sending import chunk_sender, send_deliveries
from engagement.services.sites import SiteChanges, update_site

OTHER = "https://news.example.org/2026/11/another-story"


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "hour", "weekday", "now", "period", "expected"),
    [
        ("UTC", 8, 0, _at(2026, 11, 2, 9), "daily", (_at(2026, 11, 1, 8), _at(2026, 11, 2, 8))),
        ("UTC", 8, 0, _at(2026, 11, 2, 7), "daily", (_at(2026, 10, 31, 8), _at(2026, 11, 1, 8))),
        ("UTC", 8, 0, _at(2026, 11, 2, 9), "weekly", (_at(2026, 10, 26, 8), _at(2026, 11, 2, 8))),
        ("UTC", 8, 4, _at(2026, 11, 2, 9), "weekly", (_at(2026, 10, 23, 8), _at(2026, 10, 30, 8))),
        # New York left daylight saving time on 1 November 2026: that period lasts 25 hours.
        (
            "America/New_York",
            7,
            0,
            _at(2026, 11, 1, 13),
            "daily",
            (_at(2026, 10, 31, 11), _at(2026, 11, 1, 12)),
        ),
    ],
)
def test_periods_end_at_the_sites_digest_time_in_its_time_zone(tz, hour, weekday, now, period, expected):
    site = Site(key="s", name="S", timezone=tz, digest_hour=hour, digest_weekday=weekday)
    assert period_bounds(site, period, now) == expected


@pytest.fixture
def readers(core, site, mailer, sink, clock):
    """Digest subscribers, then a day of comments on the site; the clock ends after 08:00 next day."""
    clock.now = _at(2026, 11, 1, 6)
    subscribe(core, "alice@example.org", "digest", cadence="daily")
    subscribe(core, "alice@example.org", page=ARTICLE)
    subscribe(core, "bob@example.org", "digest", cadence="daily")
    set_supporter(core.uow(), "daily", "bob@example.org", True)
    subscribe(core, "carol@example.org", "digest", cadence="weekly")
    subscribe(core, "dave@example.org", "digest", cadence="daily", confirm=False)
    clock.now = _at(2026, 11, 1, 12)
    mine = post(core, author_email="alice@example.org", author_name="Alice", body="Alice's view.")
    reply(core, mine, author_email="erin@example.org", author_name="Erin", body="Erin answers Alice.")
    post(core, page=OTHER, page_title="Another story", body="Elsewhere.", author_email="x@example.org")
    post(core, page=OTHER, page_title="Another story", body="Elsewhere too.", author_email="y@example.org")
    post(core, page=OTHER, page_title="Another story", body="And again.", author_email="z@example.org")
    deliver(core, mailer)
    sink.handler.received.clear()
    clock.now = _at(2026, 11, 2, 9)


def _run(core, mailer, period="daily", **options):
    return send_digest(core.uow(), "daily", period, chunk_sender(core.uow, mailer), **options)


def test_each_daily_subscriber_gets_their_digest_with_the_support_call(core, mailer, sink, readers):
    report = _run(core, mailer)

    assert (report.sent, report.done) == (2, True)
    assert sink.recipients() == {"alice@example.org": 1, "bob@example.org": 1}
    (alice,) = sink.to("alice@example.org")
    text = alice.get_body(("plain",)).get_content()
    assert alice["Precedence"] == "bulk"
    assert alice["Subject"] == "Today on The Daily Example: 1 reply to you"
    assert "Erin answers Alice." in text
    assert re.search(re.escape(ARTICLE) + r"#engagement-comment-\d+\s", text)  # as the widget opens it
    assert text.index("REPLIES TO YOU") < text.index("ON PAGES YOU FOLLOW") < text.index("MOST DISCUSSED")
    assert "“The article”: 2 new comments" in text
    assert text.index("“Another story” (3 comments)") < text.index("“The article” (2 comments)")
    assert "Help us grow. Support The Daily Example on Patreon!" in text
    assert alice["List-Unsubscribe"] is not None
    (bob,) = sink.to("bob@example.org")
    bob_text = bob.get_body(("plain",)).get_content()
    assert "Thank you for supporting The Daily Example!" in bob_text
    assert "Patreon" not in bob_text
    assert "Patreon" not in bob.get_body(("html",)).get_content()


def test_a_patreon_supporter_is_thanked_in_the_sites_words(core, mailer, sink, readers, tmp_path):
    members = tmp_path / "members.csv"
    members.write_text("Name,Email,Patron Status,Tier\nAlice,Alice@Example.org,Active patron,Gold\n")
    import_patreon_csv(core.uow(), "daily", members)
    update_site(core.uow(), "daily", SiteChanges(supporter_thanks="You keep the lights on. Thank you!"))

    _run(core, mailer)

    (alice,) = sink.to("alice@example.org")
    for part in ("plain", "html"):
        content = alice.get_body((part,)).get_content()
        assert "You keep the lights on. Thank you!" in content
        assert "Patreon" not in content


def test_beat_firing_twice_sends_each_digest_once(core, mailer, sink, readers):
    assert ("daily", "daily") in due_digests(core.uow())

    first, second = _run(core, mailer), _run(core, mailer)

    assert (first.sent, second.sent, second.done) == (2, 0, True)
    assert set(sink.recipients().values()) == {1}
    assert ("daily", "daily") not in due_digests(core.uow())


def test_a_run_that_dies_half_way_is_resumed_and_nobody_gets_two(core, mailer, sink, readers, clock):
    for i in range(7):
        subscribe(core, f"reader{i}@example.org", "digest", cadence="daily")
    send = chunk_sender(core.uow, mailer)
    calls = []

    def dies_in_the_second_chunk(ids):
        calls.append(ids)
        if len(calls) == 2:
            send(ids[:1])  # one mail of the chunk leaves, then the process is gone
            raise KeyboardInterrupt
        return send(ids)

    with pytest.raises(KeyboardInterrupt):
        send_digest(core.uow(), "daily", "daily", dies_in_the_second_chunk, chunk_size=3)
    assert len(sink.received) == 4

    assert _run(core, mailer, chunk_size=3).busy  # the dead runner's lease still holds
    clock.advance(seconds=301)
    report = _run(core, mailer, chunk_size=3)

    assert report.done
    assert len(sink.received) == 9
    assert set(sink.recipients().values()) == {1}


def test_a_period_without_comments_sends_no_digest(core, site, mailer, sink, clock):
    subscribe(core, "alice@example.org", "digest", cadence="daily")
    deliver(core, mailer)
    sink.handler.received.clear()

    report = _run(core, mailer)

    assert (report.sent, report.done) == (0, True)
    assert sink.received == []
    assert deliveries(core) == []


def test_weekly_subscribers_get_the_weekly_digest(core, mailer, sink, readers):
    report = _run(core, mailer, "weekly")

    assert report.sent == 1
    (carol,) = sink.to("carol@example.org")
    assert carol["Subject"] == "This week on The Daily Example: the most discussed"


def test_a_stopping_runner_gives_its_chunk_and_lease_back_and_another_goes_on(core, mailer, sink, readers):
    for i in range(7):
        subscribe(core, f"reader{i}@example.org", "digest", cadence="daily")
    handed_back: list[int] = []

    def stop_after_four() -> bool:  # as a SIGTERM arriving in the middle of the second chunk
        return len(sink.received) >= 4

    sender = chunk_sender(core.uow, mailer, stopping=stop_after_four, hand_back=handed_back.extend)
    first = send_digest(core.uow(), "daily", "daily", sender, chunk_size=3, stopping=stop_after_four)

    assert (first.stopped, first.done, first.sent) == (True, False, 4)
    assert len(handed_back) == 2  # the second chunk's unsent mails, due again at once
    assert send_deliveries(core.uow(), mailer, handed_back).sent == 2
    second = _run(core, mailer, chunk_size=3)  # no lease to wait for
    assert (second.busy, second.done) == (False, True)
    assert set(sink.recipients().values()) == {1}
    assert len(sink.received) == 9
