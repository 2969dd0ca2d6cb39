"""A reader without JavaScript: the widget's noscript frame reads, pages and posts a thread."""

from __future__ import annotations

from collections.abc import Iterator

import feedparser
import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, FrameLocator, Page, expect

from browser.axe import serious_violations
from browser.support import seed, wait_ready
from engagement.models import Comment, OutboxEvent
from engagement.outbox import COMMENT_PENDING, COMMENT_PUBLISHED
from engagement.services.discussion.moderation import approve_comment

XSS = "<img src=x onerror=alert(1)><script>alert(2)</script>"


@pytest.fixture
def nojs(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1000, "height": 1400})
    page = context.new_page()
    yield page
    context.close()


def thread_frame(page: Page) -> FrameLocator:
    return page.frame_locator("iframe[title=Comments]")


def post_form(frame: FrameLocator, body: str, name: str = "Ada") -> None:
    frame.locator("#eg-body").fill(body)
    frame.locator("#eg-name").fill(name)
    frame.locator("form.eg-form button[type=submit]").click()


def test_a_reader_without_javascript_reads_pages_and_posts(nojs, engagement, publisher):
    seed(engagement, "/nojs/daily", author_name=XSS, body=f"The oldest comment {XSS}")
    for n in range(1, 22):
        seed(engagement, "/nojs/daily", body=f"Comment number {n}.")
    nojs.goto(publisher.page("nojs.html", site="daily"))
    frame = thread_frame(nojs)
    expect(frame.get_by_role("heading", name="22 Comments")).to_be_visible()
    expect(frame.get_by_text("Comment number 21.")).to_be_visible()
    expect(frame.get_by_text("The oldest comment")).to_have_count(0)

    frame.get_by_role("link", name="Load more comments").click()
    oldest = frame.get_by_text("The oldest comment")
    expect(oldest).to_be_visible()
    expect(oldest).to_contain_text("<script>alert(2)</script>")  # shown as text, never run
    expect(frame.locator(".eg-name", has_text="<img src=x")).to_be_visible()

    frame.get_by_role("link", name="First comments").click()
    post_form(frame, "Written *without* JavaScript.")
    expect(frame.get_by_role("status")).to_have_text("Thanks, your comment is published.")
    expect(frame.locator(".eg-body em", has_text="without")).to_be_visible()


def test_a_reply_from_the_frame_lands_under_its_parent(nojs, engagement, publisher):
    parent = seed(engagement, "/nojs/daily", author_name="Bea", body="Reply to me, please.")
    nojs.goto(publisher.page("nojs.html", site="daily"))
    frame = thread_frame(nojs)
    parent_item = frame.locator(f"#engagement-comment-{parent.comment.id}")
    parent_item.get_by_role("link", name="Reply @Bea").click()
    expect(frame.get_by_role("heading", name="Reply @Bea")).to_be_visible()
    post_form(frame, "Here is my reply.")
    expect(parent_item.locator(".eg-replies")).to_contain_text("Here is my reply.")


def test_a_held_comment_from_the_frame_waits_for_a_moderator(nojs, engagement, publisher):
    nojs.goto(publisher.page("nojs.html", site="queued"))
    frame = thread_frame(nojs)
    post_form(frame, "Please approve me.")
    expect(frame.get_by_role("status")).to_contain_text("waiting for moderation")
    expect(frame.get_by_text("Please approve me.")).to_have_count(0)
    with engagement.core.uow() as uow:
        comment_id = uow.session.scalars(
            sa.select(Comment.id).where(Comment.body == "Please approve me.")
        ).one()
    approve_comment(engagement.core.uow(), comment_id)
    nojs.reload()
    expect(thread_frame(nojs).get_by_text("Please approve me.")).to_be_visible()
    with engagement.core.uow() as uow:
        kinds = uow.session.scalars(
            sa.select(OutboxEvent.kind).where(OutboxEvent.payload["comment_id"].as_integer() == comment_id)
        ).all()
    assert sorted(kinds) == sorted([COMMENT_PENDING, COMMENT_PUBLISHED])


def test_server_rendered_comments_are_readable_without_javascript(nojs, engagement, publisher):
    seed(engagement, "/ssr/static-read", body="Rendered by the server.")
    nojs.goto(publisher.page("ssr.html", page="/ssr/static-read"))
    expect(nojs.get_by_text("Rendered by the server.")).to_be_visible()
    expect(nojs.get_by_role("heading", name="1 Comment")).to_be_visible()


def test_the_widget_takes_over_server_rendered_comments_and_links_the_feed(
    page, engagement, publisher, page_errors, no_dialogs
):
    seed(engagement, "/ssr/take-over", author_name=XSS, body=f"Inert {XSS}")
    seed(engagement, "/ssr/take-over", body="Said once, shown once.")
    page.goto(publisher.page("ssr.html", page="/ssr/take-over"))
    wait_ready(page)
    expect(page.locator("[data-engagement-ssr]")).to_have_count(0)
    expect(page.locator(".eg-comment", has_text="Said once, shown once.")).to_have_count(1)
    expect(page.locator('script[type="application/ld+json"]')).to_have_count(1)
    feed = page.get_by_role("link", name="Follow in a feed reader")
    href = feed.get_attribute("href")
    assert href == f"{engagement.url}/feeds/daily/page.atom?page=%2Fssr%2Ftake-over"
    parsed = feedparser.parse(httpx.get(href).content)
    assert parsed.entries[0].content[0].value == "<p>Said once, shown once.</p>"
    assert len(parsed.entries) == 2


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_in_the_no_javascript_page(browser, engagement, scheme):
    parent = seed(
        engagement, "/nojs/axe", author_name="Bea", body="A *comment* with [a link](https://example.org)."
    )
    seed(engagement, "/nojs/axe", body="A reply.", parent=parent.comment.id)
    # JavaScript on only for axe itself, injected past the page's CSP.
    context = browser.new_context(bypass_csp=True, color_scheme=scheme)
    page = context.new_page()
    try:
        page.goto(f"{engagement.url}/embed/thread?site=daily&page=%2Fnojs%2Faxe&reply={parent.comment.id}")
        expect(page.get_by_role("heading", name="Reply @Bea")).to_be_visible()
        assert serious_violations(page) == []
    finally:
        context.close()
