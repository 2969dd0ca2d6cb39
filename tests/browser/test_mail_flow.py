"""The demo end to end: Notify of → confirm → follow-up → one-click unsubscribe; a reply's mail → the reply.

Everything runs as `engagement demo` runs it: the web app in this process, a real worker with
beat in a child process on the serverless broker, mail written to the demo's folder and read
back through the demo's mailbox pages, clicked by a reader in Chromium.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from browser.support import follow_link, main_form, open_mail, open_widget, post_comment_ui, wait_ready
from engagement.models import Subscriber, Subscription

pytestmark = [pytest.mark.browser, pytest.mark.slow]

READER = "reader@mail.example.net"


def subscriptions(demo, email: str) -> list[tuple[str, bool]]:
    with demo.core.session_factory() as session:
        rows = session.execute(
            sa.select(Subscription.kind, Subscriber.confirmed_at)
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .where(Subscriber.email == email)
        ).all()
    return [(kind, confirmed is not None) for kind, confirmed in rows]


def test_notify_confirm_notification_and_one_click_unsubscribe(page, browser, demo, page_errors):
    article = demo.url + "/demo/article"

    # 1. A reader comments and asks for new follow-up comments.
    open_widget(page, article)
    post_comment_ui(
        main_form(page),
        "Will the café stay open late too?",
        name="Rosa",
        email=READER,
        notify="New follow-up comments",
    )
    expect(main_form(page).locator(".eg-status")).to_have_text(
        "Your comment is published. Check your inbox to confirm your e-mail address."
    )
    assert subscriptions(demo, READER) == [("thread", False)]

    # 2. The confirmation mail arrives; its link leads to a page whose button confirms.
    open_mail(page, demo.url, READER, re.compile(r"Confirm your subscription to The Daily Example"))
    follow_link(page.locator("pre.mail a[href*='/s/confirm/']"))
    # The mail page's own heading names the subject too: wait until the link's page is there.
    page.wait_for_url(re.compile(r"/s/confirm/"), timeout=30_000)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your subscription")
    assert subscriptions(demo, READER) == [("thread", False)]  # opening the link changed nothing
    page.get_by_role("button", name="Confirm my subscription").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Subscription confirmed")
    assert subscriptions(demo, READER) == [("thread", True)]

    # 3. Another reader, in another browser, follows up: the subscriber is notified.
    other = browser.new_context()
    try:
        other_page = other.new_page()
        open_widget(other_page, article)
        post_comment_ui(main_form(other_page), "Until eleven, says the article.", name="Ilse")
        expect(main_form(other_page).locator(".eg-status")).to_have_text("Your comment is published.")
    finally:
        other.close()
    open_mail(page, demo.url, READER, re.compile(r"Ilse commented on"))
    expect(page.locator("pre.mail")).to_contain_text("Until eleven, says the article.")
    expect(page.locator("table")).to_contain_text("List-Unsubscribe-Post")

    # 4. The mail client's one-click unsubscribe (RFC 8058) ends the subscription at once.
    page.get_by_role("button", name="Unsubscribe with one click").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    expect(page.get_by_role("status")).to_contain_text("will receive no more")
    assert READER not in page.content()  # the page masks the address
    assert subscriptions(demo, READER) == []


def test_a_reply_to_my_comment_reaches_my_inbox(page, browser, demo):
    article = demo.url + "/demo/article"
    reader = "replies@mail.example.net"
    open_widget(page, article)
    post_comment_ui(
        main_form(page),
        "Is the café open on Fridays?",
        name="Noor",
        email=reader,
        notify="New replies to my comments",
    )
    expect(main_form(page).locator(".eg-status")).to_contain_text("Check your inbox to confirm")
    open_mail(page, demo.url, reader, re.compile(r"Confirm your subscription"))
    follow_link(page.locator("pre.mail a[href*='/s/confirm/']"))
    # The mail page's own heading names the subject too: wait until the link's page is there.
    page.wait_for_url(re.compile(r"/s/confirm/"), timeout=30_000)
    page.get_by_role("button", name="Confirm my subscription").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Subscription confirmed")

    other = browser.new_context()
    try:
        other_page = other.new_page()
        open_widget(other_page, article)
        mine = other_page.locator(".eg-thread > .eg-comment > .eg-card").filter(
            has_text="Is the café open on Fridays?"
        )
        mine.get_by_role("button", name="Reply to Noor").click()
        post_comment_ui(mine.locator("form"), "Yes, every weekday.", name="Omar")
        expect(other_page.locator(".eg-replies .eg-body", has_text="Yes, every weekday.")).to_be_visible()
    finally:
        other.close()
    open_mail(page, demo.url, reader, re.compile(r"Omar replied to your comment"))
    expect(page.locator("pre.mail")).to_contain_text("Yes, every weekday.")

    # "Read and reply" leads to the reply itself, focused in its thread.
    follow_link(page.locator("pre.mail a[href*='#engagement-comment-']"))
    wait_ready(page)
    expect(page.locator(".eg-thread .eg-card:focus > .eg-body")).to_have_text("Yes, every weekday.")
