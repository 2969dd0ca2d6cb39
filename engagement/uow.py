"""The unit of work: one session, one commit, outbox events that commit with the change."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self

import structlog
from sqlalchemy.orm import Session, sessionmaker

from engagement.clock import Clock, utcnow
from engagement.keys import Keys
from engagement.logs import with_request_id
from engagement.models import OutboxEvent
from engagement.outbox import EVENT_KINDS
from engagement.ratelimit import RateLimiter
from engagement.thread_cache import ThreadCache

log = structlog.get_logger(__name__)

OnCommit = Callable[[Sequence[int]], None]


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
    ) -> None:
        self.session_factory = session_factory
        self.keys = keys
        self.limiter = limiter
        self.clock = clock
        self.on_commit = on_commit
        # Emptied by every commit: this process's own writes show in the next thread read.
        self.thread_cache = thread_cache if thread_cache is not None else ThreadCache(0)
        self._events: list[OutboxEvent] = []

    def __enter__(self) -> Self:
        self.session = self.session_factory()
        self._events = []
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            # Detach first: objects a service returns stay readable (rollback would expire them).
            self.session.expunge_all()
            self.session.rollback()
        finally:
            self.session.close()
            self._events = []

    def now(self) -> Any:
        return self.clock()

    def add_event(self, kind: str, payload: dict[str, Any]) -> OutboxEvent:
        """Join an outbox event to this transaction: it exists only if the change commits."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown outbox event kind {kind!r}")
        event = OutboxEvent(kind=kind, payload=with_request_id(payload), created_at=self.now())
        self.session.add(event)
        self._events.append(event)
        return event

    def commit(self) -> None:
        self.session.flush()
        ids = [event.id for event in self._events]
        self.session.commit()
        self._events = []
        self.thread_cache.clear()
        if ids and self.on_commit is not None:
            try:
                self.on_commit(ids)
            except Exception:  # the sweep relays what this hand-off missed
                log.warning("outbox.handoff_failed", event_ids=ids, exc_info=True)

    def rollback(self) -> None:
        self.session.rollback()
        self._events = []
