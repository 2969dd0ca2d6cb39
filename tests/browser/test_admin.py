"""The admin in Chromium: a password set by the one-time link, sign-in, queue, settings, sign-out, axe."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from browser.axe import serious_violations
from browser.support import open_widget, page_key, seed
from engagement import links
from engagement.mail.mailer import build_mailer
from engagement.models import Comment
from engagement.services.admin.admins import add_admin
from engagement.services.audience.subscriptions import add_subscription, confirm_subscriber
from engagement.services.delivery.deliveries import due_deliveries
from engagement.services.delivery.relay import flush_notifications, sweep_unrelayed
from engagement.services.delivery.sending import send_deliveries
from engagement.services.discussion.reports import report_comment
from engagement.services.pages import ensure_page
from engagement.services.sites import get_site
from tests.workers.mailsink import MailSink

pytestmark = pytest.mark.browser
PASSWORD = "a quiet harbour at dawn"


@pytest.fixture
def admin_page(browser: Browser, engagement) -> Iterator[Page]:
    """A fresh context that may inject axe-core despite the pages' CSP."""
    context: BrowserContext = browser.new_context(bypass_csp=True, viewport={"width": 1100, "height": 900})
    yield context.new_page()
    context.close()


def clean(page: Page) -> None:
    assert serious_violations(page) == [], page.url


def test_admin_flow(admin_page: Page, engagement, publisher, page):
    base = engagement.url
    link = add_admin(engagement.core.uow(), "owner@example.org", "owner")
    p = admin_page
    # The one-time link sets the password, then works no more.
    p.goto(f"{base}/admin/password/{link.token}")
    clean(p)
    p.get_by_label("New password").fill(PASSWORD)
    p.get_by_label("Repeat the password").fill(PASSWORD)
    p.get_by_role("button", name="Set password").click()
    expect(p.get_by_text("Your password is set.")).to_be_visible()
    clean(p)
    # A wrong password, then the right one.
    p.get_by_label("E-mail").fill("owner@example.org")
    p.get_by_label("Password").fill("not my password at all")
    p.get_by_role("button", name="Sign in").click()
    expect(p.get_by_role("alert")).to_have_text("Wrong e-mail address or password.")
    clean(p)
    p.get_by_label("Password").fill(PASSWORD)
    p.get_by_role("button", name="Sign in").click()
    expect(p.get_by_role("heading", name="Overview")).to_be_visible()
    clean(p)

    # The queue: two held comments approved in bulk, a third marked as spam.
    url = publisher.page(t="admin-queue", site="queued")
    held = [seed(engagement, url, site="queued", body=f"Held number {n}.") for n in range(3)]
    p.get_by_role("link", name="Queue").click()
    for posted in held[:2]:
        p.get_by_label(f"Select comment {posted.comment.id} by Grace").check()
    clean(p)
    p.get_by_role("button", name="Approve selected").click()
    expect(p.get_by_role("status")).to_have_text("2 comments approved.")
    p.get_by_role("button", name=f"Spam comment {held[2].comment.id}").click()
    expect(p.get_by_role("status")).to_have_text("1 comment marked as spam.")
    expect(p.get_by_text("Nothing here")).to_be_visible()

    # A published comment reported by three readers comes back to the queue with its reasons.
    daily = publisher.page(t="admin-reported")
    target = seed(engagement, daily, body="Reported soon.", reader_id="grace-reader-0001")
    for n in range(3):
        report_comment(
            engagement.core.uow(), target.comment.id, f"reporter-{n:04d}", "abuse", None, "127.0.0.1"
        )
    p.goto(f"{base}/admin/queue")
    item = p.locator(f"#comment-{target.comment.id}")
    expect(item).to_contain_text("reported by 3 readers")
    expect(item).to_contain_text("Reported 3 times: abuse (3)")
    p.get_by_role("link", name=f"Thread and author of comment {target.comment.id}").click()
    clean(p)
    p.get_by_role("button", name="Ban author").click()
    expect(p.get_by_role("status")).to_contain_text("banned and rejected")

    # A form on another site's page posts to the admin with the admin's cookie: refused.
    p.goto(publisher.page("listing.html"))
    p.set_content(
        f'<form method="post" action="{base}/admin/queue">'
        f'<input type="hidden" name="act" value="approve:{held[2].comment.id}">'
        '<input type="hidden" name="csrf" value="forged"><button>Win a prize</button></form>'
    )
    p.get_by_role("button", name="Win a prize").click()
    expect(p.get_by_role("alert")).to_have_text("This request comes from another site; it was refused.")
    with engagement.core.uow() as uow:
        assert uow.session.get(Comment, held[2].comment.id).status == "spam"
    p.goto(f"{base}/admin/queue")

    # Site settings show in the widget.
    p.get_by_role("link", name="Sites").click()
    clean(p)
    p.get_by_role("link", name="The Daily Example").click()
    clean(p)
    support = p.get_by_label("Support call to action")
    shipped = support.input_value()
    support.fill("Keep the Daily going on Patreon")
    p.get_by_role("button", name="Save settings").click()
    expect(p.get_by_text("Saved.")).to_be_visible()
    open_widget(page, publisher.page(t="admin-settings"))
    expect(page.get_by_text("Keep the Daily going on Patreon")).to_be_visible()
    # The site is shared with the other browser tests: put its words back.
    p.get_by_label("Support call to action").fill(shipped)
    p.get_by_role("button", name="Save settings").click()
    expect(p.get_by_text("Saved.")).to_be_visible()

    # Subscribers: look up an address and suppress it; deliveries; comments; sign out.
    p.get_by_role("link", name="Subscribers").click()
    p.get_by_label("E-mail address").fill("someone@example.net")
    p.get_by_role("button", name="Look up").click()
    clean(p)
    p.get_by_role("button", name="Suppress").click()
    expect(p.get_by_role("status")).to_have_text("someone@example.net suppressed.")
    expect(p.get_by_role("button", name="Unsuppress")).to_be_visible()
    for screen in ("Deliveries", "Comments", "Overview"):
        p.get_by_role("link", name=screen, exact=True).click()
        expect(p.get_by_role("heading", name=screen, exact=True)).to_be_visible()
        clean(p)
    p.emulate_media(color_scheme="dark")
    clean(p)
    p.get_by_role("button", name="Sign out").click()
    expect(p.get_by_text("You are signed out.")).to_be_visible()
    p.goto(f"{base}/admin/queue")
    expect(p.get_by_role("heading", name="Sign in")).to_be_visible()
    assert re.search(r"/admin/sign-in\?next=", p.url)


