"""Light and dark, forced themes, narrow screens: screenshots of a lived-in thread, and layout checks."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser.support import open_widget, page_key, seed, seed_votes
from engagement.services.discussion.public import Anchor
from engagement.services.discussion.reactions import react

pytestmark = pytest.mark.browser


def lived_in(engagement, url: str) -> None:
    """A thread as a reader finds it a day after publication."""
    key = page_key(url)
    for n, reaction in enumerate(["like"] * 7 + ["love"] * 3 + ["wow"] * 2 + ["angry"]):
        react(engagement.core.uow(), "daily", key, f"screenshot-reader-{n:04d}", reaction)
    a = seed(
        engagement,
        url,
        author_name="Margaret Hamilton",
        body="Finally. The quay has been a car park with a view for **twenty years**. "
        "Other harbour towns did this a decade ago and [the shops did fine](https://example.org/study).",
    )
    b = seed(
        engagement,
        url,
        author_name="Tim Berners-Lee",
        body="I run the bakery on the corner. Deliveries before 10am would work for us, but the council "
        "has to say so *before* April, not after.",
        parent=a.comment.id,
    )
    seed(
        engagement,
        url,
        author_name="Margaret Hamilton",
        body="Agreed, the consultation is the place.",
        parent=b.comment.id,
    )
    seed(
        engagement,
        url,
        author_name="Linus",
        body="Fourteen million for a shuttle bus nobody asked for?",
        anchor=Anchor(
            passage="budget", exact="a shuttle bus", prefix="wider pavements and ", suffix=" that links"
        ),
    )
    seed_votes(engagement, a.comment.id, 1, 5)
    seed_votes(engagement, b.comment.id, 1, 2)


def no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshot_light_and_dark(page, publisher, engagement, tmp_path, scheme, page_errors):
    url = publisher.page(t=f"looks-{scheme}")
    lived_in(engagement, url)
    page.emulate_media(color_scheme=scheme)
    open_widget(page, url)
    page.get_by_role("button", name="Like").click()
    expect(page.get_by_role("button", name="Like")).to_have_attribute("aria-pressed", "true")
    page.locator('[data-engagement-passage="budget"] .eg-badge').click()
    background = page.locator(".eg-widget").evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == ("rgb(255, 255, 255)" if scheme == "light" else "rgb(20, 24, 30)")
    page.screenshot(path=tmp_path / f"widget-{scheme}.png", full_page=True)
    page.locator(".eg-widget").screenshot(path=tmp_path / f"widget-{scheme}-only.png")
    assert no_horizontal_overflow(page)


def test_the_container_forces_a_theme_and_restyles(page, publisher, engagement, tmp_path):
    page.emulate_media(color_scheme="light")
    page.add_init_script(
        "document.addEventListener('DOMContentLoaded', () =>"
        " document.documentElement.style.setProperty('--engagement-dark-accent', 'rgb(255, 0, 128)'))"
    )
    open_widget(page, publisher.page(t="forced-dark", theme="dark"))
    widget = page.locator(".eg-widget")
    assert widget.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(20, 24, 30)"
    post = page.get_by_role("button", name="Post comment")
    assert post.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(255, 0, 128)"


def test_a_narrow_screen_keeps_everything_inside(page, publisher, engagement, tmp_path):
    url = publisher.page(t="narrow")
    lived_in(engagement, url)
    page.set_viewport_size({"width": 360, "height": 740})
    open_widget(page, url)
    assert no_horizontal_overflow(page)
    page.locator(".eg-widget").screenshot(path=tmp_path / "widget-narrow.png")
