"""Per-process micro-caches: a hot article read many times a second costs about one read.

The thread cache keeps what every reader sees alike (the page, its tallies, the comments'
rows, the counts a listing page asks for); each reader's own vote and reaction are read
fresh. An entry lives ``seconds`` (the ``ENGAGEMENT_THREAD_CACHE_SECONDS`` setting, 1 by
default), and every commit in this process empties the cache, so this process's own writes
show at once; a write by another process (a second web process, the CLI) shows within
``seconds``, well inside the ``max-age`` the API already gives thread answers. The site cache
(``services/site_cache.py``) is the same kind of cache, emptied only by commits that change
a site or its bans.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

MAX_ENTRIES = 512
MAX_ROWS = 500  # larger answers (walks of 100 comments with their replies) are read each time


@dataclass(frozen=True)
class CachedPage:
    """The reader-independent rows of one page of a thread."""

    url: str | None
    title: str | None
    comments: int
    page_id: int | None
    reactions: dict[str, int]
    tops: list[Any]
    replies: list[Any]
    more: bool
    views: tuple[Any, ...] = ()  # the comments assembled for a reader without votes on them
    next_cursor: str | None = None  # where the next page starts, when ``more``
    # What the API renders of the page for a reader without votes or reaction on it (its JSON
    # and ETag), kept with the entry: a hot thread is serialised once in the cache's life.
    rendered: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def rows(self) -> int:
        return len(self.tops) + len(self.replies)


@dataclass(frozen=True)
class CachedCounts:
    """Comments and reactions by page reference as asked, for one site and one list of references."""

    counts: dict[str, dict[str, int]]  # shared by every answer: never changed
    rendered: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # as CachedPage's

    @property
    def rows(self) -> int:
        return len(self.counts)


@dataclass(frozen=True)
class CachedPopular:
    """A site's most discussed pages for one window, one page left out (``services/discussion/popular``)."""

    enabled: bool
    title: str | None
    pages: tuple[dict[str, Any], ...]

    @property
    def rows(self) -> int:
        return len(self.pages)


@dataclass(frozen=True)
class CachedSettings:
    """What the widget may know of one site (``services/sites.public_settings``)."""

    settings: dict[str, Any]  # shared by every answer: never changed
    rendered: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # as CachedPage's

    @property
    def rows(self) -> int:
        return 1


Cached = CachedPage | CachedCounts | CachedPopular | CachedSettings


class Sized(Protocol):
    @property
    def rows(self) -> int: ...


V = TypeVar("V", bound=Sized)


class TimedCache(Generic[V]):
    """Entries by key, each kept ``seconds``; safe to use from several threads."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0  # one more at each clear

    def generation(self) -> int:
        """Taken before reading the rows to :meth:`put`: a clear meanwhile makes them stale."""
        return self._generation

    def get(self, key: Hashable) -> V | None:
        if self.seconds <= 0:
            return None
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] <= self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, value: V, generation: int) -> None:
        """Keep ``value``, read after :meth:`generation` gave ``generation``, unless a clear came since."""
        if self.seconds <= 0 or value.rows > MAX_ROWS:
            return
        with self._lock:
            if generation != self._generation:
                return
            self._entries[key] = (self._clock() + self.seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1


ThreadCache = TimedCache[Cached]
