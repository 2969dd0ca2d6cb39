"""Live threads in a real browser: two readers on one page, and the fallback to polling."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from browser.conftest import EngagementServer, Publisher, start_engagement
from browser.support import card, comment, main_form, open_widget, page_key, post_comment_ui, seed

pytestmark = pytest.mark.browser
# Generous for a loaded machine; the widget shows a comment within a second or two.
ARRIVES = 15_000


def live_button(page: Page):
    return page.locator(".eg-live")


@pytest.fixture
def second(browser: Browser) -> Iterator[Page]:
    """Another reader: a browser context of its own (its own storage, so its own reader id)."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_a_comment_posted_by_one_reader_appears_for_the_other(
    page, second, publisher, engagement, page_errors
):
    url = publisher.page(t="live-two-readers")
    seed(engagement, url, body="The first word.")
    open_widget(page, url)
    open_widget(second, url)

    post_comment_ui(main_form(page), "Live from the quay.", name="Ada")
    expect(card(page, "Live from the quay.")).to_be_visible()
    button = live_button(second)
    expect(button).to_have_text("Show 1 new comment", timeout=ARRIVES)
    expect(comment(second, "Live from the quay.")).to_have_count(0)
    button.click()
    expect(card(second, "Live from the quay.")).to_be_visible()
    expect(button).to_be_hidden()
    expect(second.locator(".eg-widget .eg-toolbar h2")).to_have_text("2 Comments")
    # The writer's own comment was drawn at once, and is not announced to them again.
    expect(live_button(page)).to_be_hidden()

    # A reply arrives under its parent.
    first = card(second, "The first word.")
    first.get_by_role("button", name="Reply to Grace").click()
    post_comment_ui(first.locator("form.eg-form"), "A reply, live.", name="Bea")
    expect(live_button(page)).to_have_text("Show 1 new comment", timeout=ARRIVES)
    live_button(page).click()
    parent = comment(page, "The first word.")
    expect(parent.locator(".eg-comment .eg-body", has_text="A reply, live.")).to_be_visible()


def test_reactions_change_for_the_other_reader_at_once(page, second, publisher, engagement):
    url = publisher.page(t="live-reactions")
    seed(engagement, url, body="React to me.")
    open_widget(page, url)
    open_widget(second, url)
    page.get_by_role("group", name="What do you think?").get_by_role("button", name="Like").click()
    like = second.get_by_role("group", name="What do you think?").get_by_role("button", name="Like")
    expect(like.locator(".eg-rcount")).to_have_text("1", timeout=ARRIVES)
    expect(like).to_have_attribute("aria-pressed", "false")


def test_a_deleted_comment_leaves_the_other_readers_thread(page, second, publisher, engagement, page_errors):
    url = publisher.page(t="live-deleted")
    seed(engagement, url, body="Stays put.")
    open_widget(page, url)
    post_comment_ui(main_form(page), "Said in haste.", name="Ada")
    mine = card(page, "Said in haste.")
    expect(mine).to_be_visible()
    open_widget(second, url)
    expect(card(second, "Said in haste.")).to_be_visible()
    expect(second.locator(".eg-widget .eg-toolbar h2")).to_have_text("2 Comments")

    mine.get_by_role("button", name="Delete", exact=True).click()
    mine.get_by_role("button", name="Yes, delete").click()
    expect(comment(second, "Said in haste.")).to_have_count(0, timeout=ARRIVES)
    expect(second.locator(".eg-widget .eg-toolbar h2")).to_have_text("1 Comment")
    expect(card(second, "Stays put.")).to_be_visible()
    expect(live_button(second)).to_be_hidden()


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory, publisher: Publisher) -> Iterator[EngagementServer]:
    """A server that holds one stream at most; pages use it with ``server=capped``."""
    server = start_engagement(tmp_path_factory.mktemp("capped"), publisher.url, stream_max_connections=1)
    publisher.servers["capped"] = server.url
    yield server
    server.stop()


def test_a_refused_stream_falls_back_to_polling(page, publisher, capped, page_errors):
    url = publisher.page(t="live-capped", server="capped", poll="5")
    seed(capped, url, body="Before the crowd.")
    params = {"site": "daily", "page": page_key(url)}
    with (
        httpx.Client(base_url=capped.url, timeout=httpx.Timeout(10.0, read=None)) as client,
        client.stream("GET", "/api/v1/stream", params=params) as taken,
    ):
        assert taken.status_code == 200  # the one stream the server holds
        refused: list[int] = []  # the statuses of the widget's stream requests
        page.on("response", lambda r: refused.append(r.status) if "/api/v1/stream" in r.url else None)
        open_widget(page, url)
        seed(capped, url, body="Found by polling.")
        expect(live_button(page)).to_have_text("Show 1 new comment", timeout=30_000)
        assert 503 in refused
        live_button(page).click()
        expect(card(page, "Found by polling.")).to_be_visible()


HIDE = "Object.defineProperty(document, 'hidden', {value: %s, configurable: true});"
HIDE += "document.dispatchEvent(new Event('visibilitychange'));"


def test_a_hidden_tab_closes_its_stream_and_catches_up_when_shown(page, publisher, engagement, page_errors):
    url = publisher.page(t="live-hidden")
    seed(engagement, url, body="Before.")
    streams: list[str] = []
    page.on("request", lambda r: streams.append(r.url) if "/api/v1/stream?" in r.url else None)
    open_widget(page, url)
    seed(engagement, url, body="Seen live.")
    expect(live_button(page)).to_have_text("Show 1 new comment", timeout=ARRIVES)
    live_button(page).click()
    expect(card(page, "Seen live.")).to_be_visible()

    page.evaluate(HIDE % "true")
    opened_before = len(streams)
    seed(engagement, url, body="Written while the tab was hidden.")
    page.evaluate(HIDE % "false")
    # Shown again: a new stream resumes after the last event seen, and what was missed is announced.
    expect(live_button(page)).to_have_text("Show 1 new comment", timeout=ARRIVES)
    assert len(streams) > opened_before
    assert "last=" in streams[-1]
    live_button(page).click()
    expect(card(page, "Written while the tab was hidden.")).to_be_visible()
