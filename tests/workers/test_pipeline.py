"""From a core call to a parsed mail, run in line: recipients, re-checks, headers, threading."""

from __future__ import annotations

import re

import pytest
from drive import ARTICLE, deliver, deliveries, open_items, post, reply, subscribe

from engagement import links
from engagement.services.audience.subscriptions import confirm_subscriber, unsubscribe
from engagement.services.delivery.deliveries import suppress
from engagement.services.discussion.comments import delete_comment, edit_comment
from engagement.services.discussion.moderation import approve_comment
from engagement.services.sites import SiteChanges, update_site


@pytest.fixture
def settled(core, site, mailer, sink):
    """Subscribers made by a test have their confirmation events drained before it posts."""

    def settle() -> None:
        deliver(core, mailer)
        sink.handler.received.clear()

    return settle


def _suppress(core, email):
    with core.uow() as uow:
        suppress(uow.session, email, reason="bounced", detail="test", now=uow.now())
        uow.commit()


def test_follow_up_reaches_confirmed_subscribers_only_and_never_the_author(core, site, mailer, sink, settled):
    subscribe(core, "alice@example.org", page=ARTICLE)
    subscribe(core, "bob@example.org", page=ARTICLE, confirm=False)
    subscribe(core, "carol@example.org", page=ARTICLE)
    subscribe(core, "jane@example.org", page=ARTICLE)
    _suppress(core, "carol@example.org")
    settled()

    post(core, author_email="Jane@Example.org", author_name="Jane")
    deliver(core, mailer)

    assert sink.recipients() == {"alice@example.org": 1}
    (mail,) = sink.to("alice@example.org")
    assert mail["Subject"] == "Jane commented on “The article”"


def test_one_mail_per_recipient_however_many_rules_match(core, site, mailer, sink, settled):
    top = post(core, author_email="jane@example.org", notify="replies")
    subscribe(core, "jane@example.org", page=ARTICLE)  # follows the page too, and confirms
    settled()

    first = reply(core, top, author_email="bob@example.org")
    deliver(core, mailer)
    reply(core, first, author_email="carol@example.org", author_name="Carol")  # deeper in her subtree
    deliver(core, mailer)

    assert sink.recipients() == {"jane@example.org": 2}
    subjects = sorted(m["Subject"] for m in sink.to("jane@example.org"))
    assert subjects == [
        "Bob replied to your comment on “The article”",
        "Carol replied in a discussion you follow on “The article”",
    ]


def test_pending_comment_is_silent_until_approved_then_the_author_hears(core, site, mailer, sink, settled):
    subscribe(core, "alice@example.org", page=ARTICLE)
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    settled()

    pending = post(core, author_email="jane@example.org", body="Please *moderate* me.")
    deliver(core, mailer)

    assert sink.recipients() == {"mod@example.org": 1}
    (request,) = sink.to("mod@example.org")
    text = request.get_body(("plain",)).get_content()
    assert "Please *moderate* me." in text
    approve = re.search(r"Approve: (\S+)", text).group(1)
    assert approve.startswith(core.settings.base_url + "/m/")
    sink.handler.received.clear()

    approve_comment(core.uow(), pending.comment.id)
    deliver(core, mailer)

    assert sink.recipients() == {"alice@example.org": 1, "jane@example.org": 1}
    (notice,) = sink.to("jane@example.org")
    assert "is published" in notice["Subject"]


def test_every_mail_about_a_comment_links_to_it_as_the_widget_opens_it(core, site, mailer, sink, settled):
    subscribe(core, "alice@example.org", page=ARTICLE)
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    settled()
    pending = post(core, author_email="jane@example.org")
    deliver(core, mailer)
    sink.handler.received.clear()

    approve_comment(core.uow(), pending.comment.id)
    deliver(core, mailer)

    link = f"{ARTICLE}#engagement-comment-{pending.comment.id}"
    mails = [*sink.to("alice@example.org"), *sink.to("jane@example.org")]  # follow-up, approval notice
    assert len(mails) == 2
    for mail in mails:
        assert link in mail.get_body(("plain",)).get_content()
        assert f'href="{link}"' in mail.get_body(("html",)).get_content()


def test_confirmation_mail_carries_a_working_link(core, site, mailer, sink):
    subscriber_id = subscribe(core, "new@example.org", page=ARTICLE, confirm=False)

    deliver(core, mailer)

    (mail,) = sink.to("new@example.org")
    assert mail["Subject"] == "Confirm your subscription to The Daily Example"
    url = re.search(r"/s/confirm/(\S+)", mail.get_body(("plain",)).get_content())
    result = confirm_subscriber(core.uow(), url.group(1))
    assert not result.already_confirmed
    assert links.read_confirm_token(core.keys, url.group(1)) == subscriber_id


