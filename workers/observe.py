"""Every task: a log line with its id and name (and the request that caused it), and its metrics."""

from __future__ import annotations

import time
from typing import Any

import structlog
from celery import Task, signals
from prometheus_client import multiprocess

from engagement.config import Settings
from engagement.logs import REQUEST_ID, bind_request_id, configure_logging, current_request_id
from engagement.metrics import instruments, multiprocess_folder

log = structlog.get_logger(__name__)
# The message header a task's cause travels in, from the web's request to the tasks it causes.
HEADER = "engagement_request_id"
_started: dict[str, float] = {}


def cause_headers() -> dict[str, str]:
    """Headers for a task sent now: the request id being handled, if any."""
    request_id = current_request_id()
    return {HEADER: request_id} if request_id else {}


def _before(task_id: str | None = None, task: Task[Any, Any] | None = None, **_: Any) -> None:
    structlog.contextvars.clear_contextvars()
    if task is None or task_id is None:
        return
    structlog.contextvars.bind_contextvars(task_id=task_id, task=task.name)
    bind_request_id(getattr(task.request, HEADER, None))
    _started[task_id] = time.perf_counter()


def _after(
    task_id: str | None = None, task: Task[Any, Any] | None = None, state: str | None = None, **_: Any
) -> None:
    if task is None or task_id is None:
        return
    seconds = time.perf_counter() - _started.pop(task_id, time.perf_counter())
    metrics = instruments()
    metrics.tasks.labels(task.name, state or "UNKNOWN").inc()
    metrics.task_duration.labels(task.name).observe(seconds)
    line = log.info if state == "SUCCESS" else log.warning
    line("task.done", state=state, duration_ms=round(seconds * 1000, 2))
    structlog.contextvars.clear_contextvars()


def _child_exits(pid: int | None = None, **_: Any) -> None:
    folder = multiprocess_folder()
    if folder is not None and pid is not None:
        multiprocess.mark_process_dead(pid, str(folder))  # type: ignore[no-untyped-call]


def observe_tasks(settings: Settings) -> None:
    """Connect the task lines and metrics (once per process, whichever app asks first)."""
    signals.task_prerun.connect(_before, weak=False, dispatch_uid="engagement.task_prerun")
    signals.task_postrun.connect(_after, weak=False, dispatch_uid="engagement.task_postrun")
    signals.worker_process_shutdown.connect(_child_exits, weak=False, dispatch_uid="engagement.child_exits")

    def logging_setup(**_: Any) -> None:
        configure_logging(settings)  # our format, not Celery's: connecting here stops its own

    signals.setup_logging.connect(logging_setup, weak=False, dispatch_uid="engagement.setup_logging")


__all__ = ["HEADER", "REQUEST_ID", "cause_headers", "observe_tasks"]
