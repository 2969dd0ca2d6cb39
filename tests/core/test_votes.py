import pytest
import sqlalchemy as sa
from support import make_comment, make_page, run_at_once, table_rows

from engagement.errors import CommentNotFound, Forbidden, InvalidInput
from engagement.models import Comment, Vote
from engagement.services.discussion.threads import ThreadQuery, list_thread
from engagement.services.discussion.votes import vote
from engagement.services.sites import SiteChanges, add_site


def score_of(core, comment_id):
    with core.uow() as uow:
        return uow.session.get(Comment, comment_id).score


def my_vote(core, site, page, reader_id):
    """The reader's vote on the page's one comment, as a thread read shows it."""
    (shown,) = list_thread(
        core.uow(), ThreadQuery(site=site.key, page=page.key, reader_id=reader_id)
    ).comments
    return shown.my_vote


def test_vote_change_and_withdraw(core, site):
    page = make_page(core, site)
    comment = make_comment(core, page)
    assert vote(core.uow(), comment.id, "reader-1", 1) == (
        state := vote(core.uow(), comment.id, "reader-1", 1)
    )
    assert (state.score, state.my_vote) == (1, 1)
    state = vote(core.uow(), comment.id, "reader-2", -1)
    assert (state.score, state.my_vote) == (0, -1)
    state = vote(core.uow(), comment.id, "reader-1", -1)
    assert (state.score, state.my_vote) == (-2, -1)
    state = vote(core.uow(), comment.id, "reader-1", 0)
    assert (state.score, state.my_vote) == (-1, 0)
    state = vote(core.uow(), comment.id, "reader-1", 0)
    assert (state.score, state.my_vote) == (-1, 0)
    assert score_of(core, comment.id) == -1
    with core.uow() as uow:
        votes = uow.session.scalars(sa.select(Vote)).all()
        assert [(v.reader_hash, v.value) for v in votes] == [(core.keys.reader_hash("reader-2"), -1)]
    assert my_vote(core, site, page, "reader-2") == -1
    assert my_vote(core, site, page, "reader-1") == 0
    assert my_vote(core, site, page, None) == 0


@pytest.mark.parametrize("status", ["pending", "rejected", "spam"])
def test_unpublished_comments_cannot_be_voted_and_are_not_revealed(core, site, status):
    comment = make_comment(core, make_page(core, site), status=status)
    before = table_rows(core)
    with pytest.raises(CommentNotFound):
        vote(core.uow(), comment.id, "reader-1", 1)
    assert table_rows(core) == before


def test_a_deleted_placeholder_cannot_be_voted(core, site):
    comment = make_comment(core, make_page(core, site), status="deleted")
    before = table_rows(core)
    with pytest.raises(Forbidden):
        vote(core.uow(), comment.id, "reader-1", 1)
    assert table_rows(core) == before


@pytest.mark.parametrize(
    ("comment_id", "reader", "value", "field"),
    [
        (None, "reader-1", 2, "value"),
        (None, "reader-1", True, "value"),
        (None, "reader-1", "1", "value"),
        (None, "reader-1", 1.0, "value"),
        (None, None, 1, "reader"),
        (None, "", 1, "reader"),
        (0, "reader-1", 1, "comment"),
        ("1", "reader-1", 1, "comment"),
    ],
)
def test_bad_votes_change_nothing(core, site, comment_id, reader, value, field):
    comment = make_comment(core, make_page(core, site))
    vote(core.uow(), comment.id, "reader-1", 1)
    before = table_rows(core)
    with pytest.raises(InvalidInput) as err:
        vote(core.uow(), comment.id if comment_id is None else comment_id, reader, value)
    assert err.value.field == field
    assert table_rows(core) == before


def test_unknown_comment(core, site):
    before = table_rows(core)
    with pytest.raises(CommentNotFound):
        vote(core.uow(), 12345, "reader-1", 1)
    assert table_rows(core) == before


def test_twenty_readers_voting_at_once_are_all_counted(pg_core):
    site = add_site(pg_core.uow(), "race", SiteChanges(name="Race"))
    comment = make_comment(pg_core, make_page(pg_core, site))
    results = run_at_once(20, lambda i: vote(pg_core.uow(), comment.id, f"reader-{i}", 1))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert sorted(r.score for r in results) == list(range(1, 21))
    assert score_of(pg_core, comment.id) == 20


def test_one_reader_voting_many_times_at_once_counts_once(pg_core):
    site = add_site(pg_core.uow(), "race", SiteChanges(name="Race"))
    comment = make_comment(pg_core, make_page(pg_core, site))
    values = [1, -1, 0, 1, -1, 1, 0, 1]
    results = run_at_once(len(values), lambda i: vote(pg_core.uow(), comment.id, "reader-1", values[i]))
    assert [r for r in results if isinstance(r, Exception)] == []
    with pg_core.uow() as uow:
        rows = uow.session.scalars(sa.select(Vote)).all()
        assert len(rows) <= 1
        assert uow.session.get(Comment, comment.id).score == sum(v.value for v in rows)


def test_sqlite_votes_from_many_threads_are_all_counted(core, site):
    comment = make_comment(core, make_page(core, site))
    results = run_at_once(10, lambda i: vote(core.uow(), comment.id, f"reader-{i}", 1 if i % 2 else -1))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert score_of(core, comment.id) == 0
