"""Rate limits per reader, client address and e-mail, on memory or Redis storage.

When Redis is unreachable the limits are counted in this process's memory instead (said once
in the log), so that readers can still post; Redis is tried again every few seconds and used
as soon as it answers.
"""

from __future__ import annotations

import math
import time

import structlog
from limits import RateLimitItem, parse_many, storage, strategies
from limits.errors import StorageError

from engagement.errors import RateLimited

log = structlog.get_logger(__name__)
RETRY_STORAGE_SECONDS = 5.0
# A Redis that does not answer costs each request this long at most before the fallback.
REDIS_TIMEOUT_SECONDS = 1.0


class RateLimiter:
    """Named limits (``comment``, ``subscribe``…) checked for several identities at once."""

    def __init__(self, storage_url: str, rules: dict[str, str], *, enabled: bool = True) -> None:
        self.enabled = enabled
        options: dict[str, float] = {}
        if storage_url.startswith(("redis://", "rediss://")):
            options = {
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            }
        self._storage = storage.storage_from_string(storage_url, wrap_exceptions=True, **options)
        self._limiter = strategies.MovingWindowRateLimiter(self._storage)
        self._memory = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        # While the storage is away, limits are counted in memory until it is tried again.
        self._away = False
        self._retry_at = 0.0
        self._rules: dict[str, list[RateLimitItem]] = {k: parse_many(v) for k, v in rules.items()}

    def check(self, action: str, identities: dict[str, str | None]) -> None:
        """Count one ``action`` for each identity, or raise RateLimited without counting any."""
        if not self.enabled:
            return
        keys = [f"{kind}:{value}" for kind, value in identities.items() if value]
        if self._away and time.monotonic() < self._retry_at:
            self._count(self._memory, action, keys)
            return
        try:
            self._count(self._limiter, action, keys)
        except StorageError as exc:
            self._storage_lost(exc)
            self._count(self._memory, action, keys)
        else:
            if self._away:
                self._away = False
                log.info("ratelimit.storage_back")

    def _count(self, limiter: strategies.RateLimiter, action: str, keys: list[str]) -> None:
        items = self._rules[action]
        # Test every limit first, so one refused request does not use up the others.
        for key in keys:
            for item in items:
                if not limiter.test(item, action, key):
                    reset = limiter.get_window_stats(item, action, key).reset_time
                    retry = math.ceil(reset - time.time())
                    raise RateLimited(f"too many requests; try again in {max(retry, 1)} s", retry)
        for key in keys:
            for item in items:
                limiter.hit(item, action, key)

    def _storage_lost(self, exc: StorageError) -> None:
        if not self._away:
            log.warning("ratelimit.storage_unreachable", error=str(exc.storage_error), fallback="memory")
        self._away = True
        self._retry_at = time.monotonic() + RETRY_STORAGE_SECONDS

    def reset(self) -> None:
        self._storage.reset()
        self._memory.storage.reset()
