"""One web process's open streams, by page: a notice is handed to each stream of its page."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from engagement.errors import StreamsFull
from engagement.live.notices import Notice
from engagement.metrics import instruments

# A stream this far behind (a reader on a stalled connection) is ended rather than buffered
# without end; its browser reconnects and resumes from the database.
MAX_BACKLOG = 200
# Streams handed a notice per turn of the event loop.
SLICE = 500
# How long a refused stream is told to wait before trying again.
FULL_RETRY_AFTER_SECONDS = 60


class Subscription:
    """One open stream: the notices for its page, in order; ``None`` ends it."""

    __slots__ = ("closed", "hub", "page_id", "queue")

    def __init__(self, hub: Hub, page_id: int) -> None:
        self.hub = hub
        self.page_id = page_id
        self.queue: asyncio.Queue[Notice | None] = asyncio.Queue()
        self.closed = False

    def offer(self, notice: Notice) -> None:
        if self.closed:
            return
        if self.queue.qsize() >= MAX_BACKLOG:
            self.end()
            return
        self.queue.put_nowait(notice)

    def end(self) -> None:
        """Stop this stream after what it holds (its reader reconnects)."""
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)

    async def next(self) -> Notice | None:
        return await self.queue.get()

    def close(self) -> None:
        """Leave the hub (idempotent): the stream's connection is gone."""
        self.closed = True
        self.hub.leave(self)


class Hub:
    """The streams of one process, at most ``max_connections`` of them.

    Everything here runs on the process's event loop; ``deliver_threadsafe`` is the way in
    from another thread (a commit in a route on the thread pool).
    """

    def __init__(self, max_connections: int) -> None:
        self.max_connections = max_connections
        self._pages: dict[int, set[Subscription]] = {}
        self._count = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def count(self) -> int:
        return self._count

    def subscribe(self, page_id: int) -> Subscription:
        """A new stream on the page; StreamsFull past the cap (the widget polls instead)."""
        if self._count >= self.max_connections:
            raise StreamsFull(
                f"this server holds its maximum of {self.max_connections} live streams",
                retry_after=FULL_RETRY_AFTER_SECONDS,
            )
        self._loop = asyncio.get_running_loop()
        subscription = Subscription(self, page_id)
        self._pages.setdefault(page_id, set()).add(subscription)
        self._count += 1
        instruments().live_streams.inc()
        return subscription

    def leave(self, subscription: Subscription) -> None:
        streams = self._pages.get(subscription.page_id)
        if streams is None or subscription not in streams:
            return
        streams.discard(subscription)
        self._count -= 1
        instruments().live_streams.dec()
        if not streams:
            del self._pages[subscription.page_id]

    def deliver(self, notices: Sequence[Notice]) -> None:
        """Hand each notice to the streams of its page (on the event loop)."""
        for notice in notices:
            self._offer(notice, tuple(self._pages.get(notice.page_id, ())))

    def _offer(self, notice: Notice, streams: tuple[Subscription, ...]) -> None:
        # A busy page's streams in slices, each a turn of the loop: other requests (the
        # poster's own answer first) go on between them instead of after them all.
        for subscription in streams[:SLICE]:
            subscription.offer(notice)
        if len(streams) > SLICE:
            asyncio.get_running_loop().call_soon(self._offer, notice, streams[SLICE:])

    def deliver_threadsafe(self, notices: Sequence[Notice]) -> None:
        """:meth:`deliver` from any thread; nothing to do while no stream was ever opened."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if not any(notice.page_id in self._pages for notice in notices):
            return
        loop.call_soon_threadsafe(self.deliver, list(notices))

    def end_all(self) -> None:
        """End every stream: after a gap in the notices (Redis was away), each reconnects and
        resumes from the database instead of silently missing what was published meanwhile."""
        for streams in tuple(self._pages.values()):
            for subscription in tuple(streams):
                subscription.end()
