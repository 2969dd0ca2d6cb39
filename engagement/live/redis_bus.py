"""Notices between processes over Redis pub/sub: a publisher for committing processes, and the
one subscription per web process that feeds its hub."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import queue
import threading
from collections.abc import Sequence

import redis
import redis.asyncio as aioredis
import structlog

from engagement.live.hub import Hub
from engagement.live.notices import Notice, decode, encode

log = structlog.get_logger(__name__)
# A commit's notices wait for no broker: they queue for a thread that publishes them.
MAX_QUEUED = 10_000
RECONNECT_FIRST_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 30.0


class RedisPublisher:
    """The broadcast port over Redis: ``publish`` queues, a thread of its own sends.

    Notices that gather while a message is on its way travel together in the next. While
    Redis is away they are dropped (logged): open streams are ended when the subscription
    comes back, and their readers resume from the database.
    """

    def __init__(self, url: str, channel: str) -> None:
        self.channel = channel
        self._client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self._queue: queue.SimpleQueue[list[Notice] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def publish(self, notices: Sequence[Notice]) -> None:
        if self._queue.qsize() >= MAX_QUEUED:
            log.warning("live.publish_dropped", notices=len(notices), reason="queue full")
            return
        self._queue.put(list(notices))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="live-publish", daemon=True)
                self._thread.start()
                atexit.register(self.close)

    def close(self, timeout: float = 2.0) -> None:
        """Send what is queued (for up to ``timeout`` seconds), then stop."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)
        self._client.close()

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            stop = False
            while True:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch += more
            try:
                self._client.publish(self.channel, encode(batch))
            except redis.RedisError as exc:
                log.warning("live.publish_failed", notices=len(batch), error=str(exc))
            if stop:
                return


class RedisListener:
    """This process's one subscription to the channel, delivering to its hub.

    Runs as a task on the event loop, reconnecting with backoff. After a lost connection the
    hub's streams are ended, so their readers resume (``Last-Event-ID``) from the database.
    """

    def __init__(self, url: str, channel: str, hub: Hub) -> None:
        self.url = url
        self.channel = channel
        self.hub = hub
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None

    def start(self) -> None:
        """Start the subscription on the running loop (once)."""
        if self._task is None or self._task.done():
            self._ready = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="live-listen")

    async def ready(self, timeout: float) -> bool:
        """Whether the subscription is active (waiting up to ``timeout`` seconds for it)."""
        self.start()
        assert self._ready is not None
        if self._ready.is_set():  # every stream asks: no task for the common answer
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), timeout)
        return self._ready.is_set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        assert self._ready is not None
        delay = RECONNECT_FIRST_SECONDS
        connected_before = False
        while True:
            client = aioredis.Redis.from_url(self.url, socket_connect_timeout=3, health_check_interval=30)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                if connected_before:
                    self.hub.end_all()
                connected_before = True
                self._ready.set()
                delay = RECONNECT_FIRST_SECONDS
                log.info("live.subscribed", channel=self.channel)
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self.hub.deliver(decode(message["data"]))
            except (redis.RedisError, OSError) as exc:
                log.warning("live.subscription_lost", error=str(exc), retry_in=delay)
            finally:
                self._ready.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                    await client.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)
