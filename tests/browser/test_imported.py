"""An imported Disqus thread shows in the widget like any other: nesting, placeholder, counts."""

from __future__ import annotations

import pytest
from import_samples import Post, Thread, disqus_file
from playwright.sync_api import expect

from browser.support import comment, open_widget
from engagement.services.operations.imports import ImportOptions, import_file

pytestmark = pytest.mark.browser


def test_the_widget_shows_an_imported_thread(page, publisher, engagement, tmp_path, no_dialogs, page_errors):
    url = publisher.page(t="imported")
    path = disqus_file(
        tmp_path / "disqus.xml",
        [Thread("7", url + "&utm_source=newsletter", "An imported article")],
        [
            Post("1", "7", "<p>From the <em>old</em> system.</p>", "2019-04-05T06:07:08Z", "Olga"),
            Post("2", "7", "<p>An old reply.</p>", "2019-04-06T06:07:08Z", "Piet", parent="1"),
            Post("3", "7", "<p>Removed.</p>", "2019-04-07T06:07:08Z", "Quinn", deleted=True),
            Post("4", "7", "<p>Under the removed one.</p>", "2019-04-08T06:07:08Z", "Rosa", parent="3"),
            Post("5", "7", "<p>Spam <script>alert(1)</script></p>", "2019-04-09T06:07:08Z", spam=True),
        ],
    )
    import_file(engagement.core.uow(), ImportOptions(fmt="disqus", path=path, site="daily"))

    open_widget(page, url)
    expect(page.locator(".eg-widget .eg-toolbar h2")).to_have_text(
        "3 Comments"
    )  # the placeholder is not counted
    first = comment(page, "From the old system.")
    expect(first.locator(".eg-name").first).to_have_text("Olga")
    expect(first.locator(".eg-body em").first).to_have_text("old")
    expect(first.locator(".eg-replies .eg-body")).to_have_text("An old reply.")
    expect(comment(page, "Under the removed one.")).to_have_count(1)
    expect(page.get_by_text("Spam")).to_have_count(0)
