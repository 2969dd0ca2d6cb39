"""The widget in the reader's language: German strings from our server, Polish from the browser,
Arabic right-to-left and axe-clean, an unknown language quietly English."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from browser.axe import serious_violations
from browser.support import main_form, open_widget, seed, wait_ready
from engagement.models import Subscriber

pytestmark = pytest.mark.browser


def test_data_lang_de_shows_german_and_the_readers_mails_will_be_german(page, publisher, engagement):
    url = publisher.page(t="lang-de", lang="de")
    seed(engagement, url, body="Erster Kommentar.")
    seed(engagement, url, body="Zweiter Kommentar.")
    open_widget(page, url)
    root = page.locator("#engagement-thread")
    expect(root).to_have_attribute("lang", "de")
    expect(root).to_have_attribute("dir", "ltr")
    expect(page.get_by_role("heading", name="Was meinen Sie?")).to_be_visible()
    expect(page.get_by_role("heading", name="2 Kommentare")).to_be_visible()
    expect(page.locator(".eg-time").first).to_contain_text("gerade eben")  # dates in German too
    expect(page.locator(".eg-time").first).to_have_attribute("title", re.compile(r"^\d{1,2}\. \S+ \d{4}"))
    expect(
        page.get_by_text("Helfen Sie uns zu wachsen. Unterstützen Sie The Daily Example auf Patreon!")
    ).to_be_visible()
    form = main_form(page)
    form.get_by_label("Kommentar", exact=True).fill("Sehr interessant.")
    form.get_by_label("Name").fill("Hanna")
    form.get_by_label("E-Mail").fill("hanna@example.org")
    form.get_by_label("Benachrichtigen bei").select_option(label="Neuen Antworten auf meine Kommentare")
    form.get_by_role("button", name="Kommentar senden").click()
    expect(page.get_by_role("heading", name="3 Kommentare")).to_be_visible()
    with engagement.core.engine.connect() as conn:
        stored = conn.execute(
            sa.select(Subscriber.locale).where(Subscriber.email == "hanna@example.org")
        ).scalar_one()
    assert stored == "de"


def test_the_browsers_language_is_used_when_the_page_names_none(browser, publisher, engagement):
    context = browser.new_context(locale="pl-PL")
    try:
        page = context.new_page()
        url = publisher.page(t="lang-browser-pl")
        for n in range(5):
            seed(engagement, url, body=f"Komentarz {n}.")
        open_widget(page, url)
        expect(page.locator("#engagement-thread")).to_have_attribute("lang", "pl")
        # Polish's "many" form: five comments are "5 komentarzy", not "5 komentarze".
        expect(page.get_by_role("heading", name="5 komentarzy")).to_be_visible()
        expect(page.get_by_role("heading", name="Co o tym sądzisz?")).to_be_visible()
    finally:
        context.close()


def test_an_unknown_language_falls_back_to_english_without_an_error(page, publisher):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    open_widget(page, publisher.page(t="lang-unknown", lang="tlh"))
    expect(page.locator("#engagement-thread")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="What do you think?")).to_be_visible()
    assert errors == []


def test_arabic_is_right_to_left_mirrored_and_axe_clean(browser, publisher, engagement):
    url = publisher.page(t="lang-ar", lang="ar")
    parent = seed(engagement, url, body="تعليق أول.")
    seed(engagement, url, body="ردّ على التعليق.", parent=parent.comment.id)
    # axe is injected into the page: the context bypasses the publisher's CSP, as the other axe tests do.
    context = browser.new_context(bypass_csp=True, locale="en-GB")
    try:
        page = context.new_page()
        page.goto(url)
        wait_ready(page)
        root = page.locator("#engagement-thread")
        expect(root).to_have_attribute("dir", "rtl")
        expect(root).to_have_attribute("lang", "ar")
        expect(page.get_by_role("heading", name="ما رأيك؟")).to_be_visible()
        expect(page.get_by_role("heading", name="تعليقان")).to_be_visible()  # Arabic's dual
        replies = page.locator(".eg-replies").first
        # Logical properties mirror the thread: replies are indented from the right.
        assert replies.evaluate("el => getComputedStyle(el).borderRightWidth") == "2px"
        assert replies.evaluate("el => getComputedStyle(el).borderLeftWidth") == "0px"
        assert serious_violations(page) == []
    finally:
        context.close()


def test_count_phrases_on_a_listing_page_follow_data_lang(page, publisher):
    page.goto(publisher.page("listing.html", lang="pl"))
    spans = page.locator("[data-engagement-count]")
    # Nobody comments on this one: Polish says "0 komentarzy" (the many form), not "0 komentarze".
    expect(spans.nth(2)).to_have_text("0 komentarzy")
    expect(spans.nth(3)).to_have_text(re.compile(r"^\d+ reakcj[aei]$"))
