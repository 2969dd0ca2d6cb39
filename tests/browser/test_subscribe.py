"""Subscribing from the widget: "Notify of" while commenting, and the bell with an e-mail alone."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from browser.support import main_form, open_widget, post_comment_ui, wait_ready
from engagement.models import Subscriber, Subscription

pytestmark = pytest.mark.browser


def wishes(engagement, email: str) -> list[tuple[str, str | None, bool]]:
    """(kind, cadence, confirmed) of every subscription an address holds."""
    with engagement.core.session_factory() as session:
        rows = session.execute(
            sa.select(Subscription.kind, Subscription.cadence, Subscriber.confirmed_at)
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .where(Subscriber.email == email)
            .order_by(Subscription.id)
        ).all()
    return [(kind, cadence, confirmed is not None) for kind, cadence, confirmed in rows]


def test_notify_of_while_commenting_asks_to_confirm(page, publisher, engagement, page_errors):
    open_widget(page, publisher.page(t="notify-of"))
    form = main_form(page)
    post_comment_ui(
        form, "Tell me when someone answers.", email="reader@example.org", notify="New replies to my comments"
    )
    expect(form.locator(".eg-status")).to_have_text(
        "Your comment is published. Check your inbox to confirm your e-mail address."
    )
    assert wishes(engagement, "reader@example.org") == [("replies", None, False)]
    # The address is remembered in this browser for the next comment, never shown in the thread.
    page.reload()
    wait_ready(page)
    expect(main_form(page).get_by_label("E-mail")).to_have_value("reader@example.org")
    expect(page.locator(".eg-widget")).not_to_contain_text("reader@example.org")


def test_the_bell_subscribes_with_an_email_alone(page, publisher, engagement, page_errors):
    open_widget(page, publisher.page(t="bell"))
    bell = page.locator(".eg-toolbar").get_by_role("button", name="Subscribe")
    expect(bell).to_have_attribute("aria-expanded", "false")
    bell.click()
    panel = page.get_by_role("form", name="Subscribe")
    expect(panel.get_by_label("E-mail")).to_be_focused()
    panel.get_by_role("button", name="Subscribe").click()
    expect(panel.locator(".eg-status")).to_have_text("That e-mail address does not look right.")
    panel.get_by_label("E-mail").fill("follower@example.org")
    panel.get_by_label("Send me").select_option(label="New comments on this page")
    panel.get_by_role("button", name="Subscribe").click()
    expect(panel.locator(".eg-status")).to_have_text(
        "Almost done: check your inbox to confirm your subscription."
    )
    panel.get_by_label("Send me").select_option(label="A weekly digest")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/subscriptions")):
        panel.get_by_role("button", name="Subscribe").click()
    expect(panel.locator(".eg-status")).to_have_text(
        "Almost done: check your inbox to confirm your subscription."
    )
    assert wishes(engagement, "follower@example.org") == [
        ("thread", None, False),
        ("digest", "weekly", False),
    ]
