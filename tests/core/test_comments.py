"""Posting, replying, editing and deleting comments, and every refusal leaving the database as it was."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from posting import ARTICLE, as_plain, events, ids, page_row, post, reply, row, thread
from support import run_at_once, table_counts, table_rows

from engagement.errors import (
    Banned,
    CommentNotFound,
    EditWindowClosed,
    InvalidInput,
    InvalidToken,
    RateLimited,
    SiteNotFound,
)
from engagement.models import Ban, Comment, OutboxEvent, Page, Subscription
from engagement.outbox import COMMENT_PENDING, COMMENT_PUBLISHED
from engagement.ratelimit import RateLimiter
from engagement.services.discussion.comments import delete_comment, edit_comment
from engagement.services.discussion.public import Anchor
from engagement.services.discussion.threads import passage_counts
from engagement.services.sites import SiteChanges, add_site, update_site
from engagement.thread_cache import TimedCache
from engagement.uow import UnitOfWork


def test_post_publishes_renders_and_counts(core, site):
    posted = post(core, body="Hello *world*", author_email="Jane@Example.org", page_title="The article")
    assert posted.status == "approved"
    assert posted.confirmation_needed is False
    assert len(posted.edit_token) >= 40
    view = posted.comment
    assert (view.author.name, view.html, view.status, view.deleted) == (
        "Jane",
        "<p>Hello <em>world</em></p>",
        "approved",
        False,
    )
    assert view.created_at == "2026-11-02T09:00:00Z"
    assert "example.org" not in json.dumps(as_plain(posted.comment))
    stored = row(core, view.id)
    assert stored.author_email == "jane@example.org"
    assert stored.edit_token_hash != posted.edit_token
    assert (stored.thread_id, stored.path, stored.depth) == (view.id, "", 0)
    page = page_row(core)
    assert (page.comment_count, page.title, page.url) == (1, "The article", ARTICLE)
    assert events(core) == [(COMMENT_PUBLISHED, {"comment_id": view.id})]


def test_replies_take_their_place_in_the_thread(core, site):
    top = post(core)
    first = reply(core, top)
    second = reply(core, first, body="Deeper.")
    assert (row(core, first.comment.id).path, row(core, first.comment.id).depth) == (f"/{top.comment.id}/", 1)
    deep = row(core, second.comment.id)
    assert (deep.path, deep.depth, deep.thread_id) == (
        f"/{top.comment.id}/{first.comment.id}/",
        2,
        top.comment.id,
    )
    assert deep.ancestor_ids == [top.comment.id, first.comment.id]
    assert row(core, top.comment.id).reply_count == 1
    assert row(core, first.comment.id).reply_count == 1
    assert page_row(core).comment_count == 3
    (shown,) = thread(core).comments
    assert shown.replies[0].id == first.comment.id
    assert shown.replies[0].replies[0].id == second.comment.id


def test_the_same_page_under_many_spellings(core, site):
    post(core, page=ARTICLE + "?utm_source=newsletter#comments")
    post(core, page="http://www.news.example.org/2026/11/the-article")
    post(core, page="/2026/11/the-article")
    with core.uow() as uow:
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Page)) == 1
    assert page_row(core).comment_count == 3


def test_anchor_is_stored_and_returned(core, site):
    anchor = Anchor(passage="p-3", exact="the quoted words", prefix="before ", suffix=" after")
    posted = post(core, anchor=anchor)
    assert posted.comment.anchor == anchor
    assert thread(core).comments[0].anchor == anchor
    quote_only = post(core, anchor=Anchor(exact="  a selection  "))
    assert quote_only.comment.anchor == Anchor(exact="a selection")


def test_notify_subscribes_the_author(core, site):
    top = post(core, author_email="jane@example.org", notify="replies")
    assert top.confirmation_needed is True
    follower = post(core, author_email="bob@example.org", notify="all")
    assert follower.confirmation_needed is True
    with core.uow() as uow:
        subs = uow.session.scalars(sa.select(Subscription).order_by(Subscription.id)).all()
        assert [(s.kind, s.comment_id) for s in subs] == [("replies", top.comment.id), ("thread", None)]
        assert subs[1].page_id == page_row(core).id


def test_edit_within_the_window(core, site, clock):
    posted = post(core, body="Frist!")
    clock.advance(minutes=5)
    view = edit_comment(core.uow(), posted.comment.id, posted.edit_token, "First, **sorry**.")
    assert view.html == "<p>First, <strong>sorry</strong>.</p>"
    assert view.edited_at == "2026-11-02T09:05:00Z"
    assert thread(core).comments[0].html == view.html
    assert row(core, posted.comment.id).body == "First, **sorry**."


def test_edit_and_delete_close_with_the_window(core, site, clock):
    posted = post(core)
    clock.advance(seconds=site.edit_window_seconds + 1)
    before = table_rows(core)
    with pytest.raises(EditWindowClosed):
        edit_comment(core.uow(), posted.comment.id, posted.edit_token, "Changed")
    with pytest.raises(EditWindowClosed):
        delete_comment(core.uow(), posted.comment.id, posted.edit_token)
    assert table_rows(core) == before


def test_wrong_token_changes_nothing(core, site):
    posted = post(core)
    other = post(core)
    before = table_rows(core)
    for token in ("", "not-the-token", other.edit_token):
        with pytest.raises(InvalidToken):
            edit_comment(core.uow(), posted.comment.id, token, "Hijacked")
        with pytest.raises(InvalidToken):
            delete_comment(core.uow(), posted.comment.id, token)
    with pytest.raises(CommentNotFound):
        edit_comment(core.uow(), 9999, posted.edit_token, "Nothing")
    assert table_rows(core) == before


def test_an_edit_that_breaks_a_rule_goes_back_to_the_queue(core, site):
    update_site(core.uow(), "daily", SiteChanges(banned_words=["casino"]))
    posted = post(core)
    view = edit_comment(core.uow(), posted.comment.id, posted.edit_token, "Visit my CASINO now")
    assert view.status == "pending"
    assert thread(core).comments == ()
    assert page_row(core).comment_count == 0
    assert row(core, posted.comment.id).moderation_reason == "contains the banned word 'casino'"
    assert events(core)[-1] == (COMMENT_PENDING, {"comment_id": posted.comment.id})


def test_delete_without_replies_leaves_the_thread(core, site):
    top = post(core)
    answer = reply(core, top)
    delete_comment(core.uow(), answer.comment.id, answer.edit_token)
    (shown,) = thread(core).comments
    assert (shown.id, shown.replies, shown.reply_count) == (top.comment.id, (), 0)
    assert page_row(core).comment_count == 1
    gone = row(core, answer.comment.id)
    assert (gone.status, gone.body, gone.html, gone.author_email, gone.edit_token_hash) == (
        "deleted",
        "",
        "",
        None,
        None,
    )
    delete_comment(core.uow(), top.comment.id, top.edit_token)
    assert thread(core).comments == ()
    assert page_row(core).comment_count == 0
    with pytest.raises(CommentNotFound):
        delete_comment(core.uow(), top.comment.id, top.edit_token)


def test_delete_with_replies_leaves_a_placeholder(core, site):
    top = post(core, author_email="jane@example.org", anchor=Anchor(passage="p-1"))
    answer = reply(core, top)
    delete_comment(core.uow(), top.comment.id, top.edit_token)
    (shown,) = thread(core).comments
    assert (shown.id, shown.deleted, shown.status, shown.author.name, shown.html) == (
        top.comment.id,
        True,
        "deleted",
        None,
        "",
    )
    assert ids(shown.replies) == [answer.comment.id]
    assert page_row(core).comment_count == 1
    assert shown.anchor == Anchor(passage="p-1")
    assert ids(thread(core, passage="p-1").comments) == [top.comment.id]
    assert passage_counts(core.uow(), "daily", ARTICLE) == {"p-1": 1}
    # The last reply of a placeholder gone, the placeholder goes too.
    delete_comment(core.uow(), answer.comment.id, answer.edit_token)
    assert thread(core).comments == ()
    assert page_row(core).comment_count == 0


def test_deleting_a_deep_leaf_removes_the_empty_placeholders_above_it(core, site):
    top = post(core)
    middle = reply(core, top)
    leaf = reply(core, middle)
    delete_comment(core.uow(), middle.comment.id, middle.edit_token)
    assert row(core, top.comment.id).reply_count == 1  # the placeholder still shows
    delete_comment(core.uow(), leaf.comment.id, leaf.edit_token)
    assert row(core, middle.comment.id).reply_count == 0
    assert row(core, top.comment.id).reply_count == 0
    (shown,) = thread(core).comments
    assert shown.replies == ()


def test_replying_to_a_placeholder_is_allowed(core, site):
    top = post(core)
    reply(core, top)
    delete_comment(core.uow(), top.comment.id, top.edit_token)
    late = reply(core, top, body="Still answering.")
    assert late.status == "approved"
    assert row(core, top.comment.id).reply_count == 2


def test_banned_address_or_reader_is_refused(core, site):
    with core.uow() as uow:
        uow.session.add_all(
            [
                Ban(site_id=site.id, email="troll@example.org", created_at=uow.now()),
                Ban(site_id=site.id, reader_hash=core.keys.reader_hash("troll-reader"), created_at=uow.now()),
            ]
        )
        uow.commit()
    before = table_counts(core)
    with pytest.raises(Banned):
        post(core, author_email="Troll@example.org")
    with pytest.raises(Banned):
        post(core, reader_id="troll-reader")
    assert table_counts(core) == before
    assert post(core, author_email="friend@example.org", reader_id="friend").status == "approved"


def test_rate_limit_per_reader_address_and_email(core, site):
    limiter = RateLimiter("memory://", {"comment": "2/minute"}, enabled=True)

    def limited() -> UnitOfWork:
        return UnitOfWork(core.session_factory, keys=core.keys, limiter=limiter, clock=core.clock)

    # Per client address.
    post(core, limited(), reader_id="r1", client_ip="192.0.2.1")
    post(core, limited(), reader_id="r2", client_ip="192.0.2.1")
    before = table_counts(core)
    with pytest.raises(RateLimited) as err:
        post(core, limited(), reader_id="r3", client_ip="192.0.2.1")
    assert err.value.retry_after >= 1
    assert table_counts(core) == before
    # Per reader, whatever address it comes from.
    post(core, limited(), reader_id="r1", client_ip="198.51.100.1")
    with pytest.raises(RateLimited):
        post(core, limited(), reader_id="r1", client_ip="198.51.100.2")
    # Per e-mail address, however it is spelt.
    post(core, limited(), author_email="x@example.org", reader_id="r4", client_ip="198.51.100.3")
    post(core, limited(), author_email="x@example.org", reader_id="r5", client_ip="198.51.100.4")
    with pytest.raises(RateLimited):
        post(core, limited(), author_email="X@Example.org", reader_id="r6", client_ip="198.51.100.5")
    # A refused request used up nothing: r6 and its address may still post.
    post(core, limited(), reader_id="r6", client_ip="198.51.100.5")


def test_honeypot_is_answered_like_pending_and_stored_as_spam(core, site):
    caught = post(core, honeypot="http://cheap.example", author_email="bot@example.org", notify="all")
    real = post(core, author_email="human@example.org", notify="all")
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    pending = post(core, author_email="human2@example.org", notify="all")
    assert (caught.status, caught.confirmation_needed) == (pending.status, pending.confirmation_needed)
    assert caught.comment.status == pending.comment.status == "pending"
    assert row(core, caught.comment.id).status == "spam"
    assert ids(thread(core).comments) == [real.comment.id]
    assert (COMMENT_PENDING, {"comment_id": caught.comment.id}) not in events(core)
    with core.uow() as uow:
        emails = {c.author_email for c in uow.session.scalars(sa.select(Comment))}
        assert "bot@example.org" in emails


ARTICLE_B = "https://news.example.org/another"


@pytest.mark.parametrize(
    ("overrides", "error", "field"),
    [
        ({"body": "x" * 10_001}, InvalidInput, "body"),
        ({"body": ""}, InvalidInput, "body"),
        ({"body": "   \n  "}, InvalidInput, "body"),
        ({"body": "nul \x00 byte"}, InvalidInput, "body"),
        ({"author_name": "n" * 101}, InvalidInput, "author_name"),
        ({"author_name": ""}, InvalidInput, "author_name"),
        ({"author_name": "Jane\r\nBcc: all@example.org"}, InvalidInput, "author_name"),
        ({"author_email": "not-an-address"}, InvalidInput, "author_email"),
        ({"author_email": "a@b"}, InvalidInput, "author_email"),
        ({"site": "nowhere"}, SiteNotFound, None),
        ({"page": ""}, InvalidInput, "page"),
        ({"page": "/" + "p" * 2000}, InvalidInput, "page"),
        ({"page_title": "t" * 301}, InvalidInput, "page_title"),
        ({"parent": 424242}, InvalidInput, "parent"),
        ({"parent": "1"}, InvalidInput, "parent"),
        ({"parent": "ON_OTHER_PAGE"}, InvalidInput, "parent"),
        ({"parent": "PENDING", "page": "/first"}, InvalidInput, "parent"),
        ({"anchor": Anchor()}, InvalidInput, "anchor"),
        ({"anchor": Anchor(passage="p" * 201)}, InvalidInput, "anchor.passage"),
        ({"anchor": Anchor(exact="q" * 1001)}, InvalidInput, "anchor.exact"),
        ({"anchor": Anchor(exact="q", prefix="p" * 201)}, InvalidInput, "anchor.prefix"),
        ({"anchor": Anchor(exact="q", suffix="s" * 201)}, InvalidInput, "anchor.suffix"),
        ({"anchor": Anchor(passage="p", prefix="before")}, InvalidInput, "anchor"),
        ({"anchor": Anchor(passage="p"), "parent": "TOP"}, InvalidInput, "anchor"),
        ({"notify": "all"}, InvalidInput, "notify"),
        ({"notify": "replies"}, InvalidInput, "notify"),
        ({"notify": "sometimes", "author_email": "a@example.org"}, InvalidInput, "notify"),
        ({"reader_id": "r" * 201}, InvalidInput, "reader_id"),
    ],
)
def test_bad_input_changes_nothing(core, site, overrides, error, field):
    top = post(core, page="/first")
    other = post(core, page=ARTICLE_B)
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    waiting = post(core, page="/first")
    named = {"ON_OTHER_PAGE": other.comment.id, "PENDING": waiting.comment.id, "TOP": top.comment.id}
    if overrides.get("parent") in named:
        overrides = {**overrides, "parent": named[overrides["parent"]]}
    before = table_rows(core)
    # A new page, so a refusal must also undo the page row that ensure_page wrote.
    with pytest.raises(error) as err:
        post(core, **{"page": "/brand-new", **overrides})
    if field is not None:
        assert err.value.field == field
    assert err.value.reason
    assert table_rows(core) == before


def test_bad_edits_change_nothing(core, site):
    posted = post(core)
    before = table_rows(core)
    for body in ("", "x" * 10_001, "\x00"):
        with pytest.raises(InvalidInput) as err:
            edit_comment(core.uow(), posted.comment.id, posted.edit_token, body)
        assert err.value.field == "body"
    assert table_rows(core) == before


def test_two_first_comments_on_a_new_page_at_once(pg_core):
    add_site(pg_core.uow(), "daily", SiteChanges(name="The Daily Example"))
    for round_ in range(5):
        ref = f"https://news.example.org/breaking-{round_}"
        results = run_at_once(2, lambda i, ref=ref: post(pg_core, page=ref, body=f"Me first ({i})"))
        assert all(r.status == "approved" for r in results), results
        key = f"/breaking-{round_}"
        with pg_core.uow() as uow:
            pages = uow.session.scalars(sa.select(Page).where(Page.key == key)).all()
            assert len(pages) == 1
            assert pages[0].comment_count == 2
        assert len(thread(pg_core, page=ref).comments) == 2


def test_concurrent_replies_and_delete_keep_counts_right(pg_core):
    add_site(pg_core.uow(), "daily", SiteChanges(name="The Daily Example"))
    top = post(pg_core)
    replies = run_at_once(8, lambda i: reply(pg_core, top, body=f"Reply {i}"))
    assert all(r.status == "approved" for r in replies), replies
    assert row(pg_core, top.comment.id).reply_count == 8
    assert page_row(pg_core).comment_count == 9
    results = run_at_once(
        4, lambda i: delete_comment(pg_core.uow(), replies[i].comment.id, replies[i].edit_token)
    )
    assert results == [None] * 4
    assert row(pg_core, top.comment.id).reply_count == 4
    assert page_row(pg_core).comment_count == 5


def test_concurrent_posts_and_replies_on_either_database(core, site):
    top = post(core)
    results = run_at_once(
        8, lambda i: post(core, page=f"https://news.example.org/new-{i % 2}") if i % 2 else reply(core, top)
    )
    assert all(r.status == "approved" for r in results), results
    assert row(core, top.comment.id).reply_count == 4
    assert page_row(core).comment_count == 5
    assert page_row(core, "/new-1").comment_count == 4


def test_a_reply_too_deep_for_its_thread_is_refused_and_counts_nothing(core, site):
    top = post(core)
    deep = reply(core, top)
    with core.engine.begin() as connection:  # a chain of ancestors as long as a path may hold
        connection.execute(sa.update(Comment).where(Comment.id == deep.comment.id).values(path="/9" * 999))
    with pytest.raises(InvalidInput, match="too deep"):
        reply(core, deep)
    assert row(core, deep.comment.id).reply_count == 0
    assert page_row(core).comment_count == 2
    assert [kind for kind, _payload in events(core)] == [COMMENT_PUBLISHED] * 2


def test_a_reply_under_a_deleted_comment_with_replies_is_posted_under_its_placeholder(core, site):
    top = post(core)
    reply(core, top)
    delete_comment(core.uow(), top.comment.id, top.edit_token)
    posted = reply(core, top, body="Still talking.")
    stored = row(core, posted.comment.id)
    assert (stored.parent_id, stored.thread_id, stored.path, stored.depth) == (
        top.comment.id,
        top.comment.id,
        f"/{top.comment.id}/",
        1,
    )
    assert row(core, top.comment.id).reply_count == 2
    assert page_row(core).comment_count == 2  # the placeholder is no longer counted


def test_a_write_alone_commits_by_itself_unless_the_unit_of_work_has_read_already(core, site):
    """A statement run alone is its own transaction; after a read it joins the session's (one
    connection per request), so leaving without a commit undoes it."""
    insert = sa.insert(OutboxEvent.__table__)  # type: ignore[arg-type]
    for read_first, kept in ((True, 0), (False, 1)):
        with core.uow() as uow:
            if read_first:
                uow.session.execute(sa.select(1))
            uow.execute_alone(
                insert.returning(OutboxEvent.id), uow.event_values(COMMENT_PENDING, {"comment_id": 1})
            )
        assert len(events(core)) == kept


def test_posting_in_a_warm_process_costs_four_statements(core, site, count_statements):
    """A comment or a reply on a known page: the page (counted), the parent (counted), the comment
    (a top-level one's thread id), the outbox event; the site's rules come from the site cache.
    On PostgreSQL a comment's or a reply's page, parent, row and event are one statement."""
    core.site_cache = TimedCache(3600)  # a warm process, however slow the machine
    top = post(core, body="Warms the site cache and creates the page.")

    def cost(**overrides):
        before = count_statements.count
        posted = post(core, **overrides)
        return count_statements.count - before, posted

    budget = 1 if core.engine.dialect.name == "postgresql" else 4
    for overrides in ({}, {"parent": top.comment.id}, {"body": "too [many](https://a.example) links " * 4}):
        spent, posted = cost(**overrides)
        assert spent <= budget, count_statements.statements[-spent:]
    assert posted.status == "pending"
    assert thread(core).page.comments == 3
    assert row(core, top.comment.id).reply_count == 1
    assert [kind for kind, _payload in events(core)] == [COMMENT_PUBLISHED] * 3 + [COMMENT_PENDING]
