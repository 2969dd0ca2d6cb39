"""Rate limits per reader, client address and e-mail, on memory or Redis storage."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many, storage, strategies

from engagement.errors import RateLimited


class RateLimiter:
    """Named limits (``comment``, ``subscribe``…) checked for several identities at once."""

    def __init__(self, storage_url: str, rules: dict[str, str], *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._storage = storage.storage_from_string(storage_url)
        self._limiter = strategies.MovingWindowRateLimiter(self._storage)
        self._rules: dict[str, list[RateLimitItem]] = {k: parse_many(v) for k, v in rules.items()}

    def check(self, action: str, identities: dict[str, str | None]) -> None:
        """Count one ``action`` for each identity, or raise RateLimited without counting any."""
        if not self.enabled:
            return
        keys = [f"{kind}:{value}" for kind, value in identities.items() if value]
        items = self._rules[action]
        # Test every limit first, so one refused request does not use up the others.
        for key in keys:
            for item in items:
                if not self._limiter.test(item, action, key):
                    reset = self._limiter.get_window_stats(item, action, key).reset_time
                    retry = math.ceil(reset - time.time())
                    raise RateLimited(f"too many requests; try again in {max(retry, 1)} s", retry)
        for key in keys:
            for item in items:
                self._limiter.hit(item, action, key)

    def reset(self) -> None:
        self._storage.reset()
