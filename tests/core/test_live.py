"""Live notices: announced after the commit only, fanned out by page, bounded per process."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from posting import post

from engagement.errors import StreamsFull
from engagement.live.broadcast import LocalBroadcast
from engagement.live.hub import MAX_BACKLOG, SLICE, Hub
from engagement.live.notices import Notice, comment_notice, decode, encode, parse_event_id
from engagement.services.discussion.moderation import approve_comment
from engagement.services.discussion.publication import load_comment, publish
from engagement.services.sites import SiteChanges, update_site

WAIT = 10.0


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """``asyncio.run`` in a thread of its own: in a whole run, the browser tests' Playwright keeps
    an event loop running in the main thread for the rest of the session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_notices_cross_the_wire_unchanged():
    notices = [
        comment_notice(3, 7, None, datetime(2026, 11, 2, 9, 0, 0, 125000, tzinfo=UTC)),
        Notice(3, "counts", {"reactions": {"like": 2}}),
    ]
    assert decode(encode(notices)) == notices
    assert notices[0].id == "1793610000125-7"
    assert parse_event_id(notices[0].id) == datetime(2026, 11, 2, 9, 0, 0, 125000, tzinfo=UTC)


@pytest.mark.parametrize("value", [None, "", "7", "abc-1", "1-x", "-1", "9" * 41, "99999999999999999999-1"])
def test_an_event_id_we_did_not_write_names_no_moment(value):
    assert parse_event_id(value) is None


def test_a_foreign_message_yields_no_notice():
    assert decode(b"not json") == []
    assert decode(b'{"a": 1}') == []


def test_the_hub_delivers_by_page_and_refuses_past_its_cap():
    async def scenario() -> None:
        hub = Hub(max_connections=2)
        here, there = hub.subscribe(1), hub.subscribe(2)
        with pytest.raises(StreamsFull) as refused:
            hub.subscribe(1)
        assert refused.value.retry_after > 0
        hub.deliver([Notice(1, "counts", {"n": 1})])
        assert (await here.next()) == Notice(1, "counts", {"n": 1})
        assert there.queue.empty()
        there.close()
        there.close()  # idempotent
        assert hub.count == 1
        hub.subscribe(2)  # room again

    run(scenario())


def test_a_busy_page_gets_every_notice_in_order_slice_by_slice():
    async def scenario() -> None:
        hub = Hub(max_connections=3 * SLICE)
        streams = [hub.subscribe(1) for _ in range(2 * SLICE + 7)]
        hub.deliver([Notice(1, "counts", {"n": 1}), Notice(1, "counts", {"n": 2})])
        hub.deliver([Notice(1, "counts", {"n": 3})])
        for stream in streams:
            received = [await asyncio.wait_for(stream.next(), WAIT) for _ in range(3)]
            assert [notice.data["n"] for notice in received if notice] == [1, 2, 3]

    run(scenario())


def test_a_stream_that_falls_too_far_behind_is_ended():
    async def scenario() -> None:
        hub = Hub(max_connections=10)
        slow = hub.subscribe(1)
        hub.deliver([Notice(1, "counts", {"n": n}) for n in range(MAX_BACKLOG + 5)])
        received = [await slow.next() for _ in range(MAX_BACKLOG)]
        assert all(notice is not None for notice in received)
        assert await slow.next() is None  # its reader reconnects and resumes

    run(scenario())


def test_a_publication_rolled_back_announces_nothing(core, site):
    update_site(core.uow(), "daily", SiteChanges(moderation="all"))
    held = post(core).comment.id
    page_id = load_page_id(core, held)

    async def scenario() -> list[Notice | None]:
        hub = Hub(max_connections=10)
        core.broadcast = LocalBroadcast(hub)
        stream = hub.subscribe(page_id)
        await asyncio.to_thread(publish_without_commit, core, held)
        await asyncio.to_thread(approve_comment, core.uow(), held)
        first = await asyncio.wait_for(stream.next(), WAIT)
        return [first]

    (first,) = run(scenario())
    assert first is not None
    assert first.event == "comment"
    assert first.data == {"id": held, "parent": None}


def publish_without_commit(core, comment_id: int) -> None:
    uow = core.uow()
    with uow:
        publish(uow, load_comment(uow.session, comment_id))
        # Leaving without a commit rolls the publication back.


def load_page_id(core, comment_id: int) -> int:
    uow = core.uow()
    with uow:
        return load_comment(uow.session, comment_id).page_id
