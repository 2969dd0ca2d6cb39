"""Through a real worker on the real Redis: from a core call to a parsed mail, and faults."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import sqlalchemy as sa
from drive import ARTICLE, deliveries, subscribe

from engagement.models import Comment, Suppression
from engagement.services.delivery.deliveries import suppress
from engagement.services.delivery.relay import flush_notifications, sweep_unrelayed
from engagement.services.discussion.comments import PostComment, post_comment
from engagement.services.discussion.moderation import approve_comment
from engagement.services.sites import SiteChanges, update_site


def _post(live, **overrides):
    values = {
        "site": "daily",
        "page": ARTICLE,
        "page_title": "The article",
        "author_name": "Jane",
        "body": "Hi.",
    }
    values.update(overrides)
    return post_comment(live.core.uow(), PostComment(**values))


def _settle(live, sink, seconds=0.5):
    """Let confirmation events of the set-up pass through, then forget what they sent."""
    time.sleep(seconds)
    sink.handler.received.clear()


def _wait_rows(core, predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = deliveries(core)
        if predicate(rows):
            return rows
        time.sleep(0.05)
    raise AssertionError(f"deliveries never matched: {[(d.recipient, d.status, d.reason) for d in rows]}")


def test_recipients_headers_and_threading_end_to_end(live, sink):
    subscribe(live.core, "alice@example.org", page=ARTICLE)
    subscribe(live.core, "bob@example.org", page=ARTICLE, confirm=False)
    subscribe(live.core, "carol@example.org", page=ARTICLE)
    with live.core.uow() as uow:
        suppress(uow.session, "carol@example.org", reason="complained", detail=None, now=uow.now())
        uow.commit()
    top = _post(live, author_email="jane@example.org", notify="replies")
    subscribe(live.core, "jane@example.org", page=ARTICLE)  # confirms jane's replies wish too
    sink.wait_for(2)  # bob's and jane's confirmation mails
    _settle(live, sink, 0.2)

    reply = _post(
        live, parent=top.comment.id, author_name="Dan", author_email="dan@example.org", body="**Yes**"
    )

    received = sink.wait_for(2)
    time.sleep(0.3)
    assert sink.recipients() == {"alice@example.org": 1, "jane@example.org": 1}
    (to_jane,) = sink.to("jane@example.org")
    assert to_jane["Subject"] == "Dan replied to your comment on “The article”"
    assert to_jane["Message-ID"] == f"<comment-{reply.comment.id}@127.0.0.1>"
    assert to_jane["In-Reply-To"] == f"<comment-{top.comment.id}@127.0.0.1>"
    assert to_jane["References"].split()[-1] == f"<comment-{top.comment.id}@127.0.0.1>"
    assert "<strong>Yes</strong>" in to_jane.get_body(("html",)).get_content()
    assert "**Yes**" in to_jane.get_body(("plain",)).get_content()
    for message in (r.message for r in received):
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["List-Id"] == '"The Daily Example" <daily.127.0.0.1>'


def test_a_pending_comment_is_silent_until_approved(live, sink):
    subscribe(live.core, "alice@example.org", page=ARTICLE)
    update_site(live.core.uow(), "daily", SiteChanges(moderation="all"))
    _settle(live, sink)

    pending = _post(live, author_email="jane@example.org")
    (request,) = sink.wait_for(1)
    assert request.recipients == ["mod@example.org"]
    assert re.search(r"/m/\S+", request.message.get_body(("plain",)).get_content())
    time.sleep(0.3)
    assert len(sink.received) == 1

    approve_comment(live.core.uow(), pending.comment.id)

    sink.wait_for(3)
    time.sleep(0.3)
    assert sink.recipients() == {"mod@example.org": 1, "alice@example.org": 1, "jane@example.org": 1}


def test_451_then_accepted_is_delivered_once(live, sink):
    for address in ("alice@example.org", "bob@example.org"):
        subscribe(live.core, address, page=ARTICLE)
    _settle(live, sink)
    sink.handler.transient["bob@example.org"] = 2

    _post(live, author_email="jane@example.org")

    sink.wait_for(2)
    time.sleep(0.5)
    assert sink.recipients() == {"alice@example.org": 1, "bob@example.org": 1}
    (bob,) = [
        d for d in deliveries(live.core, recipient="bob@example.org") if d.template != "confirm_subscription"
    ]
    assert (bob.status, bob.attempts) == ("sent", 3)


def test_550_for_one_recipient_suppresses_it_and_the_others_are_delivered(live, sink):
    people = [f"reader{i}@example.org" for i in range(5)]
    for address in people:
        subscribe(live.core, address, page=ARTICLE)
    _settle(live, sink)
    sink.handler.refuse["reader2@example.org"] = "550 5.1.1 User unknown"

    _post(live, author_email="jane@example.org")

    sink.wait_for(4)
    _wait_rows(live.core, lambda rows: all(d.status in ("sent", "failed", "skipped") for d in rows))
    time.sleep(0.5)
    assert sorted(sink.recipients()) == [p for p in people if p != "reader2@example.org"]
    assert set(sink.recipients().values()) == {1}
    (refused,) = [
        d
        for d in deliveries(live.core, recipient="reader2@example.org")
        if d.template != "confirm_subscription"
    ]
    assert (refused.status, refused.reason, refused.attempts) == ("failed", "refused", 1)
    with live.core.uow() as uow:
        assert uow.session.scalars(sa.select(Suppression.email)).all() == ["reader2@example.org"]


def test_the_same_send_task_twice_in_parallel_sends_once(live, sink):
    people = [f"reader{i}@example.org" for i in range(20)]
    for address in people:
        subscribe(live.core, address, page=ARTICLE)
    _settle(live, sink)
    # Plan the mails without a worker's help, then hand the same batch to two tasks at once.
    live.core.on_commit = None
    _post(live, author_email="jane@example.org")
    sweep_unrelayed(live.core.uow(), older_than_seconds=0, window_seconds=0)
    ids = flush_notifications(live.core.uow())
    assert len(ids) == 20

    for _ in range(2):
        live.app.send_task("engagement.send", args=[ids], queue="send")

    sink.wait_for(20)
    _wait_rows(live.core, lambda rows: all(d.status == "sent" for d in rows if d.id in ids))
    time.sleep(0.5)
    assert len(sink.received) == 20
    assert set(sink.recipients().values()) == {1}


def test_beat_firing_a_digest_period_twice_sends_each_digest_once(live, sink):
    for address in ("alice@example.org", "bob@example.org", "carol@example.org"):
        subscribe(live.core, address, "digest", cadence="daily")
    _post(live, author_email="jane@example.org")
    # The digest period ends at the top of this hour; the comment is moved an hour back into it.
    update_site(live.core.uow(), "daily", SiteChanges(digest_hour=time.gmtime().tm_hour))
    _settle(live, sink)
    with live.core.uow() as uow:
        for comment in uow.session.scalars(sa.select(Comment)):
            comment.published_at -= timedelta(hours=1)
        uow.commit()

    for _ in range(2):
        live.app.send_task("engagement.digest_tick", queue="digest")
        live.app.send_task("engagement.digest", args=["daily", "daily"], queue="digest")

    sink.wait_for(3)
    time.sleep(1.0)
    assert sink.recipients() == {"alice@example.org": 1, "bob@example.org": 1, "carol@example.org": 1}
