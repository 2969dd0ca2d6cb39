"""A permalink's comment in its thread: the top-level comment with every reply up to the linked one."""

from __future__ import annotations

import pytest
from posting import ARTICLE, busy_thread, descendants, every_reply, ids, post, reply, thread
from support import make_comment, make_page

from engagement.errors import CommentNotFound, InvalidInput
from engagement.services.discussion.comments import delete_comment
from engagement.services.discussion.permalinks import ContextQuery, comment_context, comment_url
from engagement.services.discussion.thread_sql import CONTEXT_MAX_REPLIES, REPLIES_PER_THREAD
from engagement.services.discussion.votes import vote
from engagement.services.sites import SiteChanges, add_site


def context(core, linked, **overrides):
    query = {"site": "daily", "page": ARTICLE, "comment_id": linked, **overrides}
    return comment_context(core.uow(), ContextQuery(**query))


def test_a_comment_url_names_the_widgets_own_anchor():
    assert comment_url("https://news.example.org/a", 42) == "https://news.example.org/a#engagement-comment-42"


def test_a_reply_past_the_first_page_comes_with_every_reply_before_it(core, site):
    top, posted = busy_thread(core, extra=12)
    linked = posted[REPLIES_PER_THREAD + 7]

    view = context(core, linked)

    assert view.id == top
    assert ids(descendants(view)) == posted[: REPLIES_PER_THREAD + 8]
    assert view.more_replies == 4
    # The cursor goes on after the linked reply, as the replies route reads it.
    assert ids(every_reply(core, top, cursor=view.replies_cursor)) == posted[REPLIES_PER_THREAD + 8 :]


def test_a_reply_far_down_a_busy_comment_comes_with_a_pages_replies_and_its_chain(
    core, site, count_statements
):
    top = post(core, body="the busy one").comment.id
    # Reply 300 answers reply 250, which answers reply 120 (deleted since), which answers reply 5.
    parents = {119: 4, 249: 119, 299: 249}
    posted = []
    for i in range(320):
        posted.append(reply(core, posted[parents[i]] if i in parents else top, body=f"reply {i + 1}"))
    delete_comment(core.uow(), posted[119].comment.id, posted[119].edit_token)
    posted_ids = [p.comment.id for p in posted]
    chain = [posted_ids[i] for i in (119, 249, 299)]

    count_statements.count = 0
    view = context(core, chain[-1])

    # The comment, the linked reply's place (counted up to the bound), a page's replies, the chain.
    assert count_statements.count == 4
    assert ids(descendants(view)) == [*posted_ids[:REPLIES_PER_THREAD], *chain]
    assert ids(view.replies) == posted_ids[:REPLIES_PER_THREAD]
    fifth = view.replies[4]
    assert ids(fifth.replies) == chain[:1]
    assert fifth.replies[0].deleted
    assert ids(fifth.replies[0].replies) == chain[1:2]
    assert ids(fifth.replies[0].replies[0].replies) == chain[2:]
    # More replies and their cursor go on from the page's replies, as the thread's do.
    [shown] = thread(core).comments
    assert (view.more_replies, view.replies_cursor) == (shown.more_replies, shown.replies_cursor)
    assert view.more_replies == 320 - REPLIES_PER_THREAD
    assert ids(every_reply(core, top, cursor=view.replies_cursor)) == posted_ids[REPLIES_PER_THREAD:]

    # Up to the bound, every reply up to the linked one, as before.
    last_whole = context(core, posted_ids[CONTEXT_MAX_REPLIES - 1])
    assert ids(descendants(last_whole)) == posted_ids[:CONTEXT_MAX_REPLIES]
    assert last_whole.more_replies == 320 - CONTEXT_MAX_REPLIES
    first_past = context(core, posted_ids[CONTEXT_MAX_REPLIES])
    assert ids(descendants(first_past)) == [*posted_ids[:REPLIES_PER_THREAD], posted_ids[CONTEXT_MAX_REPLIES]]


def test_an_early_reply_or_the_top_level_comment_comes_as_a_thread_page_shows_it(core, site):
    top, posted = busy_thread(core, extra=3)
    [shown] = thread(core).comments
    assert context(core, posted[2]) == shown
    assert context(core, top) == shown
    last = posted[-1]
    assert ids(descendants(context(core, last))) == posted
    assert context(core, last).more_replies == 0
    assert context(core, last).replies_cursor is None


def test_a_top_level_comment_beyond_the_first_page(core, site):
    first = post(core, body="the oldest").comment.id
    for n in range(30):
        post(core, body=f"later {n}")
    answer = reply(core, first, body="an answer").comment.id
    assert first not in ids(thread(core, limit=20).comments)
    view = context(core, first)
    assert view.id == first
    assert ids(view.replies) == [answer]
    assert context(core, answer).id == first


def test_the_readers_votes_are_shown(core, site):
    top = post(core).comment.id
    answer = reply(core, top).comment.id
    vote(core.uow(), answer, "reader-1", 1)
    view = context(core, answer, reader_id="reader-1")
    assert view.replies[0].my_vote == 1
    assert context(core, answer).replies[0].my_vote == 0


@pytest.mark.parametrize("status", ["pending", "deleted", "spam", "rejected"])
def test_an_unpublished_comment_is_not_found(core, site, status):
    hidden = make_comment(core, make_page(core, site, ARTICLE), status=status)
    with pytest.raises(CommentNotFound):
        context(core, hidden.id)


def test_a_reply_under_a_deleted_comment_stays_linkable(core, site):
    top = post(core)
    answer = reply(core, top, body="Still here.").comment.id
    delete_comment(core.uow(), top.comment.id, top.edit_token)  # has a reply: a placeholder
    view = context(core, answer)
    assert view.deleted
    assert view.author.name is None
    assert view.html == ""
    assert ids(view.replies) == [answer]
    with pytest.raises(CommentNotFound):
        context(core, top.comment.id)


def test_only_on_its_own_page_of_its_own_site(core, site):
    add_site(core.uow(), "weekly", SiteChanges(name="The Weekly"))
    linked = post(core).comment.id
    for overrides in (
        {"page": "https://news.example.org/2026/11/another"},
        {"site": "weekly"},
        {"site": "no\x00site"},
        {"comment_id": 987_654},
    ):
        with pytest.raises(CommentNotFound):
            context(core, linked, **overrides)
    # The page as the widget sends it: tracking tags and a fragment make no difference.
    assert context(core, linked, page=ARTICLE + "?utm_source=mail#engagement-comment-1").id == linked


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"comment_id": 0}, "comment_id"), ({"site": ""}, "site"), ({"page": ""}, "page")],
)
def test_bad_context_queries(core, site, overrides, field):
    with pytest.raises(InvalidInput) as raised:
        context(core, 1, **overrides)
    assert raised.value.field == field
