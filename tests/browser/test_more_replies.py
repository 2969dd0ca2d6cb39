"""A busy comment in a real browser: its oldest replies come with the thread, a button shows the rest,
in the thread and in the Inline Feedbacks tab alike."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser.support import open_widget, seed
from engagement.services.discussion.public import Anchor

pytestmark = pytest.mark.browser


def test_show_more_replies_inserts_them_under_their_parents(page, publisher, engagement, page_errors):
    url = publisher.page(t="busy")
    top = seed(engagement, url, body="The busy one.", author_name="Ann").comment.id
    replies = [
        seed(engagement, url, body=f"Reply {n}.", author_name=f"Reader {n}", parent=top).comment.id
        for n in range(1, 52)
    ]
    # Past the first 50: one answers a reply of the same later page, one a reply shown from the start.
    seed(engagement, url, body="Reply 52.", author_name="Reader 52", parent=replies[50])
    seed(engagement, url, body="Reply 53.", author_name="Reader 53", parent=replies[1])
    open_widget(page, url)

    thread = page.locator(f"#engagement-comment-{top}")
    shown = thread.locator(".eg-replies .eg-comment")
    expect(shown).to_have_count(50)
    more = thread.get_by_role("button", name="Show 3 more replies")
    expect(more).to_be_visible()

    # A reply being written stays as it is while the others arrive.
    first = page.locator(f"#engagement-comment-{replies[0]} > .eg-card")
    first.get_by_role("button", name="Reply to Reader 1").click()
    first.locator("form textarea").fill("Half a thought")

    # A failed request says so, and the button stays for another try.
    page.route(f"**/api/v1/comments/{top}/replies*", lambda route: route.abort())
    more.click()
    expect(page.locator(".eg-toast")).to_have_text(
        "The comment server could not be reached. Check your connection and try again."
    )
    expect(more).to_be_enabled()
    expect(more).to_be_focused()
    page.unroute(f"**/api/v1/comments/{top}/replies*")

    page.keyboard.press("Enter")
    expect(shown).to_have_count(53)
    expect(more).to_have_count(0)
    expect(page.locator(".eg-widget > .eg-sr[aria-live=polite]")).to_have_text("3 more replies shown.")
    # Each lands under its parent, as if the thread had carried it from the start.
    nested = "#engagement-comment-{} > .eg-replies > .eg-comment > .eg-card > .eg-body"
    expect(page.locator(nested.format(replies[1]))).to_have_text(["Reply 53."])
    expect(page.locator(nested.format(replies[50]))).to_have_text(["Reply 52."])
    inserted = page.locator(f"#engagement-comment-{replies[50]} > .eg-card")
    expect(inserted).to_be_focused()

    inserted.get_by_role("button", name="Vote up").click()
    expect(inserted.locator(".eg-score")).to_have_text("1")
    expect(inserted.get_by_role("button", name="Vote up")).to_have_attribute("aria-pressed", "true")
    expect(inserted.get_by_role("button", name="Reply to Reader 51")).to_be_visible()
    expect(first.locator("form textarea")).to_have_value("Half a thought")


def test_the_inline_tab_and_the_passage_box_show_more_replies_too(page, publisher, engagement, page_errors):
    url = publisher.page(t="busy-inline")
    anchor = Anchor(passage="budget")
    top = seed(engagement, url, body="On the budget.", author_name="Ann", anchor=anchor).comment.id
    replies = [
        seed(engagement, url, body=f"Reply {n}.", author_name=f"Reader {n}", parent=top).comment.id
        for n in range(1, 54)
    ]
    open_widget(page, url)
    page.get_by_role("tab", name="Inline Feedbacks").click()
    panel = page.get_by_role("tabpanel", name="Inline Feedbacks")
    shown = panel.locator(".eg-replies .eg-comment")
    expect(shown).to_have_count(50)

    panel.get_by_role("button", name="Show 3 more replies").click()
    expect(shown).to_have_count(53)
    expect(panel.get_by_role("button", name="Show 3 more replies")).to_have_count(0)
    expect(panel.locator(f'.eg-comment[data-id="{replies[50]}"] > .eg-card')).to_be_focused()
    expect(panel.locator("[id^='engagement-comment-']")).to_have_count(0)  # still a copy, without ids
    # The thread's own copy keeps its state and its button.
    page.get_by_role("tab", name="Comments").click()
    thread = page.locator(f"#engagement-comment-{top}")
    expect(thread.locator(".eg-replies .eg-comment")).to_have_count(50)
    expect(thread.get_by_role("button", name="Show 3 more replies")).to_be_visible()

    # So does the passage's own box.
    page.locator('[data-engagement-passage="budget"] .eg-badge').click()
    box = page.get_by_role("region", name="Comments on this passage")
    box.get_by_role("button", name="Show 3 more replies").click()
    expect(box.locator(".eg-replies .eg-comment")).to_have_count(53)
    expect(box.locator(f'.eg-comment[data-id="{replies[50]}"] > .eg-card')).to_be_focused()