def deliver(core, mailer) -> None:
    """One pass of what the workers do: relay events, flush windows, send what is due."""
    ids = list(sweep_unrelayed(core.uow(), older_than_seconds=0, window_seconds=0).deliveries)
    ids += flush_notifications(core.uow())
    ids += due_deliveries(core.uow(), grace_seconds=0)
    send_deliveries(core.uow(), mailer, sorted(set(ids)))


def watch(core, page_url: str, email: str) -> None:
    uow = core.uow()
    with uow:
        site = get_site(uow.session, "queued")
        page = ensure_page(uow, site, page_url)
        subscriber = add_subscription(uow, site, email, "thread", page=page).subscription.subscriber_id
        uow.commit()
    confirm_subscriber(core.uow(), links.confirm_token(core.keys, subscriber))


def test_approval_mail_failure_unsuppress_and_retry(admin_page: Page, engagement, publisher):
    """Approving in bulk mails the page's subscriber and the author (through a real SMTP server);
    the author's server refuses at first, so the admin unsuppresses the address and retries."""
    base, core = engagement.url, engagement.core
    sink = MailSink().start()
    try:
        sink.handler.refuse["author@example.net"] = "550 5.1.1 No such mailbox"
        settings = core.settings.model_copy(update={"smtp_url": sink.url, "smtp_rate_per_second": 1000.0})
        mailer = build_mailer(settings, core.keys)
        deliver(core, mailer)  # what earlier tests left behind, so only this test's mail follows
        url = publisher.page(t="admin-mail", site="queued")
        author = {"site": "queued", "author_name": "Ada", "author_email": "author@example.net"}
        held = [seed(engagement, url, body=f"Please approve number {n}.", **author) for n in range(2)]
        watch(core, page_key(url), "watcher@example.net")
        add_admin(core.uow(), "mail-owner@example.org", "owner", password=PASSWORD)
        p = admin_page
        p.goto(f"{base}/admin/sign-in")
        p.get_by_label("E-mail").fill("mail-owner@example.org")
        p.get_by_label("Password").fill(PASSWORD)
        p.get_by_role("button", name="Sign in").click()
        p.goto(f"{base}/admin/queue?site=queued")
        for posted in held:
            p.get_by_label(f"Select comment {posted.comment.id} by Ada").check()
        p.get_by_role("button", name="Approve selected").click()
        expect(p.get_by_role("status")).to_have_text("2 comments approved.")

        deliver(core, mailer)
        notices = sink.to("watcher@example.net")
        assert len(notices) == 1
        assert "Please approve number" in notices[0].get_body(("plain",)).get_content()
        assert sink.to("author@example.net") == []

        # The author's server refused: the deliveries failed and the address is suppressed.
        p.get_by_role("link", name="Deliveries").click()
        p.get_by_label("Status").select_option("failed")
        p.get_by_label("Recipient").fill("author@example.net")
        p.get_by_role("button", name="Filter").click()
        expect(p.locator("tbody tr")).to_have_count(2)
        expect(p.locator("tbody")).to_contain_text("550 5.1.1 No such mailbox")
        clean(p)
        p.get_by_role("link", name="Subscribers").click()
        p.get_by_label("E-mail address").fill("author@example.net")
        p.get_by_role("button", name="Look up").click()
        p.get_by_role("button", name="Unsuppress").click()
        expect(p.get_by_role("status")).to_have_text("author@example.net unsuppressed.")

        sink.handler.refuse.clear()
        p.get_by_role("link", name="Deliveries").click()
        p.get_by_label("Status").select_option("failed")
        p.get_by_role("button", name="Filter").click()
        for box in p.locator("tbody input[type=checkbox]").all():
            box.check()
        p.get_by_role("button", name="Retry selected failed mail").click()
        expect(p.get_by_role("status")).to_have_text("2 queued again.")
        deliver(core, mailer)
        approved = sink.to("author@example.net")
        assert len(approved) == 2
        p.get_by_role("link", name="Admins").click()
        expect(p.get_by_role("cell", name="mail-owner@example.org", exact=True)).to_be_visible()
        clean(p)
    finally:
        sink.stop()
