"""The Celery app, configured from the core's settings: broker, queues, reliability, beat schedule."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import Celery

from engagement.config import Settings
from engagement.core import Core, build_core
from engagement.mail.mailer import Mailer, build_mailer
from engagement.uow import OnCommit

QUEUES = ("relay", "send", "digest")
# Beat's rhythm. Windows fall due every few seconds; a lost hand-off waits for the sweep.
FLUSH_EVERY = timedelta(seconds=5)
SWEEP_EVERY = timedelta(seconds=30)
RESUME_EVERY = timedelta(seconds=60)
DIGEST_TICK_EVERY = timedelta(minutes=5)


@dataclass
class Resources:
    """What the tasks of one worker process share, built on first use in that process.

    Built lazily so that a prefork worker's children each open their own database pool
    instead of sharing the parent's sockets. A test may hand in a core of its own.
    """

    settings: Settings
    core: Core | None = None
    mailer: Mailer | None = None
    pid: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        if self.core is not None:
            self.pid = os.getpid()

    def get(self) -> tuple[Core, Mailer]:
        with self._lock:
            if self.core is None or self.pid != os.getpid():
                self.core = build_core(self.settings)
                self.pid = os.getpid()
                self.mailer = None
            if self.mailer is None:
                self.mailer = build_mailer(self.settings, self.core.keys)
            return self.core, self.mailer


def is_redis(url: str) -> bool:
    return url.startswith(("redis://", "rediss://"))


class EngagementCelery(Celery):
    """A Celery app that carries the process's core and mailer for its tasks."""

    resources: Resources


def make_celery(settings: Settings, *, core: Core | None = None, key_prefix: str = "") -> EngagementCelery:
    """The app for web (to hand events over), worker and beat processes alike.

    ``key_prefix`` keeps the Redis keys of several deployments (or test runs) apart.
    """
    from workers import tasks

    app = EngagementCelery("engagement", set_as_current=False)
    app.conf.update(_config(settings, key_prefix))
    app.resources = Resources(settings, core=core)
    tasks.register(app)
    return app


def _config(settings: Settings, key_prefix: str) -> dict[str, Any]:
    broker = settings.resolved_broker_url
    config: dict[str, Any] = {
        "broker_url": broker,
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,  # a worker waits out a broker outage
        "task_serializer": "json",
        "accept_content": ["json"],
        "event_serializer": "json",
        "result_backend": None,
        "task_ignore_result": True,
        # A task is acknowledged after it ran, and given back if its worker dies: every
        # task is idempotent (delivery keys, conditional claims), so running twice is safe.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "worker_prefetch_multiplier": 1,
        "task_default_queue": "relay",
        "task_queues": {name: {"routing_key": name} for name in QUEUES},
        "task_create_missing_queues": True,
        "timezone": "UTC",
        "enable_utc": True,
        "worker_hijack_root_logger": False,
        "beat_schedule": _schedule(),
    }
    if is_redis(broker):
        config["broker_transport_options"] = {
            "visibility_timeout": 3600,
            "socket_connect_timeout": 3,
            "socket_timeout": 30,
            "health_check_interval": 30,
            **({"global_keyprefix": key_prefix} if key_prefix else {}),
        }
        # RedBeat keeps the schedule and a lock in Redis: a second beat cannot double-fire.
        config["beat_scheduler"] = "redbeat.RedBeatScheduler"
        config["redbeat_redis_url"] = broker
        config["redbeat_key_prefix"] = f"{key_prefix}redbeat"
        config["redbeat_lock_timeout"] = int(SWEEP_EVERY.total_seconds() * 5)
    elif broker.startswith("filesystem://"):
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
        config["beat_schedule_filename"] = str((settings.data_dir / "celerybeat-schedule").resolve())
    return config


def _schedule() -> dict[str, Any]:
    return {
        "flush-notifications": {"task": "engagement.flush", "schedule": FLUSH_EVERY},
        "sweep-outbox": {"task": "engagement.sweep", "schedule": SWEEP_EVERY},
        "resume-deliveries": {"task": "engagement.resume", "schedule": RESUME_EVERY},
        "digest-tick": {"task": "engagement.digest_tick", "schedule": DIGEST_TICK_EVERY},
    }


def handoff(app: Celery) -> OnCommit:
    """The ``on_commit`` hook of a web (or CLI) process: committed event ids go to the relay.

    It never retries: when the broker is down the commit already happened, and the sweep
    relays the events later. A failure here is logged by the unit of work.
    """

    def hand_over(event_ids: Any) -> None:
        app.send_task("engagement.relay", args=[list(event_ids)], queue="relay", retry=False)

    return hand_over
