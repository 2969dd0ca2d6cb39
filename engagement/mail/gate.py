"""A per-transport send rate limit (GCRA): in process memory, or in Redis for every worker at once."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import redis

# Keeps the theoretical arrival time (TAT) of the next message and reserves ARGV[2] evenly
# spaced slots from it; answers how long to wait for the first. The server's own clock is
# used, so workers on several hosts agree without synchronised clocks.
_GCRA = """
local interval = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local nxt = tat + interval * count
redis.call('SET', KEYS[1], string.format('%.6f', nxt), 'PX', math.ceil((nxt - now) * 1000) + 1000)
return string.format('%.6f', tat - now)
"""
# A process reserves at most this much sending time per round trip to Redis.
RESERVE_SECONDS = 0.1


class RateGate(Protocol):
    def wait(self) -> None:
        """Block until one more message may leave."""


class LocalGate:
    """Spaces messages evenly at ``rate`` per second across the threads of one process."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tat = 0.0

    def wait(self) -> None:
        with self._lock:
            now = self._clock()
            tat = max(self._tat, now)
            self._tat = tat + self.interval
        if tat > now:
            self._sleep(tat - now)


class RedisGate:
    """The same spacing shared by every process on every host through one Redis key.

    Each round trip reserves a few slots (up to a tenth of a second's worth), so a fast
    transport is not slowed by Redis; unused slots are simply lost, which errs on the slow
    side. If Redis cannot be reached the gate falls back to the local one rather than stop mail.
    """

    def __init__(self, client: Any, key: str, rate: float) -> None:
        self._client = client
        self._key = key
        self._script = client.register_script(_GCRA)
        self._local = LocalGate(rate)
        self.interval = 1.0 / rate
        self.batch = max(1, min(100, int(rate * RESERVE_SECONDS)))
        self._slots: deque[float] = deque()
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            if not self._slots:
                try:
                    delay = float(self._script(keys=[self._key], args=[f"{self.interval:.6f}", self.batch]))
                except redis.RedisError:  # a broken Redis must not stop the mail: slow down locally
                    delay = None
                if delay is not None:
                    first = time.monotonic() + delay
                    self._slots.extend(first + i * self.interval for i in range(self.batch))
            slot = self._slots.popleft() if self._slots else None
        if slot is None:
            self._local.wait()
            return
        pause = slot - time.monotonic()
        if pause > 0:
            time.sleep(pause)


def make_gate(rate: float, transport_key: str, redis_url: str | None) -> RateGate:
    """A Redis-shared gate when a Redis URL is given (production), else a local one."""
    if not redis_url:
        return LocalGate(rate)
    client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    return RedisGate(client, f"engagement:smtp-rate:{transport_key}", rate)
