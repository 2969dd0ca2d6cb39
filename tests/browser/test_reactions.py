"""The reaction bar "What do you think?" and the support call to action, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser.support import open_widget, wait_ready
from engagement.services.discussion.reactions import react

pytestmark = pytest.mark.browser


def test_react_change_and_remove(page, publisher, engagement, page_errors):
    url = publisher.page(t="reactions")
    react(engagement.core.uow(), "daily", url, "another-reader-0001", "love")
    open_widget(page, url)
    bar = page.get_by_role("group", name="What do you think?")
    like = bar.get_by_role("button", name="Like")
    love = bar.get_by_role("button", name="Love")
    expect(bar.get_by_role("button")).to_have_count(6)
    expect(page.locator(".eg-responses")).to_have_text("1 response")
    expect(love.locator(".eg-rcount")).to_have_text("1")

    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like.locator(".eg-rcount")).to_have_text("1")
    expect(page.locator(".eg-responses")).to_have_text("2 responses")
    expect(like).to_be_focused()

    # Changing moves the reader's one reaction; the other reader's stays.
    love.click()
    expect(love).to_have_attribute("aria-pressed", "true")
    expect(like).to_have_attribute("aria-pressed", "false")
    expect(love.locator(".eg-rcount")).to_have_text("2")
    expect(like.locator(".eg-rcount")).to_have_text("0")

    page.reload()
    wait_ready(page)
    expect(love).to_have_attribute("aria-pressed", "true")

    # Pressing one's own reaction again removes it, from the keyboard too.
    love.focus()
    page.keyboard.press("Enter")
    expect(love).to_have_attribute("aria-pressed", "false")
    expect(love.locator(".eg-rcount")).to_have_text("1")
    expect(page.locator(".eg-responses")).to_have_text("1 response")


def test_support_call_to_action(page, publisher):
    open_widget(page, publisher.page(t="support"))
    link = page.locator(".eg-support a")
    expect(link).to_have_text("Help us grow. Support The Daily Example on Patreon!")
    expect(link).to_have_attribute("href", "https://www.patreon.com/dailyexample")
    expect(link).to_have_attribute("rel", "noopener")


def test_strings_can_be_overridden(page, publisher):
    page.add_init_script("window.EngagementStrings = {reactionsHeading: 'Wat vind jij?', post: 'Plaatsen'}")
    open_widget(page, publisher.page(t="strings"))
    expect(page.get_by_role("heading", name="Wat vind jij?")).to_be_visible()
    expect(page.get_by_role("button", name="Plaatsen")).to_be_visible()
    expect(page.get_by_role("button", name="Load more comments")).to_be_hidden()


def test_a_site_that_does_not_exist_says_so(page, publisher):
    page.goto(publisher.page(t="no-site", site="nosuchsite"))
    wait_ready(page)
    expect(page.locator(".eg-loading")).to_contain_text("The comments could not be loaded.")
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