def test_every_mail_has_both_parts_and_the_list_headers(core, site, mailer, sink, settled):
    subscribe(core, "alice@example.org", page=ARTICLE)
    settled()

    post(core, author_email="jane@example.org")
    deliver(core, mailer)

    (mail,) = sink.to("alice@example.org")
    assert mail["From"].addresses[0].display_name == "The Daily Example"
    assert mail["List-Id"] == '"The Daily Example" <daily.127.0.0.1>'
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = mail["List-Unsubscribe"].strip("<>")
    assert unsubscribe_url.startswith(core.settings.base_url + "/s/unsubscribe/")
    assert re.fullmatch(r"<[^@\s]+@127\.0\.0\.1>", mail["Message-ID"])
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert unsubscribe_url in text
    assert f'href="{unsubscribe_url}"' in html
    assert "Help us grow. Support The Daily Example on Patreon!" in text
    assert "Help us grow. Support The Daily Example on Patreon!" in html
    assert "<style" not in html  # inlined
    assert "Precedence" not in mail


def test_reply_mails_thread_under_their_ancestors(core, site, mailer, sink, settled):
    top = post(core, author_email="jane@example.org", notify="replies")
    subscribe(core, "jane@example.org", "digest")  # confirms jane
    settled()

    first = reply(core, top, author_email="bob@example.org")
    deliver(core, mailer)
    second = reply(core, first, author_email="carol@example.org", author_name="Carol")
    deliver(core, mailer)

    by_id = {m["Message-ID"]: m for m in sink.to("jane@example.org")}
    domain = "127.0.0.1"
    ids = [top.comment.id, first.comment.id, second.comment.id]
    mail = by_id[f"<comment-{ids[2]}@{domain}>"]
    assert mail["In-Reply-To"] == f"<comment-{ids[1]}@{domain}>"
    page_root = mail["References"].split()[0]
    assert mail["References"].split() == [
        page_root,
        f"<comment-{ids[0]}@{domain}>",
        f"<comment-{ids[1]}@{domain}>",
    ]
    assert by_id[f"<comment-{ids[1]}@{domain}>"]["In-Reply-To"] == f"<comment-{ids[0]}@{domain}>"


def test_comments_within_the_window_go_out_as_one_mail(core, site, mailer, sink, settled, clock):
    subscribe(core, "alice@example.org", page=ARTICLE)
    settled()

    post(core, author_email="jane@example.org", body="First.")
    clock.advance(seconds=30)
    post(core, author_email="bob@example.org", author_name="Bob", body="Second.")
    deliver(core, mailer, window=120)
    assert sink.received == []
    assert len(open_items(core)) == 2

    clock.advance(seconds=91)
    deliver(core, mailer, window=120)

    (mail,) = sink.to("alice@example.org")
    assert mail["Subject"] == "2 new comments on “The article”"
    text = mail.get_body(("plain",)).get_content()
    assert text.index("First.") < text.index("Second.")


def test_a_comment_deleted_before_its_mail_leaves_is_not_announced(core, site, mailer, sink, settled, clock):
    subscribe(core, "alice@example.org", page=ARTICLE)
    settled()

    posted = post(core, author_email="jane@example.org")
    deliver(core, mailer, window=60)  # planned, not yet due
    delete_comment(core.uow(), posted.comment.id, posted.edit_token)
    clock.advance(seconds=61)
    deliver(core, mailer, window=60)

    assert sink.received == []
    (row,) = deliveries(core, template="thread_notification")
    assert (row.status, row.reason) == ("skipped", "deleted")


def test_an_address_that_unsubscribed_meanwhile_gets_nothing(core, site, mailer, sink, settled, clock):
    subscriber_id = subscribe(core, "alice@example.org", page=ARTICLE)
    settled()

    post(core, author_email="jane@example.org")
    deliver(core, mailer, window=60)
    unsubscribe(core.uow(), links.unsubscribe_token(core.keys, subscriber_id))
    clock.advance(seconds=61)
    deliver(core, mailer, window=60)

    assert sink.received == []
    (row,) = deliveries(core, template="thread_notification")
    assert (row.status, row.reason) == ("skipped", "unsubscribed")


def test_a_comment_sent_back_to_the_queue_is_asked_about_again(core, site, mailer, sink, settled):
    update_site(core.uow(), "daily", SiteChanges(moderation="all", banned_words=["casino"]))
    settled()
    posted = post(core, author_email="jane@example.org", body="First words.")
    deliver(core, mailer)
    approve_comment(core.uow(), posted.comment.id)
    deliver(core, mailer)

    edit_comment(core.uow(), posted.comment.id, posted.edit_token, "Visit my casino.")
    deliver(core, mailer)

    first, second = sink.to("mod@example.org")
    assert "First words." in first.get_body(("plain",)).get_content()
    assert "Visit my casino." in second.get_body(("plain",)).get_content()
    assert "contains the banned word" in second.get_body(("plain",)).get_content()
    assert len(sink.to("jane@example.org")) == 1  # approved once
