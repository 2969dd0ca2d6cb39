"""A process's live parts from its settings: the hub and listener of a web process, or the
publisher alone of a process that holds no streams (the CLI)."""

from __future__ import annotations

from dataclasses import dataclass

from engagement.config import Settings
from engagement.live.broadcast import Broadcast, LocalBroadcast
from engagement.live.hub import Hub
from engagement.live.redis_bus import RedisListener, RedisPublisher


@dataclass
class Live:
    """A web process's streams: its hub, the broadcast its commits use, and (with Redis) the
    subscription that brings every process's notices to the hub."""

    hub: Hub
    broadcast: Broadcast
    listener: RedisListener | None = None

    async def ready(self, timeout: float = 2.0) -> bool:
        """Whether notices from other processes reach this one now (always, without Redis)."""
        return True if self.listener is None else await self.listener.ready(timeout)

    def start(self) -> None:
        if self.listener is not None:
            self.listener.start()

    async def stop(self) -> None:
        self.hub.end_all()
        if self.listener is not None:
            await self.listener.stop()
        self.broadcast.close()


def build_live(settings: Settings) -> Live:
    """Redis pub/sub when the broker is Redis (every web process hears every commit), this
    process alone otherwise (the embedded mode: one web process)."""
    hub = Hub(settings.stream_max_connections)
    url = settings.live_redis_url
    if url is None:
        return Live(hub, LocalBroadcast(hub))
    return Live(
        hub, RedisPublisher(url, settings.stream_channel), RedisListener(url, settings.stream_channel, hub)
    )


def publisher(settings: Settings) -> Broadcast | None:
    """For a process without streams: Redis reaches the web processes; without Redis there is
    no way to them (the embedded mode's CLI), and readers see the change on their next read."""
    url = settings.live_redis_url
    return None if url is None else RedisPublisher(url, settings.stream_channel)
