"""Thread reads: order, cursor walks, passages, tallies, counts, and a fixed cost in statements."""

from __future__ import annotations

import base64
import json
from collections import Counter

import pytest
import sqlalchemy as sa
from posting import ARTICLE, as_plain, ids, post, reply, thread, walk
from support import table_rows

from engagement.errors import InvalidInput, SiteNotFound
from engagement.models import Comment, Page
from engagement.services.discussion.comments import delete_comment
from engagement.services.discussion.public import Anchor
from engagement.services.discussion.reactions import react
from engagement.services.discussion.threads import page_counts, passage_counts
from engagement.services.discussion.votes import vote
from engagement.services.sites import SiteChanges, cached_settings, update_site
from engagement.thread_cache import ThreadCache, TimedCache


def set_score(core, comment_id, score):
    with core.uow() as uow:
        uow.session.execute(sa.update(Comment).where(Comment.id == comment_id).values(score=score))
        uow.commit()


def test_a_page_nobody_engaged_with_is_an_empty_thread(core, site):
    view = thread(core, page=ARTICLE + "#comments", reader_id="r1")
    assert view.comments == ()
    assert view.next_cursor is None
    assert view.page.comments == 0
    assert view.page.url == ARTICLE
    assert view.page.reactions == {"like": 0, "love": 0, "haha": 0, "wow": 0, "sad": 0, "angry": 0}
    assert view.page.my_reaction is None
    with core.uow() as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Page)) == 0


def test_unknown_site(core, site):
    with pytest.raises(SiteNotFound):
        thread(core, site="nowhere")
    with pytest.raises(SiteNotFound):
        page_counts(core.uow(), "nowhere", ["/a"])
    with pytest.raises(SiteNotFound):
        page_counts(core.uow(), "nowhere", [])
    for impossible in ("bad\x00key", "daily\n", "x" * 65):  # never sent to the database
        with pytest.raises(SiteNotFound):
            thread(core, site=impossible)
        with pytest.raises(SiteNotFound):
            page_counts(core.uow(), impossible, ["/a"])


def test_sort_orders_and_replies_oldest_first(core, site, clock):
    first = post(core, body="first")
    clock.advance(minutes=1)
    second = post(core, body="second")
    clock.advance(minutes=1)
    third = post(core, body="third")
    clock.advance(minutes=1)
    late_reply = reply(core, first, body="later reply")
    clock.advance(minutes=1)
    later_reply = reply(core, first, body="even later")
    set_score(core, second.comment.id, 5)
    set_score(core, first.comment.id, -1)
    assert ids(thread(core).comments) == [third.comment.id, second.comment.id, first.comment.id]
    assert ids(thread(core, sort="oldest").comments) == [
        first.comment.id,
        second.comment.id,
        third.comment.id,
    ]
    assert ids(thread(core, sort="top").comments) == [second.comment.id, third.comment.id, first.comment.id]
    shown = thread(core, sort="oldest").comments[0]
    assert ids(shown.replies) == [late_reply.comment.id, later_reply.comment.id]
    assert shown.reply_count == 2
    assert shown.score == -1


def test_unpublished_comments_are_not_shown(core, site):
    shown = post(core)
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    post(core, body="waiting")
    reply(core, shown, body="waiting reply")
    post(core, body="bot", honeypot="filled")
    view = thread(core)
    assert ids(view.comments) == [shown.comment.id]
    assert view.comments[0].replies == ()
    assert view.page.comments == 1


@pytest.mark.parametrize("sort", ["newest", "oldest", "top"])
def test_cursor_walk_shows_every_comment_exactly_once_while_comments_arrive(core, site, clock, sort):
    posted = []
    for i in range(23):
        if i % 3:  # runs of equal timestamps: the id must break ties
            clock.advance(seconds=1)
        posted.append(post(core, body=f"comment {i}"))
    existing = [p.comment.id for p in posted]
    for i, comment_id in enumerate(existing):
        set_score(core, comment_id, (i * 7) % 5 - 2)
    # Placeholders with replies belong to the walk; comments deleted without replies do not.
    answered, lonely = existing[4], existing[9]
    answer = reply(core, answered)
    delete_comment(core.uow(), answered, posted[4].edit_token)
    delete_comment(core.uow(), lonely, posted[9].edit_token)
    expected = [i for i in existing if i != lonely]
    seen: list[int] = []
    cursor = None
    arrivals = []
    for step in range(100):
        view = thread(core, sort=sort, limit=5, cursor=cursor)
        seen.extend(ids(view.comments))
        if step == 1:
            clock.advance(seconds=1)
            arrivals = [post(core, body=f"new {n}").comment.id for n in range(3)]
        cursor = view.next_cursor
        if cursor is None:
            break
    counts = Counter(seen)
    assert all(counts[i] == 1 for i in expected), counts
    assert all(counts[i] <= 1 for i in arrivals)
    assert set(seen) <= set(expected) | set(arrivals)
    if sort == "oldest":
        assert all(counts[i] == 1 for i in arrivals)
    placeholder = next(c for page in walk(core, sort=sort) for c in page.comments if c.id == answered)
    assert placeholder.deleted
    assert ids(placeholder.replies) == [answer.comment.id]


