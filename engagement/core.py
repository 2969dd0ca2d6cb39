"""Builds the core's parts from settings: engine, sessions, keys, rate limiter, units of work."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from engagement.clock import Clock, utcnow
from engagement.config import Settings
from engagement.db import make_engine, make_session_factory
from engagement.keys import Keys
from engagement.live.broadcast import Broadcast
from engagement.ratelimit import RateLimiter
from engagement.services.site_cache import SiteRules
from engagement.thread_cache import ThreadCache, TimedCache
from engagement.uow import OnCommit, UnitOfWork


@dataclass
class Core:
    """The long-lived parts one process shares; each request or task takes a fresh ``uow()``."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    keys: Keys
    limiter: RateLimiter
    clock: Clock = utcnow
    on_commit: OnCommit | None = field(default=None)
    thread_cache: ThreadCache = field(default_factory=lambda: ThreadCache(0))
    site_cache: TimedCache[SiteRules] = field(default_factory=lambda: TimedCache(0))
    reads: Engine | None = None  # the engine in autocommit, for reads of one statement
    broadcast: Broadcast | None = None  # where commits announce to live streams (engagement.live)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(
            self.session_factory,
            keys=self.keys,
            limiter=self.limiter,
            clock=self.clock,
            on_commit=self.on_commit,
            thread_cache=self.thread_cache,
            site_cache=self.site_cache,
            reads=self.reads,
            broadcast=self.broadcast,
        )

    def dispose(self) -> None:
        if self.broadcast is not None:
            self.broadcast.close()
        self.engine.dispose()


def build_core(
    settings: Settings,
    *,
    on_commit: OnCommit | None = None,
    clock: Clock = utcnow,
    broadcast: Broadcast | None = None,
) -> Core:
    """Wire the core for one process (web, worker, beat or CLI)."""
    if settings.resolved_database_url.startswith("sqlite:///"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    limiter = RateLimiter(
        settings.resolved_rate_limit_storage_url,
        {
            "comment": settings.comment_rate_limit,
            "subscribe": settings.subscribe_rate_limit,
            "preview": settings.preview_rate_limit,
            "report": settings.report_rate_limit,
            "signin": settings.signin_rate_limit,
        },
        enabled=settings.rate_limits_enabled,
    )
    return Core(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        keys=Keys(settings.secret_key),
        limiter=limiter,
        clock=clock,
        on_commit=on_commit,
        thread_cache=ThreadCache(settings.thread_cache_seconds),
        site_cache=TimedCache(settings.thread_cache_seconds),
        reads=engine.execution_options(isolation_level="AUTOCOMMIT"),
        broadcast=broadcast,
    )
