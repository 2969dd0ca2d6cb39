"""The worker's own boot steps: a heartbeat while it consumes, and a stop flag its tasks see at once."""

from __future__ import annotations

import multiprocessing
from typing import Any

import structlog
from celery import bootsteps

from engagement.heartbeat import heartbeat_path, write_heartbeat

log = structlog.get_logger(__name__)
HEARTBEAT_EVERY_SECONDS = 5.0


class StopFlag:
    """Raised when the worker is told to stop; a task checks it between two mails.

    Kept in shared memory made before the pool starts, so that the pool's forked processes
    (which never see the signal themselves) read the same flag as the threads of a threads pool.
    """

    def __init__(self) -> None:
        self._value = multiprocessing.RawValue("b", 0)

    def set(self) -> None:
        self._value.value = 1

    def __call__(self) -> bool:
        return bool(self._value.value)


class StopTasks(bootsteps.StartStopStep):
    """Raise the stop flag at a warm shutdown, before the pool waits for its running tasks."""

    requires = ("celery.worker.components:Pool",)  # so it stops before the pool

    def stop(self, worker: Any) -> None:
        log.info("worker.stopping", note="running sends hand back their unsent mail")
        worker.app.resources.stopping.set()

    def shutdown(self, worker: Any) -> None:
        self.stop(worker)


class Heartbeat(bootsteps.StartStopStep):
    """Write the worker's heartbeat every few seconds while the consumer is connected and running.

    The consumer's timer runs on its event loop, so a lost broker connection (the consumer
    restarts) or a wedged loop both stop the heartbeat; ``engagement health worker`` sees it.
    """

    requires = ("celery.worker.consumer.tasks:Tasks",)  # started once the queues are consumed

    def __init__(self, consumer: Any, **kwargs: Any) -> None:
        self.entry: Any = None
        self.path = heartbeat_path(consumer.app.resources.settings.data_dir, "worker")

    def start(self, consumer: Any) -> None:
        self.beat()
        self.entry = consumer.timer.call_repeatedly(HEARTBEAT_EVERY_SECONDS, self.beat)

    def stop(self, consumer: Any) -> None:
        if self.entry is not None:
            self.entry.cancel()
            self.entry = None

    def shutdown(self, consumer: Any) -> None:
        self.stop(consumer)

    def beat(self) -> None:
        try:
            write_heartbeat(self.path)
        except OSError as exc:  # a full or read-only disk shows as a stale heartbeat, not a crash
            log.warning("worker.heartbeat_failed", error=str(exc))


def add_steps(app: Any) -> None:
    """Register the steps on ``app``'s worker and consumer blueprints."""
    app.steps["worker"].add(StopTasks)
    app.steps["consumer"].add(Heartbeat)