def test_walk_with_a_passage_filter(core, site):
    on_p1 = [post(core, anchor=Anchor(passage="p1")).comment.id for _ in range(7)]
    on_p2 = post(core, anchor=Anchor(passage="p2", exact="words")).comment.id
    quoted = post(core, anchor=Anchor(exact="selected text")).comment.id
    plain = post(core).comment.id
    reply(core, on_p1[0])
    pages = walk(core, passage="p1", limit=3)
    assert [len(p.comments) for p in pages] == [3, 3, 1]
    assert sorted(i for p in pages for i in ids(p.comments)) == on_p1
    assert sorted(ids(thread(core, passage="*", limit=100).comments)) == sorted([*on_p1, on_p2, quoted])
    assert plain in ids(thread(core, limit=100).comments)
    assert passage_counts(core.uow(), "daily", ARTICLE) == {"p1": 8, "p2": 1}
    assert passage_counts(core.uow(), "daily", "/never-seen") == {}


def test_reactions_and_my_votes_in_the_thread(core, site):
    top = post(core)
    answer = reply(core, top)
    react(core.uow(), "daily", ARTICLE, "reader-1", "love")
    react(core.uow(), "daily", ARTICLE, "reader-2", "love")
    react(core.uow(), "daily", ARTICLE, "reader-3", "wow")
    vote(core.uow(), top.comment.id, "reader-1", 1)
    vote(core.uow(), answer.comment.id, "reader-1", -1)
    vote(core.uow(), answer.comment.id, "reader-2", -1)
    mine = thread(core, reader_id="reader-1")
    assert mine.page.reactions == {"like": 0, "love": 2, "haha": 0, "wow": 1, "sad": 0, "angry": 0}
    assert mine.page.my_reaction == "love"
    (shown,) = mine.comments
    assert (shown.score, shown.my_vote) == (1, 1)
    assert (shown.replies[0].score, shown.replies[0].my_vote) == (-2, -1)
    anonymous = thread(core)
    assert anonymous.page.my_reaction is None
    assert anonymous.comments[0].my_vote == 0
    assert thread(core, reader_id="reader-3").page.my_reaction == "wow"


def test_no_email_address_leaves_through_a_thread(core, site):
    top = post(core, author_email="jane@example.org", notify="all", reader_id="jane-reader")
    reply(core, top, author_email="bob@example.org")
    text = json.dumps(as_plain(thread(core, reader_id="jane-reader")))
    assert "@" not in text
    assert core.keys.reader_hash("jane-reader") not in text


