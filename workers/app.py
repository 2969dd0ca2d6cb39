"""The Celery app, configured from the core's settings: broker, queues, reliability, beat schedule."""

from __future__ import annotations

import atexit
import queue
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import structlog
from celery import Celery

from engagement.config import Settings
from engagement.core import Core
from engagement.uow import OnCommit
from workers import tasks
from workers.lifecycle import add_steps
from workers.observe import observe_tasks
from workers.resources import EngagementCelery, Resources

log = structlog.get_logger(__name__)
QUEUES = ("relay", "send", "digest")
HANDOFF_BATCH = 500
# How long the background hand-off lets commits gather before one message carries them all:
# a busy web process sends a few messages a second instead of one per comment (each costs
# more CPU than the comment's own statements); mail waits for its coalescing window anyway.
HANDOFF_LINGER_SECONDS = 0.05
# After a failed hand-off, commits skip it for this long (the sweep relays their events).
PAUSE_AFTER_FAILURE_SECONDS = 10.0
# Beat's rhythm. Windows fall due every few seconds; a lost hand-off waits for the sweep.
FLUSH_EVERY = timedelta(seconds=5)
SWEEP_EVERY = timedelta(seconds=10)
# The resume sweep takes over a dead worker's claims once their lease ran out: it runs every
# half lease, at most every 10 s and at least every second, so a claim is taken over within
# the lease plus 10 s (plus the time to hand it to a worker).
RESUME_EVERY_MAX = timedelta(seconds=10)
RESUME_EVERY_MIN = timedelta(seconds=1)
# A beat that dies hands over to a waiting one within this long (RedBeat's lock in Redis).
BEAT_LOCK_TIMEOUT_SECONDS = 15
DIGEST_TICK_EVERY = timedelta(minutes=5)
PRUNE_EVERY = timedelta(days=1)


def is_redis(url: str) -> bool:
    return url.startswith(("redis://", "rediss://"))


def make_celery(settings: Settings, *, core: Core | None = None, key_prefix: str = "") -> EngagementCelery:
    """The app for web (to hand events over), worker and beat processes alike.

    ``key_prefix`` keeps the Redis keys of several deployments (or test runs) apart.
    """
    app = EngagementCelery("engagement", set_as_current=False)
    app.conf.update(_config(settings, key_prefix))
    app.resources = Resources(settings, core=core)
    tasks.register(app)
    add_steps(app)
    observe_tasks(settings)
    return app


def _config(settings: Settings, key_prefix: str) -> dict[str, Any]:
    broker = settings.resolved_broker_url
    config: dict[str, Any] = {
        "broker_url": broker,
        # A worker waits out a broker outage of any length, at start as later: it retries for ever.
        "broker_connection_retry": True,
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        "task_serializer": "json",
        "accept_content": ["json"],
        "event_serializer": "json",
        "result_backend": None,
        "task_ignore_result": True,
        # A task is acknowledged after it ran, and given back if its worker dies: every
        # task is idempotent (delivery keys, conditional claims), so running twice is safe.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # A task running when the broker goes away finishes: its mails are claimed in the
        # database, not by the broker's message.
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": "relay",
        "task_queues": {name: {"routing_key": name} for name in QUEUES},
        "task_create_missing_queues": True,
        "timezone": "UTC",
        "enable_utc": True,
        "worker_hijack_root_logger": False,
        "beat_schedule": _schedule(settings),
        "beat_max_loop_interval": 5,
        # Where the default scheduler keeps its state (embedded mode, or --scheduler given).
        "beat_schedule_filename": str((settings.data_dir / "celerybeat-schedule").resolve()),
    }
    config.update(_broker_config(settings, key_prefix))
    return config


