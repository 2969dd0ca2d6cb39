"""Beat's scheduler on Redis: RedBeat, made to outlive a Redis restart and to hand over quickly.

RedBeat keeps the schedule and a lock in Redis, so that of several beats only one fires.
As shipped, the lock is taken once at start (a second beat retries only every
``max_interval``) and a lock found missing at a tick (Redis restarted, empty) ends the
process. Here the lock is taken, kept and taken again at each tick: a beat waiting for it
retries every half second, a lost one is taken again, and whoever takes it writes the schedule
again (Redis may have come back without it; each entry keeps its last run where it has one).
"""

from __future__ import annotations

from typing import Any

import structlog
from redbeat import RedBeatScheduler
from redbeat.schedulers import get_redis
from redis.exceptions import LockError, LockNotOwnedError, RedisError
from redis.lock import Lock

from engagement.heartbeat import heartbeat_path, write_heartbeat

log = structlog.get_logger(__name__)
STANDBY_RETRY_SECONDS = 0.5  # how often a beat without the lock (or without Redis) tries again


class Scheduler(RedBeatScheduler):  # type: ignore[misc]  # RedBeat ships no types
    """RedBeat whose lock is a lease renewed at each tick, never a reason to stop."""

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        # Without a lock_key, RedBeat's start-up hook (which blocks until it holds the lock)
        # and its tick (which ends the process when the lock is gone) leave the lock to us.
        self.lock_name: str = kwargs.get("lock_key") or app.redbeat_conf.lock_key
        self.lock_key = None
        self.lease: Lock | None = None
        self.lost = False  # the lock went missing: Redis restarted, most likely empty
        self.heartbeat = heartbeat_path(app.resources.settings.data_dir, "beat")

    def setup_schedule(self) -> None:
        """Nothing at start: the beat that takes the lock writes the schedule (:meth:`_take_lock`)."""

    def tick(self, *args: Any, **kwargs: Any) -> float:
        try:
            if not self._hold_lock():
                interval = STANDBY_RETRY_SECONDS
            else:
                # Renewed at least three times a lock timeout, whatever the next entry's time.
                interval = min(float(super().tick(*args, **kwargs)), self.lock_timeout / 3)
        except RedisError as exc:
            log.warning("beat.redis_unreachable", error=str(exc))
            return STANDBY_RETRY_SECONDS
        write_heartbeat(self.heartbeat)
        return interval

    def close(self) -> None:
        """Give the lock back (a successor starts at once), unless Redis is away: then it expires."""
        if self.lease is not None:
            try:
                self.lease.release()
                log.info("beat.lock_released", lock=self.lock_name)
            except (RedisError, LockError) as exc:
                log.warning("beat.lock_not_released", error=str(exc))
            self.lease = None
        super().close()

    def _hold_lock(self) -> bool:
        if self.lease is not None:
            try:
                self.lease.extend(self.lock_timeout, replace_ttl=True)
                return True
            except LockNotOwnedError:
                log.warning("beat.lock_lost", reason="Redis restarted, or this beat stalled past the lock")
                self.lease = None
                self.lost = True
        return self._take_lock()

    def _take_lock(self) -> bool:
        lock = get_redis(self.app).lock(self.lock_name, timeout=self.lock_timeout)
        if not lock.acquire(blocking=False):
            return False
        log.info("beat.lock_taken", lock=self.lock_name, timeout=self.lock_timeout)
        self.lease = lock
        super().setup_schedule()
        if self.lost:
            self._hand_out_again()
        return True

    def _hand_out_again(self) -> None:
        """Redis most likely lost its queues with the lock: the tasks they held are gone.

        The sweeps find their work in the database; run them now, without the grace that
        normally spares rows whose task is merely queued (a task sent twice does nothing twice).
        """
        self.lost = False
        log.info("beat.hand_out_again")
        self.app.send_task("engagement.sweep", kwargs={"older_than_seconds": 0}, queue="relay")
        self.app.send_task("engagement.resume", kwargs={"grace_seconds": 0}, queue="send")
