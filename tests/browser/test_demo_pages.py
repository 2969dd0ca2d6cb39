"""The demo's own pages in Chromium: the seeded article under its strict CSP, and the listing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser.support import open_widget

pytestmark = pytest.mark.browser


def test_demo_article_shows_the_seeded_discussion(page, demo, tmp_path, no_dialogs, page_errors):
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    open_widget(page, demo.url + "/demo/article")
    expect(page.locator(".eg-toolbar h2")).to_have_text("7 Comments")
    expect(page.locator(".eg-responses")).to_have_text("8 responses")
    expect(page.get_by_role("button", name="Like")).to_contain_text("4")
    expect(page.locator(".eg-support a")).to_have_text("Help us grow. Support The Daily Example on Patreon!")
    maria = page.locator(".eg-thread > .eg-comment").filter(has_text="Finally!").first
    expect(maria.locator(":scope > .eg-card .eg-score")).to_have_text("3")
    expect(maria.locator(".eg-replies .eg-name")).to_have_text(["Tom", "Maria"])
    expect(page.locator('[data-engagement-passage="cost"] .eg-badge')).to_have_text("2")

    inline = page.get_by_role("tab", name="Inline Feedbacks")
    expect(inline).to_contain_text("2")
    inline.click()
    priya = page.locator(".eg-inline-list > .eg-comment").filter(has_text="Please keep it quiet")
    expect(priya.locator(".eg-anchor q")).to_have_text("quiet study floor")
    priya.get_by_role("button", name="Show in article").click()
    expect(page.locator('[data-engagement-passage="quiet"] mark.eg-mark')).to_have_text("quiet study floor")
    # The widget's stylesheet loaded under the article's CSP (style-src 'self').
    assert page.locator(".eg-widget").evaluate("el => getComputedStyle(el).borderRadius") != "0px"
    assert violations == []
    page.screenshot(path=tmp_path / "demo-article.png", full_page=True)


def test_demo_listing_fills_its_counts(page, demo, page_errors):
    page.goto(demo.url + "/demo/listing")
    counts = page.locator("[data-engagement-count]")
    expect(counts).to_have_text(["7", "8", "0", "0"])
