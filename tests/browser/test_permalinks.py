"""A link to one comment shows that comment, however busy its thread, in either form mails used."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from browser.support import open_widget, page_key, seed
from engagement.services.discussion.comments import delete_comment
from engagement.services.discussion.permalinks import comment_url

pytestmark = pytest.mark.browser

GONE = "Sorry, the comment you followed a link to is not available: it may have been removed."


def test_a_mail_link_focuses_its_comment(page, publisher, engagement, page_errors):
    url = publisher.page(t="mail-link")
    posted = [seed(engagement, url, body=f"Comment {n}.").comment.id for n in range(3)]
    # The form mails carried before: it must keep working.
    open_widget(page, f"{url}#comment-{posted[1]}")
    target = page.locator(f"#engagement-comment-{posted[1]} > .eg-card")
    expect(target).to_be_focused()
    expect(target).to_have_class("eg-card eg-new")
    # The link mails carry now, followed while the page is open.
    page.goto(comment_url(page_key(url), posted[0]))
    expect(page.locator(f"#engagement-comment-{posted[0]} > .eg-card")).to_be_focused()


def test_a_link_to_the_60th_reply_of_a_busy_comment_draws_and_focuses_it(
    page, publisher, engagement, page_errors
):
    url = publisher.page(t="link-busy")
    top = seed(engagement, url, body="The busy one.", author_name="Ann").comment.id
    replies: list[int] = []
    for n in range(1, 66):
        parent = replies[9] if n == 60 else top  # the linked one answers an early reply
        posted = seed(engagement, url, body=f"Reply {n}.", author_name=f"Reader {n}", parent=parent)
        replies.append(posted.comment.id)
    open_widget(page, f"{url}#engagement-comment-{replies[59]}")

    target = page.locator(f"#engagement-comment-{replies[59]} > .eg-card")
    expect(target).to_be_focused()
    expect(target.locator(".eg-body")).to_have_text("Reply 60.")
    expect(page.locator(f"#engagement-comment-{replies[9]} > .eg-replies > .eg-comment")).to_have_count(1)
    thread = page.locator(f"#engagement-comment-{top}")
    shown = thread.locator(".eg-replies .eg-comment")
    expect(shown).to_have_count(60)
    expect(page.locator(".eg-linked")).to_have_count(0)  # its conversation was on the first page

    # The rest is one click away, each reply drawn once.
    thread.get_by_role("button", name="Show 5 more replies").click()
    expect(shown).to_have_count(65)
    order = [*range(1, 11), 60, *range(11, 60), *range(61, 66)]  # the 60th under the 10th
    expect(shown.locator(":scope > .eg-card > .eg-body")).to_have_text([f"Reply {n}." for n in order])


def test_a_link_to_a_deep_reply_far_down_a_busy_comment_draws_it_then_pages_on_without_repeats(
    page, publisher, engagement, page_errors
):
    url = publisher.page(t="link-far-down")
    top = seed(engagement, url, body="The busy one.", author_name="Ann").comment.id
    parents = {120: 3, 250: 120, 300: 250, 310: 250}  # reply 300 is four deep; 310 answers 250 too
    replies: dict[int, int] = {}
    for n in range(1, 321):
        parent = replies[parents[n]] if n in parents else top
        posted = seed(engagement, url, body=f"Reply {n}.", author_name=f"Reader {n}", parent=parent)
        replies[n] = posted.comment.id
    open_widget(page, f"{url}#engagement-comment-{replies[300]}")

    # The thread page's 50 oldest replies, and the linked one's chain past them: not all 300.
    target = page.locator(f"#engagement-comment-{replies[300]} > .eg-card")
    expect(target).to_be_focused()
    expect(target.locator(".eg-body")).to_have_text("Reply 300.")
    thread = page.locator(f"#engagement-comment-{top}")
    shown = thread.locator(".eg-replies .eg-comment")
    expect(shown).to_have_count(53)
    bodies = shown.locator(":scope > .eg-card > .eg-body")
    expect(bodies.nth(3)).to_have_text("Reply 120.")

    # Paging on draws each reply once, in its place.
    more = thread.locator(":scope > .eg-more-replies")
    for label, count in [(50, 103), (50, 152), (50, 202), (50, 251), (50, 300), (20, 320)]:
        expect(more).to_have_text(f"Show {label} more replies")
        more.click()
        expect(shown).to_have_count(count)
    expect(more).to_have_count(0)
    under_third = [120, 250, 300, 310]
    for n in under_third:
        expect(page.locator(f"#engagement-comment-{replies[n]}")).to_have_count(1)
    order = [1, 2, 3, *under_third, *(n for n in range(4, 321) if n not in under_third)]
    expect(bodies).to_have_text([f"Reply {n}." for n in order])


def test_a_link_to_a_comment_beyond_the_first_page(page, publisher, engagement, page_errors):
    url = publisher.page(t="link-far", limit="2")
    posted = [seed(engagement, url, body=f"Comment number {n}.").comment.id for n in range(5)]
    seed(engagement, url, body="An answer.", parent=posted[0])
    open_widget(page, f"{url}#engagement-comment-{posted[0]}")

    expect(page.locator(f"#engagement-comment-{posted[0]} > .eg-card")).to_be_focused()
    linked = page.locator(".eg-thread > .eg-comment").first
    expect(linked).to_have_class(re.compile(r"\beg-linked\b"))
    expect(linked.locator(":scope > .eg-tag")).to_have_text("The conversation you followed a link to")
    expect(linked.locator(".eg-replies .eg-body")).to_have_text(["An answer."])
    bodies = page.locator(".eg-thread > .eg-comment > .eg-card > .eg-body")
    expect(bodies).to_have_text(["Comment number 0.", "Comment number 4.", "Comment number 3."])

    # Paging on draws it no second time.
    page.get_by_role("button", name="View all comments").click()
    expect(bodies).to_have_text([f"Comment number {n}." for n in (0, 4, 3, 2, 1)])
    expect(page.get_by_role("button", name="Load more comments")).to_be_hidden()


def test_a_link_to_a_comment_not_shown_says_so(page, publisher, engagement, page_errors):
    url = publisher.page(t="link-gone")
    seed(engagement, url, body="Still here.")
    removed = seed(engagement, url, body="Taken back.")
    delete_comment(engagement.core.uow(), removed.comment.id, removed.edit_token)
    elsewhere = seed(engagement, publisher.page(t="link-elsewhere"), body="On another page.").comment.id
    for missing in (removed.comment.id, elsewhere, 987_654):
        page.goto("about:blank")  # a fresh load each time, not a jump within the page
        open_widget(page, f"{url}#comment-{missing}")
        expect(page.locator(".eg-loading")).to_have_text(GONE)
        expect(page.locator(".eg-widget > .eg-sr[aria-live=polite]")).to_have_text(GONE)
        expect(page.locator(".eg-thread > .eg-comment")).to_have_count(1)
