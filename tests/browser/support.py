"""Helpers of the browser tests: open the widget, seed a thread through the core, find things."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import Locator, Page

from engagement.services.discussion.comments import PostComment, PostedComment, post_comment
from engagement.services.discussion.votes import vote


def wait_ready(page: Page) -> None:
    """Wait until the widget has drawn its thread (a DOM mark: no script eval, which a CSP forbids)."""
    page.wait_for_selector("#engagement-thread[data-engagement-ready]", state="attached", timeout=15_000)


def open_widget(page: Page, url: str) -> Page:
    """Load a publisher page and wait until the widget has drawn its thread."""
    page.goto(url)
    wait_ready(page)
    return page


def page_key(url: str) -> str:
    """What the widget sends as the page: the URL without its fragment."""
    return url.split("#", 1)[0]


def seed(server: Any, url: str, **values: Any) -> PostedComment:
    """A comment written through the core, as another reader would have posted it."""
    fields = {"site": "daily", "page": page_key(url), "author_name": "Grace", "body": "A seeded comment."}
    fields.update(values)
    return post_comment(server.core.uow(), PostComment(**fields))


def seed_votes(server: Any, comment_id: int, value: int, readers: int) -> None:
    for n in range(readers):
        vote(server.core.uow(), comment_id, f"seed-reader-{comment_id}-{n:04d}", value)


def main_form(page: Page) -> Locator:
    return page.locator(".eg-widget > form.eg-form").first


def post_comment_ui(form: Locator, body: str, name: str = "Ada", email: str = "", notify: str = "") -> None:
    """Fill a comment form as a reader does and press its submit button."""
    form.get_by_label("Comment", exact=True).fill(body)
    form.get_by_label("Name").fill(name)
    form.get_by_label("E-mail").fill(email)
    if notify:
        form.get_by_label("Notify of").select_option(label=notify)
    form.locator("button[type=submit]").click()


def comment(page: Page, text: str) -> Locator:
    """The main thread's comment whose own body contains ``text``."""
    return page.locator(".eg-thread .eg-comment").filter(
        has=page.locator(":scope > .eg-card > .eg-body", has_text=text)
    )


def card(page: Page, text: str) -> Locator:
    return comment(page, text).locator(":scope > .eg-card")


def follow_link(link: Locator) -> None:
    """Follow a link of a demo mail's text part as a keyboard user does: focus it, press Enter.

    Not a mouse click: the text part sits below the HTML part's sandboxed frame, which Chromium
    runs in a process of its own; right after scrolling the link into view, a busy Chromium can
    still route the click by where the frame was before the scroll, so the frame gets it and
    nothing happens. A key press goes to the focused link whatever the layout.
    """
    link.focus()
    link.press("Enter")


def open_mail(page: Page, base_url: str, recipient: str, subject: re.Pattern[str], wait: float = 45) -> None:
    """Wait for a mail in the demo mailbox (reloading it, as a reader would) and open it."""
    deadline = time.monotonic() + wait
    while True:
        page.goto(base_url + "/demo/mail")
        link = page.get_by_role("link", name=subject)
        row = page.locator("tbody tr").filter(has_text=recipient).filter(has=link)
        if row.count():
            row.first.get_by_role("link", name=subject).click()
            return
        assert time.monotonic() < deadline, f"no mail to {recipient} matching {subject.pattern}"
        page.wait_for_timeout(500)
