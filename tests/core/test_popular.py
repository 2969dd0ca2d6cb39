"""More discussions: a site's most discussed pages of the last days, cached like counts."""

from __future__ import annotations

import pytest

from engagement.errors import InvalidInput, SiteNotFound
from engagement.services.discussion.popular import popular_pages
from engagement.services.sites import SiteChanges, update_site
from engagement.thread_cache import ThreadCache, TimedCache
from tests.core.posting import post

NEWS = "https://news.example.org"


def comments(core, path: str, n: int, **overrides) -> None:
    for i in range(n):
        post(core, page=f"{NEWS}{path}", body=f"Comment {i}.", **overrides)


def test_the_most_discussed_pages_of_the_window_most_first(core, site, clock):
    comments(core, "/old", 9, page_title="Old news")
    clock.advance(days=8)
    comments(core, "/two", 2, page_title="Two")
    comments(core, "/three", 3, page_title="Three")
    comments(core, "/one", 1, page_title="One")
    clock.advance(minutes=1)
    comments(core, "/old", 1)

    found = popular_pages(core.uow(), "daily", days=7, limit=3)

    assert found == {
        "enabled": True,
        "title": None,
        "days": 7,
        "pages": [
            {"title": "Three", "url": f"{NEWS}/three", "comments": 3},
            {"title": "Two", "url": f"{NEWS}/two", "comments": 2},
            # Its nine comments of last week are outside the window: one counts, and ties go
            # to the page commented on last.
            {"title": "Old news", "url": f"{NEWS}/old", "comments": 1},
        ],
    }
    wider = popular_pages(core.uow(), "daily", days=30, limit=5)["pages"]
    assert [(p["title"], p["comments"]) for p in wider][:2] == [("Old news", 10), ("Three", 3)]


def test_the_readers_page_is_left_out_and_only_published_comments_count(core, site):
    comments(core, "/a", 3, page_title="A")
    comments(core, "/b", 1, page_title="B")
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    comments(core, "/c", 5, page_title="Held")  # waiting for a moderator: not discussed yet

    found = popular_pages(core.uow(), "daily", page=f"{NEWS}/a?utm_source=x#comments")

    assert [p["title"] for p in found["pages"]] == ["B"]


def test_a_site_can_turn_it_off_or_name_it(core, site):
    comments(core, "/a", 2, page_title="A")
    update_site(core.uow(), "daily", SiteChanges(popular_title="Elsewhere on The Daily"))
    assert popular_pages(core.uow(), "daily")["title"] == "Elsewhere on The Daily"

    update_site(core.uow(), "daily", SiteChanges(popular=False))

    assert popular_pages(core.uow(), "daily") == {
        "enabled": False,
        "title": "Elsewhere on The Daily",
        "days": 7,
        "pages": [],
    }
    update_site(core.uow(), "daily", SiteChanges(popular=True, popular_title=""))
    assert popular_pages(core.uow(), "daily")["title"] is None


def test_a_site_without_comments_has_an_empty_list_and_an_unknown_site_none(core, site):
    assert popular_pages(core.uow(), "daily")["pages"] == []
    with pytest.raises(SiteNotFound):
        popular_pages(core.uow(), "nowhere")
    with pytest.raises(SiteNotFound):
        popular_pages(core.uow(), "no\x00site")


@pytest.mark.parametrize(
    ("arguments", "field"),
    [({"days": 0}, "days"), ({"days": 91}, "days"), ({"limit": 0}, "limit"), ({"limit": 21}, "limit")],
)
def test_bad_arguments_give_the_reason(core, site, arguments, field):
    with pytest.raises(InvalidInput) as refused:
        popular_pages(core.uow(), "daily", **arguments)
    assert refused.value.field == field


def test_one_statement_and_none_within_the_caches_life(core, site, count_statements):
    core.thread_cache, core.site_cache = ThreadCache(3600), TimedCache(3600)
    for n in range(30):
        comments(core, f"/page-{n}", 1 + n % 4, page_title=f"Page {n}")

    before = count_statements.count
    first = popular_pages(core.uow(), "daily", limit=5)
    assert count_statements.count - before == 1
    assert popular_pages(core.uow(), "daily", limit=5) == first
    assert count_statements.count - before == 1
    # A comment of this process empties the cache, as it does for counts.
    comments(core, "/page-0", 9)
    after = count_statements.count
    assert popular_pages(core.uow(), "daily", limit=5)["pages"][0] == {
        "title": "Page 0",
        "url": f"{NEWS}/page-0",
        "comments": 10,
    }
    assert count_statements.count - after == 1
