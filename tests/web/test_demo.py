"""The demo's pages in-process: the article with the widget, the listing, the mailbox, digests now."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest
import sqlalchemy as sa

from engagement import links
from engagement.demo import ARTICLE_PATH, REPLIER, seed_demo
from engagement.models import Subscriber
from engagement.services.audience.subscriptions import SubscribeRequest, confirm_subscriber, subscribe
from engagement.web import create_app
from web.support import RecordingClient, body


@pytest.fixture
def demo(core):
    seed_demo(core, core.settings.base_url)
    with RecordingClient(
        create_app(core.settings, core, demo=True), base_url=core.settings.base_url
    ) as client:
        yield client


def write_mail(folder, base_url, name="abc123"):
    message = EmailMessage()
    message["From"] = "The Daily Example <engagement@localhost>"
    message["To"] = "reader@mail.example.net"
    message["Subject"] = "Confirm your subscription"
    message["List-Unsubscribe"] = f"<{base_url}/s/unsubscribe/TOKEN>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(f"Confirm: {base_url}/s/confirm/TOKEN\nElsewhere: https://example.org/x\n")
    message.add_alternative("<html><head></head><body><a href='x'>Confirm</a></body></html>", subtype="html")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.eml").write_bytes(message.as_bytes())


def test_demo_routes_exist_only_in_demo_mode(client):
    for path in ("/demo/article", "/demo/mail", "/demo/listing"):
        assert client.get(path).status_code == 404


def test_the_article_embeds_the_widget_and_marks_passages(demo):
    page = demo.get(ARTICLE_PATH)
    assert page.status_code == 200
    assert '<script src="/widget.js" data-site="demo" async></script>' in page.text
    assert '<div id="engagement-thread"' in page.text
    assert "<article data-engagement-article>" in page.text
    assert len(re.findall(r"data-engagement-passage=", page.text)) >= 3
    assert "script-src 'self'" in page.headers["content-security-policy"]
    thread = body(demo.get("/api/v1/comments", params={"site": "demo", "page": ARTICLE_PATH}))
    assert thread["page"]["comments"] == 7
    assert sum(thread["page"]["reactions"].values()) == 8
    assert any(c["replies"] for c in thread["comments"])
    assert any(c["anchor"] for c in thread["comments"])


def test_the_listing_uses_count_js(demo):
    page = demo.get("/demo/listing")
    assert '<script src="/count.js" data-site="demo" async></script>' in page.text
    assert "data-engagement-count" in page.text


def test_the_mailbox_lists_and_shows_mails(demo, core):
    assert "No mail yet" in demo.get("/demo/mail").text
    write_mail(core.settings.mail_dir, core.settings.base_url)
    listing = demo.get("/demo/mail")
    assert "Confirm your subscription" in listing.text
    shown = demo.get("/demo/mail/abc123")
    assert shown.status_code == 200
    assert '<a href="/s/confirm/TOKEN">' in shown.text
    assert '<a href="https://example.org' not in shown.text
    assert 'action="/s/unsubscribe/TOKEN"' in shown.text
    assert 'sandbox="' in shown.text
    html = demo.get("/demo/mail/abc123/html")
    assert '<base target="_top">' in html.text
    assert html.headers["x-frame-options"] == "SAMEORIGIN"
    assert "script-src" not in html.headers["content-security-policy"]
    assert demo.get("/demo/mail/nope").status_code == 404
    assert demo.get("/demo/mail/..%2Fsecret_key").status_code == 404


def test_send_a_digest_now(demo, core):
    nobody = demo.post("/demo/digest", data={"period": "daily"})
    assert nobody.status_code == 200
    assert "No daily digest to send" in nobody.text
    subscribe(core.uow(), SubscribeRequest(site="demo", email=REPLIER, kind="digest", cadence="weekly"))
    with core.session_factory() as session:
        subscriber_id = session.scalars(sa.select(Subscriber.id).where(Subscriber.email == REPLIER)).one()
    confirm_subscriber(core.uow(), links.confirm_token(core.keys, subscriber_id))
    sent = demo.post("/demo/digest", data={"period": "weekly"})
    assert "The weekly digest went out: 1 sent" in sent.text
    assert REPLIER in sent.text  # the demo's own mailbox shows recipients; the public API never does
    again = demo.post("/demo/digest", data={"period": "weekly"})
    assert "No weekly digest to send" in again.text
