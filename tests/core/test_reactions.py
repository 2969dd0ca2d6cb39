import pytest
import sqlalchemy as sa
from support import run_at_once, table_rows

from engagement.errors import InvalidInput, SiteNotFound
from engagement.models import Page, Reaction, Site
from engagement.services.discussion.reactions import react, reaction_state, reaction_tallies
from engagement.services.sites import SiteChanges, add_site, update_site

PAGE = "https://news.example.org/2026/11/storm"
NONE = {"like": 0, "love": 0, "haha": 0, "wow": 0, "sad": 0, "angry": 0}


def test_react_change_and_remove(core, site):
    state = react(core.uow(), "daily", PAGE, "reader-1", "like", page_title="Storm")
    assert state.my_reaction == "like"
    assert state.reactions == {**NONE, "like": 1}
    state = react(core.uow(), "daily", PAGE + "?utm_source=x#comments", "reader-2", "like")
    assert state.reactions == {**NONE, "like": 2}
    state = react(core.uow(), "daily", PAGE, "reader-1", "wow")
    assert (state.my_reaction, state.reactions) == ("wow", {**NONE, "like": 1, "wow": 1})
    state = react(core.uow(), "daily", PAGE, "reader-1", None)
    assert (state.my_reaction, state.reactions) == (None, {**NONE, "like": 1})
    state = react(core.uow(), "daily", PAGE, "reader-1", None)  # removing twice is fine
    assert state.reactions == {**NONE, "like": 1}
    with core.uow() as uow:
        page = uow.session.scalars(sa.select(Page)).one()
        assert page.title == "Storm"
        rows = uow.session.scalars(sa.select(Reaction)).all()
        assert len(rows) == 1
        assert rows[0].reader_hash == core.keys.reader_hash("reader-2")
        assert "reader-2" not in rows[0].reader_hash


def test_removing_on_an_unknown_page_creates_nothing(core, site):
    before = table_rows(core)
    state = react(core.uow(), "daily", "/never-seen", "reader-1", None)
    assert (state.reactions, state.my_reaction) == (NONE, None)
    assert table_rows(core) == before


def test_tallies_follow_the_sites_reaction_set(core, site):
    react(core.uow(), "daily", PAGE, "reader-1", "angry")
    react(core.uow(), "daily", PAGE, "reader-2", "love")
    update_site(
        core.uow(),
        "daily",
        SiteChanges(reactions=[{"key": "love", "label": "Love"}, {"key": "clap", "label": "Clap"}]),
    )
    state = react(core.uow(), "daily", PAGE, "reader-3", "clap")
    assert state.reactions == {"love": 1, "clap": 1}
    with core.uow() as uow:
        site = uow.session.get(Site, site.id)
        page = uow.session.scalars(sa.select(Page)).one()
        assert reaction_state(uow.session, site, page, core.keys.reader_hash("reader-1")).my_reaction is None
        assert reaction_state(uow.session, site, page, None).reactions == {"love": 1, "clap": 1}


def test_tallies_for_many_pages_in_one_read(core, site, count_statements):
    for i in range(3):
        for r in range(i + 1):
            react(core.uow(), "daily", f"/p{i}", f"reader-{r}", "like" if r % 2 == 0 else "sad")
    with core.uow() as uow:
        ids = {p.key: p.id for p in uow.session.scalars(sa.select(Page))}
        count_statements.count = 0
        tallies = reaction_tallies(uow.session, [*ids.values(), 999])
        assert count_statements.count == 1
        assert reaction_tallies(uow.session, []) == {}
    assert tallies == {
        ids["/p0"]: {"like": 1},
        ids["/p1"]: {"like": 1, "sad": 1},
        ids["/p2"]: {"like": 2, "sad": 1},
    }


def test_the_same_reader_on_two_sites_is_two_readers(core, site):
    add_site(core.uow(), "other", SiteChanges(name="Other"))
    react(core.uow(), "daily", PAGE, "reader-1", "like")
    state = react(core.uow(), "other", PAGE, "reader-1", "sad")
    assert state.reactions["sad"] == 1
    assert state.reactions["like"] == 0


@pytest.mark.parametrize(
    ("args", "error", "field"),
    [
        (("daily", PAGE, "reader-1", "meh"), InvalidInput, "reaction"),
        (("daily", PAGE, "reader-1", ""), InvalidInput, "reaction"),
        (("daily", PAGE, None, "like"), InvalidInput, "reader"),
        (("daily", PAGE, "", "like"), InvalidInput, "reader"),
        (("daily", PAGE, "   ", None), InvalidInput, "reader"),
        (("daily", PAGE, "r" * 201, "like"), InvalidInput, "reader"),
        (("daily", PAGE, "a\nb", "like"), InvalidInput, "reader"),
        (("daily", "", "reader-1", "like"), InvalidInput, "page"),
        (("daily", "x" * 2001, "reader-1", "like"), InvalidInput, "page"),
        (("nope", PAGE, "reader-1", "like"), SiteNotFound, None),
    ],
)
def test_bad_reactions_change_nothing(core, site, args, error, field):
    react(core.uow(), "daily", PAGE, "reader-1", "like")
    before = table_rows(core)
    with pytest.raises(error) as err:
        react(core.uow(), *args)
    if field:
        assert err.value.field == field
    assert table_rows(core) == before


def test_a_too_long_title_changes_nothing(core, site):
    before = table_rows(core)
    with pytest.raises(InvalidInput) as err:
        react(core.uow(), "daily", PAGE, "reader-1", "like", page_title="t" * 301)
    assert err.value.field == "page_title"
    assert table_rows(core) == before


def test_one_reader_reacting_twice_at_once_ends_consistent(pg_core):
    add_site(pg_core.uow(), "race", SiteChanges(name="Race"))
    choices = ["like", "love", "wow", "sad", "angry", "haha"] * 2
    # A new page: the reactions race to create it too.
    results = run_at_once(
        len(choices), lambda i: react(pg_core.uow(), "race", "/fresh", "reader-1", choices[i])
    )
    assert [r for r in results if isinstance(r, Exception)] == []
    with pg_core.uow() as uow:
        rows = uow.session.scalars(sa.select(Reaction)).all()
        assert len(rows) == 1
        assert uow.session.scalar(sa.select(sa.func.count()).select_from(Page)) == 1
    final = react(pg_core.uow(), "race", "/fresh", "reader-2", "like")
    assert sum(final.reactions.values()) == 2


def test_many_readers_at_once_are_all_counted(pg_core):
    add_site(pg_core.uow(), "race", SiteChanges(name="Race"))
    results = run_at_once(12, lambda i: react(pg_core.uow(), "race", "/busy", f"reader-{i}", "like"))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert react(pg_core.uow(), "race", "/busy", "reader-0", "like").reactions["like"] == 12
