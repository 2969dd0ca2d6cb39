"""More discussions under the thread: the most discussed pages, the reader's own left out, hidden when off."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser.support import open_widget, seed
from engagement.services.sites import SiteChanges, add_site, update_site

pytestmark = pytest.mark.browser


def test_more_discussions_links_the_other_pages_and_hides_when_turned_off(
    page, publisher, engagement, page_errors
):
    add_site(engagement.core.uow(), "talk", SiteChanges(name="The Talk", origins=[publisher.url]))
    here = publisher.page(site="talk", t="popular-here")
    for n in (1, 2, 3):
        for _ in range(n):
            seed(
                engagement,
                publisher.page(site="talk", t=f"popular-{n}"),
                site="talk",
                page_title=f"Story {n}",
            )
    for _ in range(5):  # the most discussed of all, but the reader is on it
        seed(engagement, here, site="talk", page_title="This story")

    open_widget(page, here)
    section = page.locator(".eg-popular")
    expect(section).to_be_visible()
    expect(section.get_by_role("heading")).to_have_text("More discussions")
    links = section.locator("li a")
    expect(links).to_have_text(["Story 3", "Story 2", "Story 1"])
    expect(section.locator("li").first).to_contain_text("3 comments")
    expect(section.locator("li").last).to_contain_text("1 comment")
    assert "t=popular-3" in (links.first.get_attribute("href") or "")

    update_site(engagement.core.uow(), "talk", SiteChanges(popular_title="Elsewhere on The Talk"))
    open_widget(page, here)
    expect(section.get_by_role("heading")).to_have_text("Elsewhere on The Talk")

    update_site(engagement.core.uow(), "talk", SiteChanges(popular=False))
    open_widget(page, here)
    expect(page.locator(".eg-thread .eg-comment")).to_have_count(5)
    expect(section).to_be_hidden()
    assert not page_errors
