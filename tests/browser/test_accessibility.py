"""Accessibility: axe-core, every control named, tabs by keyboard, a live region, permalinks that focus."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from browser.axe import serious_violations
from browser.support import main_form, open_widget, post_comment_ui, seed
from browser.test_appearance import lived_in

pytestmark = pytest.mark.browser

UNNAMED = """() => {
    const unnamed = [];
    const controls = '.eg-root input, .eg-root select, .eg-root textarea, .eg-root button';
    for (const el of document.querySelectorAll(controls)) {
        if (el.closest('.eg-hp') || el.closest('[hidden]')) continue;
        const named = el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')
            || (el.tagName === 'BUTTON' && el.textContent.trim());
        if (!named) unnamed.push(el.outerHTML.slice(0, 80));
    }
    return unnamed;
}"""


def test_every_control_has_a_name(page, publisher, engagement):
    url = publisher.page(t="a11y-names")
    seed(engagement, url, body="Something to reply to.")
    open_widget(page, url)
    page.locator(".eg-toolbar").get_by_role("button", name="Subscribe").click()
    page.get_by_role("button", name="Reply to Grace").click()
    page.locator('[data-engagement-passage="vote"] .eg-badge').click()
    assert page.evaluate(UNNAMED) == []
    # The honeypot is out of sight, out of the tab order and hidden from assistive technology.
    honeypot = main_form(page).locator("input[name=website]")
    expect(honeypot).to_have_attribute("tabindex", "-1")
    assert honeypot.evaluate("el => el.closest('[aria-hidden=true]') !== null")
    assert honeypot.evaluate("el => el.getBoundingClientRect().right < 0")


def test_tabs_work_from_the_keyboard(page, publisher):
    open_widget(page, publisher.page(t="a11y-tabs"))
    comments = page.get_by_role("tab", name="Comments")
    inline = page.get_by_role("tab", name="Inline Feedbacks")
    comments.focus()
    page.keyboard.press("ArrowRight")
    expect(inline).to_be_focused()
    expect(inline).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name="Inline Feedbacks")).to_be_visible()
    expect(page.get_by_role("tabpanel", name="Comments")).to_be_hidden()
    expect(page.get_by_text("No inline feedback yet.")).to_be_visible()
    page.keyboard.press("Home")
    expect(comments).to_be_focused()
    expect(page.get_by_role("tabpanel", name="Comments")).to_be_visible()
    # Only the selected tab is in the tab order.
    expect(inline).to_have_attribute("tabindex", "-1")


def test_a_comment_is_announced_in_the_live_region(page, publisher):
    open_widget(page, publisher.page(t="a11y-live"))
    post_comment_ui(main_form(page), "Announce me.")
    live = page.locator(".eg-widget > .eg-sr[aria-live=polite]")
    expect(live).to_have_text("Your comment is published.")
    # The new comment takes the focus, so a keyboard user continues from it.
    expect(page.locator(".eg-thread > .eg-comment > .eg-card").first).to_be_focused()


def test_a_permalink_focuses_its_comment(page, publisher, engagement):
    url = publisher.page(t="a11y-permalink")
    posted = [seed(engagement, url, body=f"Comment {n}.") for n in range(3)]
    open_widget(page, url + f"#engagement-comment-{posted[1].comment.id}")
    target = page.locator(f"#engagement-comment-{posted[1].comment.id} > .eg-card")
    expect(target).to_be_focused()
    expect(target).to_have_class("eg-card eg-new")
    link = page.locator(f"#engagement-comment-{posted[0].comment.id} .eg-time")
    expect(link).to_have_attribute("href", f"#engagement-comment-{posted[0].comment.id}")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_in_a_thread_and_its_inline_feedbacks(
    browser, browser_context_args, publisher, engagement, scheme
):
    # A context of its own: axe is injected into the publisher's page, past its CSP.
    context = browser.new_context(**browser_context_args, bypass_csp=True, color_scheme=scheme)
    page = context.new_page()
    try:
        url = publisher.page(t=f"axe-{scheme}")
        lived_in(engagement, url)
        open_widget(page, url)
        expect(page.locator(".eg-thread .eg-card")).to_have_count(4)
        assert serious_violations(page) == []
        page.get_by_role("tab", name="Inline Feedbacks").click()
        expect(page.get_by_role("tabpanel", name="Inline Feedbacks")).to_be_visible()
        assert serious_violations(page) == []
    finally:
        context.close()


def test_a_permalinks_name_starts_with_what_it_shows(page, publisher, engagement):
    url = publisher.page(t="a11y-label-in-name")
    posted = seed(engagement, url, body="Label in name.")
    open_widget(page, url)
    link = page.locator(f"#engagement-comment-{posted.comment.id} .eg-time")
    shown = link.locator("time").inner_text().strip()
    assert shown == "just now"
    expect(page.get_by_role("link", name=shown)).to_have_attribute(
        "href", f"#engagement-comment-{posted.comment.id}"
    )
    expect(link).to_have_accessible_name(re.compile(rf"^{shown} \(link to this comment, .+\)$"))
