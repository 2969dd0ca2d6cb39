"""The micro-caches of threads, counts and site rules: entries live their seconds, this process's commits
empty them, other processes' writes show within the cache's life."""

from __future__ import annotations

import pytest
from posting import post, thread

from engagement.core import build_core
from engagement.errors import Banned
from engagement.services.discussion.moderation import ban_address
from engagement.services.discussion.threads import page_counts
from engagement.services.sites import SiteChanges, update_site
from engagement.thread_cache import MAX_ENTRIES, MAX_ROWS, CachedPage, ThreadCache, TimedCache


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def page(rows: int = 1) -> CachedPage:
    return CachedPage("https://x.example/a", "A", rows, 1, {}, [object()] * rows, [], more=False)


def test_an_entry_lives_its_seconds():
    ticks = Ticks()
    cache = ThreadCache(1.5, clock=ticks)
    cache.put("a", page(), cache.generation())
    ticks.now += 1.4
    assert cache.get("a") is not None
    ticks.now += 0.2
    assert cache.get("a") is None


def test_a_clear_empties_it_and_refuses_rows_read_before_it():
    cache = ThreadCache(60)
    before = cache.generation()
    cache.put("a", page(), before)
    cache.clear()
    assert cache.get("a") is None
    cache.put("b", page(), before)  # read before the commit that cleared: stale
    assert cache.get("b") is None
    cache.put("b", page(), cache.generation())
    assert cache.get("b") is not None


def test_it_is_bounded_and_skips_large_answers_and_can_be_off():
    cache = ThreadCache(60)
    for n in range(MAX_ENTRIES + 10):
        cache.put(n, page(), cache.generation())
    assert cache.get(0) is None
    assert cache.get(MAX_ENTRIES + 9) is not None
    cache.put("big", page(MAX_ROWS + 1), cache.generation())
    assert cache.get("big") is None
    off = ThreadCache(0)
    off.put("a", page(), off.generation())
    assert off.get("a") is None


def test_this_process_sees_its_own_writes_at_once_another_within_the_cache_life(core, site):
    ticks = Ticks()
    core.thread_cache = ThreadCache(1.0, clock=ticks)
    post(core, body="First.")
    assert [c.html for c in thread(core).comments] == ["<p>First.</p>"]

    post(core, body="Second, from this process.")
    assert len(thread(core).comments) == 2  # the commit emptied the cache

    other = build_core(core.settings)  # a second web process on the same database
    try:
        post(other, body="Third, from another process.")
    finally:
        other.dispose()
    assert len(thread(core).comments) == 2  # still this process's cached answer
    assert len(thread(core, reader_id="reader-1").comments) == 2
    ticks.now += 1.0
    assert len(thread(core).comments) == 3


def test_counts_are_kept_too_and_follow_the_same_rules(core, site, count_statements):
    ticks = Ticks()
    core.thread_cache = ThreadCache(1.0, clock=ticks)
    listing = ["https://news.example.org/a", "https://news.example.org/b"]
    post(core, page=listing[0])

    def counts():
        return {ref: n["comments"] for ref, n in page_counts(core.uow(), "daily", listing).items()}

    assert counts() == {listing[0]: 1, listing[1]: 0}
    before = count_statements.count
    assert counts() == {listing[0]: 1, listing[1]: 0}
    assert count_statements.count == before  # from the cache
    post(core, page=listing[1])
    assert counts() == {listing[0]: 1, listing[1]: 1}  # this process's commit emptied it

    other = build_core(core.settings)
    try:
        post(other, page=listing[1])
    finally:
        other.dispose()
    assert counts() == {listing[0]: 1, listing[1]: 1}
    ticks.now += 1.0
    assert counts() == {listing[0]: 1, listing[1]: 2}


def test_site_rules_and_bans_are_kept_until_a_change_this_process_commits(core, site, count_statements):
    ticks = Ticks()
    core.site_cache = TimedCache(1.0, clock=ticks)
    post(core, body="Warms the cache.")
    before = count_statements.count
    post(core, body="No site, no bans read.")
    assert not [s for s in count_statements.statements[before:] if "FROM sites" in s]

    ban_address(core.uow(), "daily", "troll@example.org")  # this process: applies at once
    with pytest.raises(Banned):
        post(core, author_email="troll@example.org")
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    assert post(core).status == "pending"


def test_another_process_s_ban_applies_within_the_cache_life(core, site):
    ticks = Ticks()
    core.site_cache = TimedCache(1.0, clock=ticks)
    post(core, author_email="troll@example.org")
    other = build_core(core.settings)  # the CLI, or a second web process
    try:
        ban_address(other.uow(), "daily", "troll@example.org")
        update_site(other.uow(), "daily", SiteChanges(banned_words=["spam"]))
    finally:
        other.dispose()
    assert post(core, author_email="troll@example.org").status == "approved"  # still the cached rules
    ticks.now += 1.0
    with pytest.raises(Banned):
        post(core, author_email="troll@example.org")
    assert post(core, body="spam here").status == "pending"
