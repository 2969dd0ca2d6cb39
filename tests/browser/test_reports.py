"""Reporting from the widget: every comment but the reader's own, a reason, a thank-you."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from browser.axe import serious_violations
from browser.support import card, main_form, open_widget, post_comment_ui, seed
from engagement.models import Report

pytestmark = pytest.mark.browser


def test_report_a_comment_with_a_reason(page, publisher, engagement, page_errors):
    url = publisher.page(t="report-widget")
    other = seed(engagement, url, body="Buy cheap watches here.")
    open_widget(page, url)
    post_comment_ui(main_form(page), "My own words.")
    expect(card(page, "My own words.").get_by_role("button", name="Report")).to_have_count(0)
    theirs = card(page, "Buy cheap watches here.")
    theirs.get_by_role("button", name="Report").click()
    theirs.get_by_label("Why report this comment?").select_option(label="Abuse or harassment")
    theirs.get_by_role("button", name="Send report").click()
    expect(theirs.get_by_role("status")).to_have_text("Thanks, a moderator will look at it.")
    expect(theirs.get_by_role("button", name="Report")).to_have_count(0)
    with engagement.core.uow() as uow:
        reasons = uow.session.scalars(
            sa.select(Report.reason).where(Report.comment_id == other.comment.id)
        ).all()
    assert reasons == ["abuse"]


def test_the_open_report_form_is_accessible(browser, browser_context_args, publisher, engagement):
    context = browser.new_context(**browser_context_args, bypass_csp=True)  # axe goes past the page's CSP
    page = context.new_page()
    try:
        url = publisher.page(t="report-axe")
        seed(engagement, url, body="Something to report.")
        open_widget(page, url)
        report = card(page, "Something to report.").get_by_role("button", name="Report", exact=True)
        report.click()
        expect(report).to_have_attribute("aria-expanded", "true")
        expect(page.get_by_label("Why report this comment?")).to_be_focused()
        assert serious_violations(page) == []
        page.get_by_role("button", name="Cancel").click()
        expect(report).to_be_focused()
    finally:
        context.close()
