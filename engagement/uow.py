"""The unit of work: one session, one commit, outbox events that commit with the change."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, cast

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from engagement.clock import Clock, utcnow
from engagement.driver_reads import read_rows
from engagement.keys import Keys
from engagement.logs import with_request_id
from engagement.models import OutboxEvent
from engagement.outbox import EVENT_KINDS
from engagement.ratelimit import RateLimiter
from engagement.thread_cache import ThreadCache, TimedCache

if TYPE_CHECKING:
    from engagement.live.broadcast import Broadcast
    from engagement.live.notices import Notice
    from engagement.services.site_cache import SiteRules

log = structlog.get_logger(__name__)

OnCommit = Callable[[Sequence[int]], None]

# Built once: nearly every write adds an event, and its id comes back in the same round trip.
_events_table = cast(sa.Table, OutboxEvent.__table__)
_INSERT_EVENT = sa.insert(_events_table).returning(_events_table.c.id)


class UnitOfWork:
    """``with uow:`` opens a session; ``uow.commit()`` commits once; leaving rolls back the rest.

    A unit of work can be entered again after it exits, each time with a new session. After a
    commit that wrote outbox events, ``on_commit`` receives their ids (the relay hands them to
    the broker at once); if that fails, the periodic sweep relays them later: nothing is lost.
    """

    session: Session

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        keys: Keys,
        limiter: RateLimiter | None = None,
        clock: Clock = utcnow,
        on_commit: OnCommit | None = None,
        thread_cache: ThreadCache | None = None,
        site_cache: TimedCache[SiteRules] | None = None,
        reads: Engine | None = None,
        broadcast: Broadcast | None = None,
    ) -> None:
        self.session_factory = session_factory
        self._reads = reads
        self.keys = keys
        self.limiter = limiter
        self.clock = clock
        self.on_commit = on_commit
        # Emptied by every commit: this process's own writes show in the next thread read.
        self.thread_cache = thread_cache if thread_cache is not None else ThreadCache(0)
        # Emptied only by commits that change a site or its bans (see sites_changed).
        self.site_cache: TimedCache[SiteRules] = site_cache if site_cache is not None else TimedCache(0)
        self.broadcast = broadcast
        self._events: list[int] = []
        self._notices: list[Notice] = []
        self._sites_changed = False

    def __enter__(self) -> Self:
        self.session = self.session_factory()
        self._events = []
        self._notices = []
        self._sites_changed = False
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            # Detaches every object first (those a service returns stay readable), then rolls
            # back whatever was not committed and gives the connection back.
            self.session.close()
        finally:
            self._events = []
            self._notices = []
            self._sites_changed = False

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection outside any transaction, for a read of one statement: no BEGIN and no
        ROLLBACK around it, two round trips to PostgreSQL fewer than a session's."""
        if self._reads is None:
            bind = self.session_factory.kw["bind"]
            self._reads = bind.execution_options(isolation_level="AUTOCOMMIT")
        with self._reads.connect() as connection:
            yield connection

    def read_rows(self, statement: sa.Executable, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of one statement of integers and strings, outside any transaction, on the
        driver's own cursor (``driver_reads``): the hot reads' cheapest way to the database."""
        return read_rows(self.session_factory.kw["bind"], statement, params)

    def now(self) -> Any:
        return self.clock()

    def add_event(self, kind: str, payload: dict[str, Any]) -> int:
        """Join an outbox event to this transaction (its id): it exists only if the change commits."""
        event_id = int(self.session.execute(_INSERT_EVENT, self.event_values(kind, payload)).scalar_one())
        self.joined_event(event_id)
        return event_id

    def event_values(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """An outbox event's row but its id, for :meth:`add_event` or a statement that inserts
        the event together with the change it reports."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown outbox event kind {kind!r}")
        return {"kind": kind, "payload": with_request_id(payload), "created_at": self.now()}

    def joined_event(self, event_id: int) -> None:
        """An outbox event a statement of this unit of work inserted itself: the commit hands
        it to the relay like those of :meth:`add_event`."""
        self._events.append(event_id)

    def execute_alone(self, statement: sa.Executable, params: dict[str, Any]) -> sa.Row[Any] | None:
        """Run a unit of work's only write as one statement in autocommit mode: atomic like any
        statement, without the BEGIN and COMMIT round trips, and its row locks held no longer
        than the statement. Nothing else may be written in this unit of work; :meth:`commit`
        then does what follows a commit (events, notices, caches).

        After a read in the session the statement joins that transaction instead: a request
        never holds two of the pool's connections at once, whatever the pool's size."""
        if self.session.in_transaction():
            return self.session.execute(statement, params).first()
        with self.reading() as connection:
            return connection.execute(statement, params).first()

    def announce(self, notice: Notice) -> None:
        """Tell the page's live streams, once this transaction commits (never if it rolls back)."""
        if self.broadcast is not None:
            self._notices.append(notice)

    def sites_changed(self) -> None:
        """Say that this transaction changes a site's settings or its bans: the commit empties
        the site cache, so this process applies the change from the next request on."""
        self._sites_changed = True

    def commit(self) -> None:
        self.session.flush()
        ids = self._events
        self.session.commit()
        self._events = []
        self.thread_cache.clear()
        if self._sites_changed:
            self.site_cache.clear()
            self._sites_changed = False
        if ids and self.on_commit is not None:
            try:
                self.on_commit(ids)
            except Exception:  # the sweep relays what this hand-off missed
                log.warning("outbox.handoff_failed", event_ids=ids, exc_info=True)
        notices, self._notices = self._notices, []
        if notices and self.broadcast is not None:
            try:
                self.broadcast.publish(notices)
            except Exception:  # a missed notice: readers see the comment on their next read
                log.warning("live.publish_failed", notices=len(notices), exc_info=True)

    def rollback(self) -> None:
        self.session.rollback()
        self._events = []
        self._notices = []