def _broker_config(settings: Settings, key_prefix: str) -> dict[str, Any]:
    """Transport options and beat's scheduler: Redis in production, a folder when embedded."""
    broker = settings.resolved_broker_url
    config: dict[str, Any] = {}
    if is_redis(broker):
        config["broker_transport_options"] = {
            "visibility_timeout": 3600,
            "socket_connect_timeout": 3,
            "socket_timeout": 30,
            "health_check_interval": 30,
            # No "unacked" bookkeeping in Redis: restoring it as the connection drops is what
            # ended workers (AttributeError on a detached transport, kombu #582, celery #10205).
            # At-least-once comes from the database: claimed deliveries with a lease, unrelayed
            # events, digest runs; the sweeps hand out again whatever a lost message carried.
            "ack_emulation": False,
            **({"global_keyprefix": key_prefix} if key_prefix else {}),
        }
        # RedBeat keeps the schedule and a lock in Redis: a second beat cannot double-fire.
        config["beat_scheduler"] = "workers.beat:Scheduler"
        config["redbeat_redis_url"] = broker
        config["redbeat_redis_options"] = {"socket_connect_timeout": 3, "socket_timeout": 10}
        config["redbeat_key_prefix"] = f"{key_prefix}redbeat"
        config["redbeat_lock_timeout"] = BEAT_LOCK_TIMEOUT_SECONDS
    elif broker.startswith("filesystem://"):
        # kombu's filesystem transport with message files that appear whole (workers/folder_broker.py).
        config["broker_transport"] = "workers.folder_broker:Transport"
        folder = (settings.data_dir / "broker").resolve()
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        config["broker_transport_options"] = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
            "polling_interval": 0.05,
        }
    return config


def resume_every(settings: Settings) -> timedelta:
    """How often the resume sweep runs: half a lease, within 1–10 s."""
    half_lease = timedelta(seconds=settings.delivery_lease_seconds / 2)
    return max(RESUME_EVERY_MIN, min(RESUME_EVERY_MAX, half_lease))


def _schedule(settings: Settings) -> dict[str, Any]:
    return {
        "flush-notifications": {"task": "engagement.flush", "schedule": FLUSH_EVERY},
        "sweep-outbox": {"task": "engagement.sweep", "schedule": SWEEP_EVERY},
        "resume-deliveries": {"task": "engagement.resume", "schedule": resume_every(settings)},
        "digest-tick": {"task": "engagement.digest_tick", "schedule": DIGEST_TICK_EVERY},
        "prune-deliveries": {"task": "engagement.prune", "schedule": PRUNE_EVERY},
    }


class Handoff:
    """The ``on_commit`` hook: committed event ids go to the relay queue at once.

    It never retries, and never holds a commit's caller for long: after a failed publish
    (the broker is down; Redis' client alone takes seconds to give up) it skips hand-offs
    for a while, and with ``background`` the publishing happens on a thread of its own,
    several commits' ids in one task. Whatever is skipped or lost, the sweep relays later.
    """

    def __init__(self, app: Celery, *, background: bool = False) -> None:
        self.app = app
        self.background = background
        self._closed_until = 0.0
        self._queue: queue.SimpleQueue[list[int] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def __call__(self, event_ids: Sequence[int]) -> None:
        if not self.background:
            self._publish(list(event_ids))
            return
        self._queue.put(list(event_ids))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="outbox-handoff", daemon=True)
                self._thread.start()
                atexit.register(self.close)

    def close(self, timeout: float = 5.0) -> None:
        """Hand over what is still queued (for up to ``timeout`` seconds), then stop the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _publish(self, ids: list[int]) -> None:
        if time.monotonic() < self._closed_until:
            log.info("outbox.handoff_skipped", event_ids=ids)
            return
        try:
            self.app.send_task("engagement.relay", args=[ids], queue="relay", retry=False)
        except Exception:
            self._closed_until = time.monotonic() + PAUSE_AFTER_FAILURE_SECONDS
            raise

    def _run(self) -> None:
        while True:
            ids = self._queue.get()
            if ids is None:
                return
            time.sleep(HANDOFF_LINGER_SECONDS)
            while len(ids) < HANDOFF_BATCH:  # commits that came meanwhile travel together
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                ids += more
            try:
                self._publish(ids)
            except Exception:
                log.warning("outbox.handoff_failed", event_ids=ids, exc_info=True)


def handoff(app: Celery, *, background: bool = False) -> OnCommit:
    """The hook for ``build_core(on_commit=…)``; a web server passes ``background=True``."""
    return Handoff(app, background=background)