def fill(core, page, size):
    """A thread of ``size`` comments: half top-level (some anchored), half replies, votes and reactions."""
    tops = [
        post(core, page=page, body=f"top {i}", anchor=Anchor(passage=f"p{i % 3}")).comment.id
        for i in range(size // 2)
    ]
    for i in range(size - len(tops)):
        reply(core, tops[i % min(len(tops), 20)], page=page, body=f"reply {i}")
    for reader in ("reader-1", "reader-2"):
        react(core.uow(), "daily", page, reader, "like")
        vote(core.uow(), tops[0], reader, 1)


def test_reading_a_page_costs_a_fixed_number_of_statements(core, site, count_statements):
    # A warm process, however slow the machine: nothing expires while the test counts.
    core.thread_cache, core.site_cache = ThreadCache(3600), TimedCache(3600)
    small, large = "https://news.example.org/small", "https://news.example.org/large"
    fill(core, small, 5)
    fill(core, large, 200)
    thread(core, page=small)  # warm the connection pool

    def cost(reader_id="reader-1", cached=False, **query):
        if not cached:
            core.thread_cache.clear()
        before = count_statements.count
        view = thread(core, reader_id=reader_id, **query)
        return count_statements.count - before, view

    for query in ({}, {"sort": "top", "limit": 100}, {"sort": "oldest", "passage": "*"}, {"passage": "p1"}):
        (small_cost, _), (large_cost, view) = cost(page=small, **query), cost(page=large, **query)
        # The page with its tallies, the comments with their replies, the reader's own part;
        # the site's rules come from the site cache.
        assert small_cost == large_cost == 3, count_statements.statements[-large_cost:]
        # Read again within the cache's life: only the reader's own votes and reaction.
        again, cached_view = cost(page=large, cached=True, **query)
        assert again == 1
        assert cached_view == view
        assert cost(page=large, cached=True, reader_id=None, **query)[0] == 0
        assert view.next_cursor is not None or query.get("limit") == 100
        if view.next_cursor:
            assert cost(page=large, cursor=view.next_cursor, **query)[0] == 3


def test_counts_for_many_pages_in_a_fixed_number_of_statements(core, site, count_statements):
    post(core, page="https://news.example.org/a")
    post(core, page="https://news.example.org/a")
    post(core, page="https://news.example.org/b")
    react(core.uow(), "daily", "https://news.example.org/b", "reader-1", "like")
    react(core.uow(), "daily", "https://news.example.org/c", "reader-1", "wow")
    refs = ["https://news.example.org/a?utm_source=x", "/b", "https://news.example.org/c#top", "/nothing"]
    before = count_statements.count
    assert page_counts(core.uow(), "daily", refs) == {
        refs[0]: {"comments": 2, "reactions": 0},
        refs[1]: {"comments": 1, "reactions": 1},
        refs[2]: {"comments": 0, "reactions": 1},
        refs[3]: {"comments": 0, "reactions": 0},
    }
    few = count_statements.count - before
    many = [*refs, *(f"/page-{i}" for i in range(496))]
    before = count_statements.count
    assert len(page_counts(core.uow(), "daily", many)) == 500
    assert count_statements.count - before == few == 1
    assert page_counts(core.uow(), "daily", []) == {}


def test_counts_and_site_settings_cost_no_statement_within_the_caches_life(core, site, count_statements):
    core.thread_cache = ThreadCache(3600)  # a warm process, however slow the machine
    post(core, page="https://news.example.org/a")
    refs = ["https://news.example.org/a", "/b"]
    first = page_counts(core.uow(), "daily", refs)
    settings = cached_settings(core.uow(), "daily").settings
    before = count_statements.count
    assert (
        page_counts(core.uow(), "daily", refs)
        == first
        == {
            refs[0]: {"comments": 1, "reactions": 0},
            refs[1]: {"comments": 0, "reactions": 0},
        }
    )
    assert cached_settings(core.uow(), "daily").settings == settings
    assert count_statements.count == before
    # A commit of this process shows at once.
    update_site(core.uow(), "daily", SiteChanges(name="The Daily, renamed"))
    post(core, page="/b")
    assert page_counts(core.uow(), "daily", refs)["/b"] == {"comments": 1, "reactions": 0}
    assert cached_settings(core.uow(), "daily").settings["name"] == "The Daily, renamed"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"sort": "best"}, "sort"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": True}, "limit"),
        ({"limit": "20"}, "limit"),
        ({"cursor": "garbage!"}, "cursor"),
        ({"cursor": ""}, "cursor"),
        ({"cursor": base64.urlsafe_b64encode(b"not json").decode()}, "cursor"),
        ({"cursor": base64.urlsafe_b64encode(b'{"s":"newest","k":["x",1]}').decode()}, "cursor"),
        (
            {"cursor": base64.urlsafe_b64encode(b'{"s":"newest","k":["2026-11-02T09:00:00",1]}').decode()},
            "cursor",
        ),
        (
            {
                "cursor": base64.urlsafe_b64encode(
                    b'{"s":"newest","k":["2026-11-02T09:00:00+00:00","1"]}'
                ).decode()
            },
            "cursor",
        ),
        (
            {
                "cursor": base64.urlsafe_b64encode(
                    b'{"s":"oldest","k":["2026-11-02T09:00:00+00:00",1]}'
                ).decode()
            },
            "cursor",
        ),
        ({"cursor": base64.urlsafe_b64encode(b"[1,2]").decode()}, "cursor"),
        ({"cursor": "x" * 500}, "cursor"),
        ({"passage": "p" * 201}, "passage"),
        ({"page": ""}, "page"),
    ],
)
def test_bad_queries(core, site, query, field):
    post(core)
    before = table_rows(core)
    with pytest.raises(InvalidInput) as err:
        thread(core, **query)
    assert err.value.field == field
    assert table_rows(core) == before


def test_a_cursor_from_another_sort_is_refused(core, site):
    for _ in range(3):
        post(core)
    cursor = thread(core, sort="top", limit=1).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidInput):
        thread(core, sort="newest", cursor=cursor)
    tampered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    with pytest.raises(InvalidInput):
        thread(core, sort="top", cursor=tampered + "!!")


def test_too_many_pages_to_count(core, site):
    with pytest.raises(InvalidInput) as err:
        page_counts(core.uow(), "daily", [f"/p{i}" for i in range(501)])
    assert err.value.field == "pages"
    with pytest.raises(InvalidInput):
        page_counts(core.uow(), "daily", "/a-string-not-a-list")
