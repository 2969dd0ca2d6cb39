"""Every mail's one-click link works: moderators stop moderation mails, authors approval notices."""

from __future__ import annotations

from drive import ARTICLE, deliver, deliveries, post, reply, subscribe

from engagement.services.audience.optouts import unsubscribe_by_link
from engagement.services.discussion.moderation import approve_comment
from engagement.services.sites import SiteChanges, get_site, update_site


def unsubscribe_link(core, mail) -> str:
    """The mail's List-Unsubscribe link, checked against both parts and RFC 8058; its token."""
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = mail["List-Unsubscribe"].strip("<>")
    assert url.startswith(core.settings.base_url + "/s/unsubscribe/")
    assert url in mail.get_body(("plain",)).get_content()
    assert f'href="{url}"' in mail.get_body(("html",)).get_content()
    return url.rsplit("/", 1)[1]


def test_every_kind_of_mail_carries_the_one_click_headers_and_link(core, site, mailer, sink):
    subscribe(core, "alice@example.org", page=ARTICLE, confirm=False)  # confirmation mail
    deliver(core, mailer)
    subscribe(core, "alice@example.org", page=ARTICLE)
    top = post(core, author_email="bob@example.org", notify="replies")
    subscribe(core, "bob@example.org", "digest")  # confirms bob: he hears of replies
    deliver(core, mailer)
    reply(core, top, author_email="carol@example.org")  # thread mail to alice, reply mail to bob
    deliver(core, mailer)
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    pending = post(core, author_email="dora@example.org")  # moderation request to mod
    deliver(core, mailer)
    approve_comment(core.uow(), pending.comment.id)  # approval notice to dora
    deliver(core, mailer)

    templates = {d.template for d in deliveries(core, status="sent")}
    assert templates == {
        "confirm_subscription", "thread_notification", "reply_notification", "moderation_request",
        "comment_approved",
    }  # fmt: skip
    for mail in sink.messages():
        unsubscribe_link(core, mail)


def test_a_moderator_who_unsubscribes_gets_no_more_moderation_mails(core, site, mailer, sink):
    update_site(
        core.uow(), "daily", SiteChanges(moderation="all", moderator_emails=["Mod@example.org", "x@e.org"])
    )
    post(core, author_email="jane@example.org")
    deliver(core, mailer)
    (request,) = sink.to("mod@example.org")
    token = unsubscribe_link(core, request)
    post(core, author_email="jane@example.org")  # committed before the click, relayed after
    sink.handler.received.clear()

    result = unsubscribe_by_link(core.uow(), token)
    again = unsubscribe_by_link(core.uow(), token)

    assert (result.removed, again.removed) == (1, 0)
    assert result.email_masked == "m***@example.org"
    with core.uow() as uow:
        assert get_site(uow.session, "daily").moderator_emails == ["x@e.org"]
    deliver(core, mailer)
    post(core, author_email="jane@example.org")
    deliver(core, mailer)
    assert sink.recipients() == {"x@e.org": 2}


def test_an_author_who_unsubscribes_gets_no_more_approval_notices(core, site, mailer, sink):
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    first = post(core, author_email="jane@example.org")
    approve_comment(core.uow(), first.comment.id)
    deliver(core, mailer)
    (notice,) = sink.to("jane@example.org")
    token = unsubscribe_link(core, notice)
    later = post(core, author_email="jane@example.org", body="Another one.")
    approve_comment(core.uow(), later.comment.id)  # planned before the click: re-checked at send time

    assert unsubscribe_by_link(core.uow(), token).removed == 1
    assert unsubscribe_by_link(core.uow(), token).removed == 0
    sink.handler.received.clear()
    deliver(core, mailer)

    assert sink.to("jane@example.org") == []
    (skipped,) = deliveries(core, template="comment_approved", status="skipped")
    assert skipped.reason == "unsubscribed"
