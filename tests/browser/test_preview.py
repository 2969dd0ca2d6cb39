"""The comment form's preview in a real browser: the server's rendering, inert, and nothing posted."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser.support import comment, main_form, open_widget

pytestmark = pytest.mark.browser

PAYLOAD = (
    "<script>window.__pwned = 'script'; alert('script')</script>\n\n"
    "<img src=x onerror=\"window.__pwned='img'; alert('img')\">\n\n"
    "[click me](javascript:window.__pwned='link';alert('link'))"
)


def test_preview_shows_the_rendered_comment_and_runs_no_script(page, publisher, no_dialogs, page_errors):
    open_widget(page, publisher.page(t="preview"))
    form = main_form(page)
    text = form.get_by_label("Comment", exact=True)
    preview = form.get_by_role("button", name="Preview")
    region = form.get_by_role("region", name="Preview of your comment")

    # An empty text is refused like an empty post.
    preview.click()
    expect(form.locator(".eg-status")).to_have_text("Write something first.")

    text.fill("The quay **deserves** _this_.")
    preview.click()
    expect(region.locator("strong")).to_have_text("deserves")
    expect(region.locator("em")).to_have_text("this")
    expect(text).to_be_hidden()
    expect(page.locator(".eg-widget > .eg-sr[aria-live=polite]")).to_have_text(
        "Preview shown: this is how your comment will look."
    )

    # "Edit" brings the text back, unchanged and focused.
    form.get_by_role("button", name="Edit").click()
    expect(region).to_have_count(0)
    expect(text).to_be_focused()
    expect(text).to_have_value("The quay **deserves** _this_.")

    text.fill(PAYLOAD)
    form.get_by_role("button", name="Preview").click()
    expect(region).to_contain_text("<img src=x onerror=")
    expect(region).to_contain_text("[click me](javascript:")
    assert region.locator("script, img, a").count() == 0
    assert page.evaluate("window.__pwned") is None

    # A preview posts nothing; posting from the preview posts the text and shows the form again.
    expect(page.locator(".eg-widget .eg-toolbar h2")).to_have_text("0 Comments")
    expect(page.locator(".eg-thread .eg-comment")).to_have_count(0)
    form.get_by_role("button", name="Edit").click()
    text.fill("First *draft*.")
    form.get_by_role("button", name="Preview").click()
    expect(region.locator("em")).to_have_text("draft")
    form.get_by_label("Name").fill("Ada")
    form.get_by_role("button", name="Post comment").click()
    expect(form.locator(".eg-status")).to_have_text("Your comment is published.")
    expect(region).to_have_count(0)
    expect(text).to_have_value("")

    # The author's edit form previews the same way.
    mine = page.locator(
        f"#engagement-comment-{comment(page, 'First draft.').get_attribute('data-id')} > .eg-card"
    )
    mine.get_by_role("button", name="Edit").click()
    mine.locator("textarea").fill("Second **draft**.")
    mine.get_by_role("button", name="Preview").click()
    expect(mine.get_by_role("region", name="Preview of your comment").locator("strong")).to_have_text("draft")
    mine.get_by_role("button", name="Edit").click()
    expect(mine.locator("textarea")).to_be_focused()
