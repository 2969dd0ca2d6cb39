"""Replies of a busy comment: a thread page carries the oldest few, the rest are paged on request."""

from __future__ import annotations

import base64
import json

import pytest
from posting import ARTICLE, busy_thread, descendants, every_reply, ids, post, replies, reply, thread

from engagement.errors import CommentNotFound, InvalidInput
from engagement.services.discussion.comments import delete_comment
from engagement.services.discussion.thread_sql import REPLIES_PER_THREAD
from engagement.services.discussion.threads import RepliesQuery, list_replies
from engagement.services.discussion.votes import vote
from engagement.services.sites import SiteChanges, add_site


def test_a_thread_page_carries_the_oldest_replies_and_says_how_many_more(core, site, clock):
    quiet = post(core, body="quiet").comment.id
    reply(core, quiet)
    top, posted = busy_thread(core, extra=7)

    views = {v.id: v for v in thread(core).comments}
    busy = views[top]
    carried = descendants(busy)
    assert ids(carried) == posted[:REPLIES_PER_THREAD]
    assert busy.more_replies == 7
    assert busy.replies_cursor is not None
    assert views[quiet].more_replies == 0
    assert views[quiet].replies_cursor is None

    rest = every_reply(core, top, cursor=busy.replies_cursor)
    assert ids(rest) == posted[REPLIES_PER_THREAD:]
    known = {top, *ids(carried)}
    for view in rest:  # oldest first and flat: each one's parent is already shown
        assert view.replies == ()
        assert view.parent in known
        known.add(view.id)


def test_replies_page_through_the_whole_thread_once_each(core, site):
    top, posted = busy_thread(core, extra=0)
    assert ids(every_reply(core, top, limit=7)) == posted
    assert ids(replies(core, top, limit=100).replies) == posted
    assert replies(core, top, limit=100).next_cursor is None


def test_hidden_replies_are_left_out_and_placeholders_kept(core, site):
    top = post(core).comment.id
    kept = reply(core, top, body="kept")
    gone = reply(core, top, body="gone")
    under = reply(core, kept, body="under the kept one")
    delete_comment(core.uow(), gone.comment.id, gone.edit_token)
    delete_comment(core.uow(), kept.comment.id, kept.edit_token)  # has a reply: a placeholder
    shown = replies(core, top).replies
    assert ids(shown) == [kept.comment.id, under.comment.id]
    assert shown[0].deleted
    assert shown[0].author.name is None


def test_my_votes_in_the_replies(core, site):
    top = post(core).comment.id
    first = reply(core, top).comment.id
    second = reply(core, top).comment.id
    vote(core.uow(), second, "reader-1", -1)
    mine = {v.id: v.my_vote for v in replies(core, top, reader_id="reader-1").replies}
    assert mine == {first: 0, second: -1}
    assert {v.my_vote for v in replies(core, top).replies} == {0}


def test_only_a_top_level_comment_of_the_site_has_replies_to_page(core, site):
    add_site(core.uow(), "weekly", SiteChanges(name="The Weekly"))
    top = post(core).comment.id
    answer = reply(core, top).comment.id
    for comment_id in (answer, 999_999):
        with pytest.raises(CommentNotFound):
            replies(core, comment_id)
    with pytest.raises(CommentNotFound):
        list_replies(core.uow(), RepliesQuery(site="weekly", comment_id=top))
    with pytest.raises(CommentNotFound):
        list_replies(core.uow(), RepliesQuery(site="no\x00site", comment_id=top))


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"comment_id": 0}, "comment_id"),
        ({"cursor": "not a cursor"}, "cursor"),
    ],
)
def test_bad_reply_queries(core, site, overrides, field):
    top = post(core).comment.id
    query = {"site": "daily", "comment_id": top, **overrides}
    with pytest.raises(InvalidInput) as raised:
        list_replies(core.uow(), RepliesQuery(**query))
    assert raised.value.field == field


def test_a_thread_cursor_is_not_a_replies_cursor(core, site):
    top = post(core).comment.id
    post(core, page=ARTICLE)
    thread_cursor = thread(core, limit=1).next_cursor
    assert thread_cursor is not None
    with pytest.raises(InvalidInput):
        replies(core, top, cursor=thread_cursor)
    forged = base64.urlsafe_b64encode(json.dumps({"s": "replies", "k": [1, 2, 3]}).encode()).decode()
    with pytest.raises(InvalidInput):
        replies(core, top, cursor=forged.rstrip("="))
