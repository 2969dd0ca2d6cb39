"""The limits a reader can meet: the edit window closing, and the rate limit's "try again in N seconds"."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from browser.support import main_form, open_widget, post_comment_ui, wait_ready

pytestmark = pytest.mark.browser


def test_edit_and_delete_go_when_the_window_closes(page, publisher):
    open_widget(page, publisher.page(t="window", site="hasty"))  # a 3-second edit window
    post_comment_ui(main_form(page), "Quick, before it closes.")
    mine = page.locator(".eg-thread > .eg-comment > .eg-card").first
    expect(mine.get_by_role("button", name="Edit", exact=True)).to_be_visible()
    expect(mine.get_by_role("button", name="Edit", exact=True)).to_have_count(0, timeout=6_000)
    expect(mine.get_by_role("button", name="Delete", exact=True)).to_have_count(0)

    # A browser that still believes in its (real) token meets the server's refusal, said plainly.
    page.evaluate(
        """() => {
            const all = JSON.parse(localStorage.getItem('engagement.tokens') || '{}');
            for (const id of Object.keys(all)) all[id].expires = Date.now() + 3600e3;
            localStorage.setItem('engagement.tokens', JSON.stringify(all));
        }"""
    )
    page.reload()
    wait_ready(page)
    mine = page.locator(".eg-thread > .eg-comment > .eg-card").first
    mine.get_by_role("button", name="Edit", exact=True).click()
    mine.get_by_role("button", name="Save").click()
    expect(mine.locator(".eg-status")).to_have_text("The time to change this comment is over.")


def test_too_many_comments_say_when_to_try_again(page, publisher, limited):
    open_widget(page, publisher.page(t="rate", server="limited"))
    form = main_form(page)
    for n in range(2):
        post_comment_ui(form, f"Comment {n}.")
        expect(form.locator(".eg-status")).to_have_text("Your comment is published.")
    post_comment_ui(form, "One too many.")
    status = form.locator(".eg-status")
    expect(status).to_have_text(re.compile(r"^Slow down a little: try again in \d+ seconds\.$"))
    expect(status).to_have_class(re.compile(r"\beg-error\b"))
    seconds = int(re.search(r"\d+", status.text_content()).group())
    assert 1 <= seconds <= 60
    # The text the reader wrote is kept for the next try.
    expect(form.locator("textarea")).to_have_value("One too many.")
    expect(page.locator(".eg-thread > .eg-comment")).to_have_count(2)
