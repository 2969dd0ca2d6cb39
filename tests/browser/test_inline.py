"""Inline Feedbacks: from a passage's badge and from a selection, listed in their tab, highlighted."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser.support import open_widget, page_key, post_comment_ui, seed, wait_ready
from engagement.services.discussion.public import Anchor
from engagement.services.discussion.threads import ThreadQuery, list_thread

pytestmark = pytest.mark.browser

SHOP = "Shop owners on the waterfront fear that delivery vans will no longer reach them in time"


def anchored(engagement, url):
    """The anchored comments of a page, as the server stored them."""
    query = ThreadQuery(site="daily", page=page_key(url), passage="*", sort="oldest")
    return list_thread(engagement.core.uow(), query).comments


# Scrolling is smooth: wait until the element is inside the viewport.
VISIBLE = """sel => {
    const r = document.querySelector(sel).getBoundingClientRect();
    return r.top >= 0 && r.bottom <= innerHeight;
}"""


def drag_select(page, text: str) -> None:
    """Select ``text`` in the article with the mouse, as a reader does."""
    box = page.evaluate(
        """text => {
            const article = document.querySelector('[data-engagement-article]');
            const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
            for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                const at = n.data.indexOf(text);
                if (at < 0) continue;
                const r = document.createRange();
                r.setStart(n, at); r.setEnd(n, at + 1);
                const a = r.getBoundingClientRect();
                r.setStart(n, at + text.length - 1); r.setEnd(n, at + text.length);
                const b = r.getBoundingClientRect();
                return {x1: a.left + 1, y1: a.top + a.height / 2, x2: b.right - 1, y2: b.top + b.height / 2};
            }
            return null;
        }""",
        text,
    )
    assert box, f"{text!r} is not in the article"
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move(box["x2"], box["y2"], steps=8)
    page.mouse.up()


def test_feedback_on_a_marked_passage(page, publisher, engagement, no_dialogs, page_errors):
    url = publisher.page(t="passage")
    open_widget(page, url)
    passage = page.locator('[data-engagement-passage="budget"]')
    badge = passage.get_by_role("button", name="Comment on this passage")
    badge.click()
    expect(badge).to_have_attribute("aria-expanded", "true")
    box = page.get_by_role("region", name="Comments on this passage")
    expect(box.locator("textarea")).to_be_focused()
    post_comment_ui(box.locator("form"), "Fourteen million is a bargain for this.", name="Lin")
    expect(box.locator(".eg-box-list .eg-body")).to_have_text("Fourteen million is a bargain for this.")
    badge = passage.locator(".eg-badge")
    expect(badge).to_have_attribute("aria-label", "1 comment on this passage")
    expect(badge).to_have_text("1")
    [stored] = anchored(engagement, url)
    assert stored.anchor == Anchor(passage="budget")

    # The tab lists it; "Show in article" highlights the passage and brings it into view.
    page.get_by_role("tab", name="Inline Feedbacks").click()
    item = page.locator(".eg-inline-list > .eg-comment")
    expect(item.locator(".eg-body")).to_have_text("Fourteen million is a bargain for this.")
    expect(page.get_by_role("tab", name="Inline Feedbacks")).to_have_attribute("aria-selected", "true")
    item.get_by_role("button", name="Show in article").click()
    expect(passage).to_have_class("eg-highlight")
    expect(passage).to_be_focused()
    page.wait_for_function(VISIBLE, arg="[data-engagement-passage=budget]")

    # After a reload the badge counts it from the server.
    page.reload()
    wait_ready(page)
    expect(page.locator('[data-engagement-passage="budget"] .eg-badge')).to_have_text("1")
    expect(page.locator('[data-engagement-passage="vote"] .eg-badge')).to_have_text("+")


def test_passage_box_from_the_keyboard(page, publisher, engagement):
    url = publisher.page(t="passage-keys")
    seed(engagement, url, body="The vote was closer than it looks.", anchor=Anchor(passage="vote"))
    open_widget(page, url)
    badge = page.locator('[data-engagement-passage="vote"] .eg-badge')
    expect(badge).to_have_attribute("aria-label", "1 comment on this passage")
    badge.focus()
    page.keyboard.press("Enter")
    box = page.get_by_role("region", name="Comments on this passage")
    expect(box.locator(".eg-box-list .eg-body")).to_have_text("The vote was closer than it looks.")
    page.keyboard.press("Escape")
    expect(box).to_have_count(0)
    expect(badge).to_be_focused()
    expect(badge).to_have_attribute("aria-expanded", "false")


def test_feedback_on_a_text_selection(page, publisher, engagement, no_dialogs, page_errors):
    url = publisher.page(t="selection")
    open_widget(page, url)
    floating = page.get_by_role("button", name="Comment on this passage").and_(page.locator(".eg-float"))
    expect(floating).to_be_hidden()
    drag_select(page, "delivery vans will no longer reach them")
    expect(floating).to_be_visible()
    floating.click()
    box = page.get_by_role("region", name="Comments on this passage")
    expect(box.locator(".eg-quote")).to_have_text("delivery vans will no longer reach them")
    post_comment_ui(box.locator("form"), "Deliveries could come before ten.", name="Sam")
    expect(box.locator(".eg-box-list .eg-body")).to_have_text("Deliveries could come before ten.")

    [stored] = anchored(engagement, url)
    assert stored.anchor is not None
    assert stored.anchor.passage is None
    assert stored.anchor.exact == "delivery vans will no longer reach them"
    assert stored.anchor.prefix == SHOP.split("delivery vans")[0][-32:]
    assert stored.anchor.suffix.startswith(" in time, while residents")
    assert len(stored.anchor.suffix) == 32

    # Listed in the tab with its quote; "Show in article" wraps the quote in <mark> and scrolls to it.
    page.reload()
    wait_ready(page)
    page.get_by_role("tab", name="Inline Feedbacks").click()
    item = page.locator(".eg-inline-list > .eg-comment")
    expect(item.locator(".eg-anchor q")).to_have_text("delivery vans will no longer reach them")
    item.get_by_role("button", name="Show in article").click()
    mark = page.locator("[data-engagement-article] mark.eg-mark")
    expect(mark).to_have_text("delivery vans will no longer reach them")
    page.wait_for_function(VISIBLE, arg="mark.eg-mark")
    # The article's text is unchanged around the highlight.
    text = page.locator("[data-engagement-article] p", has_text="Shop owners").text_content()
    assert SHOP in text


def test_selection_across_paragraphs_and_repeated_text(page, publisher, engagement):
    url = publisher.page(t="repeated")
    # "the quay" occurs twice; prefix and suffix say which one.
    seed(
        engagement,
        url,
        body="Which station?",
        anchor=Anchor(exact="the quay", prefix="shuttle bus that links ", suffix=" to the central station."),
    )
    open_widget(page, url)
    page.get_by_role("tab", name="Inline Feedbacks").click()
    expect(page.get_by_role("tab", name="Inline Feedbacks")).to_contain_text("1")
    page.locator(".eg-inline-list").get_by_role("button", name="Show in article").click()
    mark = page.locator("mark.eg-mark")
    expect(mark).to_have_count(1)
    expect(page.locator('[data-engagement-passage="budget"] mark.eg-mark')).to_have_text("the quay")

    # A selection over two paragraphs is one quote; its highlight spans both.
    page.evaluate(
        """() => {
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            const nodes = [];
            for (let n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n);
            const from = nodes.find(n => n.data.includes('central station'));
            const to = nodes.find(n => n.data.startsWith('Shop owners'));
            const r = document.createRange();
            r.setStart(from, from.data.indexOf('central station'));
            r.setEnd(to, 'Shop owners'.length);
            getSelection().removeAllRanges(); getSelection().addRange(r);
        }"""
    )
    floating = page.locator(".eg-float")
    expect(floating).to_be_visible()
    floating.click()
    box = page.get_by_role("region", name="Comments on this passage")
    expect(box.locator(".eg-quote")).to_have_text("central station. Shop owners")
    post_comment_ui(box.locator("form"), "Two paragraphs at once.", name="Kim")
    expect(box.locator(".eg-box-list .eg-body")).to_have_text("Two paragraphs at once.")
    page.get_by_role("tab", name="Inline Feedbacks").click()
    item = page.locator(".eg-inline-list > .eg-comment").filter(has_text="Two paragraphs at once.")
    item.get_by_role("button", name="Show in article").click()
    expect(page.locator("mark.eg-mark")).to_have_text(["central station.", "Shop owners"])


def test_a_passage_gone_from_the_article_says_so(page, publisher, engagement):
    url = publisher.page(t="gone")
    seed(
        engagement,
        url,
        body="About a cut paragraph.",
        anchor=Anchor(passage="removed", exact="words since edited away"),
    )
    open_widget(page, url)
    page.get_by_role("tab", name="Inline Feedbacks").click()
    page.locator(".eg-inline-list").get_by_role("button", name="Show in article").click()
    expect(page.locator(".eg-toast")).to_have_text("That passage is no longer in the article.")
    expect(page.locator(".eg-widget > [aria-live=polite]")).to_have_text(
        "That passage is no longer in the article."
    )
    expect(page.locator("mark.eg-mark")).to_have_count(0)
