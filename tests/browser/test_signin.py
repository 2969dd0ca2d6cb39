"""A reader signed in by the publisher's site, in Chromium: comments without name or e-mail, edits
from a second browser with the same sign-in, votes once across both."""

from __future__ import annotations

import time
from collections.abc import Iterator

import jwt
import pytest
from playwright.sync_api import Browser, expect

from browser.support import card, main_form, open_widget, seed, wait_ready
from engagement.services.sites import SiteChanges, update_site

pytestmark = pytest.mark.browser

SECRET = "browser-publisher-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123"
LOGIN = "https://news.example.org/login"


@pytest.fixture(scope="module")
def sso(engagement) -> Iterator[None]:
    update_site(engagement.core.uow(), "daily", SiteChanges(sso_secret=SECRET))
    yield
    update_site(engagement.core.uow(), "daily", SiteChanges(sso_secret=""))


def token(sub: str = "member-7", name: str = "Ann Member", **claims: object) -> str:
    now = int(time.time())
    return jwt.encode({"sub": sub, "name": name, "iat": now, "exp": now + 3600, **claims}, SECRET, "HS256")


# Sets the attributes as the parser inserts the tag, before the async script has run.
ON_THE_TAG = """new MutationObserver((_, observer) => {
  const tag = document.querySelector("script[data-site]");
  if (!tag) return;
  tag.dataset.ssoToken = "%s";
  tag.dataset.ssoLoginUrl = "%s";
  observer.disconnect();
}).observe(document, { childList: true, subtree: true });"""


def test_signed_in_reader_comments_edits_elsewhere_and_votes_once(
    page, browser: Browser, publisher, engagement, sso, page_errors
):
    url = publisher.page(t="signed-in")
    seed(engagement, url, body="A guest's view.", author_name="Grace")
    open_widget(page, url)
    form = main_form(page)
    expect(form.get_by_label("Name")).to_be_visible()

    # The page's own script signs the reader in: the form drops name and e-mail.
    assert page.evaluate("t => Engagement.signIn(t)", token(email="ann@members.example.net")) is True
    expect(form.get_by_label("Name")).to_be_hidden()
    expect(form.get_by_label("E-mail")).to_be_hidden()
    expect(form.locator(".eg-signin")).to_have_text("Signed in as Ann Member")
    form.get_by_label("Comment", exact=True).fill("Written as a member.")
    form.locator("button[type=submit]").click()
    mine = card(page, "Written as a member.")
    expect(mine.locator(".eg-name")).to_have_text("Ann Member")
    expect(mine.locator(".eg-verified")).to_have_text("✓ Verified")
    theirs = card(page, "A guest's view.")
    theirs.get_by_role("button", name="Vote up").click()
    expect(theirs.locator(".eg-score")).to_have_text("1")

    # A second browser (no shared storage), the same member signed in by the page's server.
    second = browser.new_context(viewport={"width": 1100, "height": 900})
    try:
        other_page = second.new_page()
        errors: list[str] = []
        other_page.on("pageerror", lambda exc: errors.append(str(exc)))
        # As the publisher's server would render it for a signed-in member: the token on the tag.
        other_page.add_init_script(ON_THE_TAG % (token(), LOGIN))
        other_page.goto(url)
        wait_ready(other_page)
        expect(main_form(other_page).locator(".eg-signin")).to_have_text("Signed in as Ann Member")
        expect(main_form(other_page).get_by_label("Name")).to_be_hidden()
        # Their vote is already there, and counted once.
        theirs_there = card(other_page, "A guest's view.")
        expect(theirs_there.locator(".eg-score")).to_have_text("1")
        expect(theirs_there.get_by_role("button", name="Vote up")).to_have_attribute("aria-pressed", "true")
        # No edit token on this device: the sign-in proves authorship.
        mine_there = card(other_page, "Written as a member.")
        mine_there.get_by_role("button", name="Edit").click()
        editing = other_page.locator("form.eg-edit")
        editing.locator("textarea").fill("Edited from my other browser.")
        editing.get_by_role("button", name="Save").click()
        expect(card(other_page, "Edited from my other browser.")).to_be_visible()
        # Signing out brings the guest form back, with the publisher's "Sign in" link.
        other_page.evaluate("() => Engagement.signOut()")
        expect(main_form(other_page).get_by_label("Name")).to_be_visible()
        expect(main_form(other_page).get_by_role("link", name="Sign in")).to_have_attribute("href", LOGIN)
        expect(card(other_page, "A guest's view.").locator(".eg-score")).to_have_text("1")
        assert not errors, errors
    finally:
        second.close()
    page.reload()
    wait_ready(page)
    expect(card(page, "Edited from my other browser.")).to_be_visible()
