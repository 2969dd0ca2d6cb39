"""The port a unit of work announces through after its commit, and its in-process adapter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from engagement.live.hub import Hub
from engagement.live.notices import Notice


class Broadcast(Protocol):
    """Takes the notices of a committed transaction; never raises into the commit's caller
    for long (a failure is logged: the stream is a hint, the thread read is the truth)."""

    def publish(self, notices: Sequence[Notice]) -> None: ...

    def close(self) -> None:
        """Send what is still queued, then let go of any connection."""


class LocalBroadcast:
    """The embedded mode: this process's own commits reach this process's streams."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def publish(self, notices: Sequence[Notice]) -> None:
        self.hub.deliver_threadsafe(notices)

    def close(self) -> None:
        """Nothing held."""
