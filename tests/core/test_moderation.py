"""Moderation: the rules at post time, moderators' actions, signed links, bans and the queue."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from posting import as_plain, events, ids, page_row, post, reply, row, thread
from support import table_rows

from engagement.errors import Banned, CommentNotFound, Conflict, InvalidInput, InvalidToken, SiteNotFound
from engagement.outbox import COMMENT_PENDING, COMMENT_PUBLISHED
from engagement.services.discussion.comments import delete_comment
from engagement.services.discussion.moderation import (
    approve_comment,
    ban_address,
    ban_author,
    banned_word,
    mark_spam,
    moderate_by_token,
    moderation_queue,
    moderation_token,
    reject_comment,
)
from engagement.services.sites import SiteChanges, update_site


def moderate(core, **changes):
    update_site(core.uow(), "daily", SiteChanges(**changes))


def test_policy_all_queues_every_comment_until_approved(core, site):
    moderate(core, moderation="all")
    waiting = post(core, author_email="jane@example.org")
    assert (waiting.status, waiting.comment.status) == ("pending", "pending")
    assert waiting.comment.html == "<p>A comment.</p>"  # the author sees what they wrote
    assert thread(core).comments == ()
    assert page_row(core).comment_count == 0
    assert events(core) == [(COMMENT_PENDING, {"comment_id": waiting.comment.id})]
    view = approve_comment(core.uow(), waiting.comment.id)
    assert view.status == "approved"
    assert ids(thread(core).comments) == [waiting.comment.id]
    assert page_row(core).comment_count == 1
    assert events(core)[-1] == (
        COMMENT_PUBLISHED,
        {"comment_id": waiting.comment.id, "after_moderation": True},
    )
    assert row(core, waiting.comment.id).published_at is not None


def test_policy_first_trusts_an_author_once_approved(core, site):
    moderate(core, moderation="first")
    first = post(core, author_email="jane@example.org", reader_id="jane-browser")
    assert first.status == "pending"
    assert row(core, first.comment.id).moderation_reason == "first comment by this author"
    assert post(core, author_email="jane@example.org").status == "pending"  # still not approved
    approve_comment(core.uow(), first.comment.id)
    assert post(core, author_email="Jane@Example.org").status == "approved"
    assert post(core, reader_id="jane-browser").status == "approved"
    assert post(core, author_email="someone@example.org", reader_id="new-browser").status == "pending"
    assert post(core).status == "pending"  # nobody to vouch for


def test_banned_words_are_whole_words_ignoring_case(core, site):
    moderate(core, banned_words=["Viagra", "cheap pills"])
    held = post(core, body="Buy VIAGRA today")
    assert held.status == "pending"
    assert row(core, held.comment.id).moderation_reason == "contains the banned word 'viagra'"
    assert post(core, body="Where are the CHEAP \n pills?").status == "pending"
    assert post(core, body="cheap pillsbury dough").status == "approved"
    assert post(core, body="Viagrafication is not a word").status == "approved"
    assert banned_word(["a.b"], "axb") is None
    assert banned_word(["a.b"], "x a.b y") == "a.b"
    assert banned_word([], "anything") is None


def test_too_many_links_go_to_the_queue(core, site):
    moderate(core, link_limit=2)
    assert post(core, body="[a](https://a.example) and https://b.example").status == "approved"
    held = post(core, body="[a](https://a.example) https://b.example www.c.example")
    assert held.status == "pending"
    assert row(core, held.comment.id).moderation_reason == "3 links (the limit is 2)"
    moderate(core, link_limit=0)
    assert post(core, body="see <https://a.example>").status == "pending"


def test_reject_and_spam(core, site):
    moderate(core, moderation="all")
    first, second = post(core), post(core)
    assert reject_comment(core.uow(), first.comment.id).status == "rejected"
    assert mark_spam(core.uow(), second.comment.id).status == "spam"
    assert thread(core).comments == ()
    assert page_row(core).comment_count == 0
    with pytest.raises(Conflict) as err:
        reject_comment(core.uow(), first.comment.id)
    assert err.value.reason == "this comment was already rejected"
    approve_comment(core.uow(), second.comment.id)  # a moderator may change their mind
    assert page_row(core).comment_count == 1


def test_withdrawing_a_published_comment_with_replies_leaves_a_placeholder(core, site):
    top = post(core)
    answer = reply(core, top)
    reject_comment(core.uow(), top.comment.id)
    (shown,) = thread(core).comments
    assert (shown.id, shown.deleted, shown.html, shown.author.name) == (top.comment.id, True, "", None)
    assert ids(shown.replies) == [answer.comment.id]
    assert page_row(core).comment_count == 1
    mark_spam(core.uow(), answer.comment.id)
    assert thread(core).comments == ()
    assert page_row(core).comment_count == 0
    approve_comment(core.uow(), answer.comment.id)
    assert ids(thread(core).comments[0].replies) == [answer.comment.id]
    assert row(core, top.comment.id).reply_count == 1


def test_approving_a_reply_brings_back_its_vanished_parent(core, site):
    top = post(core)
    moderate(core, moderation="all")
    waiting = reply(core, top)
    delete_comment(core.uow(), top.comment.id, top.edit_token)
    assert thread(core).comments == ()
    approve_comment(core.uow(), waiting.comment.id)
    (shown,) = thread(core).comments
    assert shown.deleted
    assert ids(shown.replies) == [waiting.comment.id]
    assert page_row(core).comment_count == 1


def test_actions_on_deleted_or_missing_comments(core, site):
    posted = post(core)
    delete_comment(core.uow(), posted.comment.id, posted.edit_token)
    before = table_rows(core)
    with pytest.raises(Conflict) as err:
        approve_comment(core.uow(), posted.comment.id)
    assert "deleted" in err.value.reason
    with pytest.raises(CommentNotFound):
        reject_comment(core.uow(), 9999)
    with pytest.raises(Conflict):
        approve_comment(core.uow(), post(core).comment.id)
    assert len(table_rows(core)["comments"]) == len(before["comments"]) + 1


def test_signed_links_act_once(core, site, clock):
    moderate(core, moderation="all")
    first, second = post(core), post(core)
    approve = moderation_token(core.keys, first.comment.id, "approve", clock.now)
    action, view = moderate_by_token(core.uow(), approve)
    assert (action, view.id, view.status) == ("approve", first.comment.id, "approved")
    with pytest.raises(Conflict) as err:
        moderate_by_token(core.uow(), approve)
    assert err.value.reason == "this comment was already approved"
    reject = moderation_token(core.keys, first.comment.id, "reject", clock.now)
    with pytest.raises(Conflict):
        moderate_by_token(core.uow(), reject)
    spam = moderation_token(core.keys, second.comment.id, "spam", clock.now)
    assert moderate_by_token(core.uow(), spam)[1].status == "spam"
    with pytest.raises(Conflict) as err:
        moderate_by_token(core.uow(), moderation_token(core.keys, second.comment.id, "approve", clock.now))
    assert err.value.reason == "this comment was already marked as spam"


def test_bad_signed_links_change_nothing(core, site, clock):
    moderate(core, moderation="all")
    waiting = post(core)
    old = moderation_token(core.keys, waiting.comment.id, "approve", clock.now - timedelta(days=7, seconds=1))
    other_purpose = core.keys.sign("unsubscribe", {"comment": waiting.comment.id, "action": "approve"})
    forged = core.keys.sign("moderate", {"comment": waiting.comment.id, "action": "delete", "issued": 0})
    good = moderation_token(core.keys, waiting.comment.id, "approve", clock.now)
    before = table_rows(core)
    for token in (old, other_purpose, forged, good[:-3] + "abc", "", "garbage"):
        with pytest.raises(InvalidToken):
            moderate_by_token(core.uow(), token)
    missing = moderation_token(core.keys, 9999, "approve", clock.now)
    with pytest.raises(CommentNotFound):
        moderate_by_token(core.uow(), missing)
    with pytest.raises(InvalidInput):
        moderation_token(core.keys, waiting.comment.id, "delete")
    assert table_rows(core) == before
    clock.advance(days=6)
    assert moderate_by_token(core.uow(), good)[0] == "approve"


def test_ban_address(core, site):
    ban_address(core.uow(), "daily", "Troll@Example.org", "abuse")
    ban_address(core.uow(), "daily", "troll@example.org")  # twice is fine
    before = table_rows(core)
    with pytest.raises(Banned):
        post(core, author_email="troll@example.org")
    assert table_rows(core) == before
    with pytest.raises(InvalidInput):
        ban_address(core.uow(), "daily", "not an address")
    with pytest.raises(SiteNotFound):
        ban_address(core.uow(), "nowhere", "troll@example.org")
    assert table_rows(core) == before


def test_ban_author_by_reader_and_address(core, site):
    anonymous = post(core, reader_id="anon-browser")
    named = post(core, reader_id="named-browser", author_email="named@example.org")
    ban_author(core.uow(), anonymous.comment.id, "spam run")
    ban_author(core.uow(), named.comment.id)
    ban_author(core.uow(), anonymous.comment.id)  # twice is fine
    for attempt in (
        {"reader_id": "anon-browser"},
        {"reader_id": "named-browser"},
        {"author_email": "named@example.org", "reader_id": "fresh-browser"},
    ):
        with pytest.raises(Banned):
            post(core, **attempt)
    assert post(core, reader_id="innocent").status == "approved"
    delete_comment(core.uow(), named.comment.id, named.edit_token)
    with pytest.raises(Conflict):
        ban_author(core.uow(), named.comment.id)


def test_moderation_queue(core, site, clock):
    moderate(core, moderation="all")
    first = post(core, author_email="jane@example.org", body="Please *approve*", page_title="The article")
    clock.advance(minutes=1)
    second = post(core, page="https://news.example.org/other")
    bot = post(core, honeypot="gotcha")
    queue = moderation_queue(core.uow(), "daily")
    assert [item.comment.id for item in queue] == [first.comment.id, second.comment.id]
    item = queue[0]
    assert (item.body, item.comment.html, item.reason) == (
        "Please *approve*",
        "<p>Please <em>approve</em></p>",
        "every comment is moderated on this site",
    )
    assert (item.page_key, item.page_title) == ("/2026/11/the-article", "The article")
    assert "@" not in json.dumps(as_plain(queue))
    assert [i.comment.id for i in moderation_queue(core.uow(), "daily", status="spam")] == [bot.comment.id]
    approve_comment(core.uow(), first.comment.id)
    assert [i.comment.id for i in moderation_queue(core.uow(), "daily")] == [second.comment.id]
    with pytest.raises(InvalidInput):
        moderation_queue(core.uow(), "daily", status="approved")
