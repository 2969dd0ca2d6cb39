"""The admin overview: comments per UTC day, what waits, most discussed pages, a moderator's sites only."""

from __future__ import annotations

from datetime import timedelta

from posting import post

from engagement.services.admin.admin_overview import overview
from engagement.services.admin.admins import add_admin
from engagement.services.discussion.reports import report_comment
from engagement.services.sites import SiteChanges, add_site, update_site


def test_counts_per_day_and_per_admin(core, site, clock):
    add_site(core.uow(), "other", SiteChanges(name="Other", moderation="all"))
    owner = add_admin(core.uow(), "owner@example.org", "owner", password="a long passphrase here").admin
    moderator = add_admin(
        core.uow(), "mod@example.org", "moderator", ["daily"], password="a long passphrase here"
    ).admin
    first = post(core, body="Day one.")
    post(core, body="Day one again.", page="https://news.example.org/2026/11/other-article")
    clock.advance(days=1)
    post(core, body="Day two.")
    post(core, site="other", page="https://other.example/a", body="Held elsewhere.")
    update_site(core.uow(), "daily", SiteChanges(report_threshold=10))
    report_comment(core.uow(), first.comment.id, "reader-report-1", "spam", None, "127.0.0.1")

    seen = overview(core.uow(), owner)
    assert len(seen.per_day) == 30
    today = clock.now.date()
    assert seen.per_day[-2:] == [(today - timedelta(days=1), 2), (today, 2)]
    assert (seen.pending, seen.reported) == (1, 1)
    assert seen.top_pages[0] == ("daily", "/2026/11/the-article", 2)
    assert seen.outbox_lag_seconds is not None  # nothing relayed the events in this test

    mine = overview(core.uow(), moderator)
    assert mine.per_day[-1][1] == 1
    assert (mine.pending, mine.reported, mine.deliveries, mine.outbox_lag_seconds) == (0, 1, {}, None)
