"""Every Prometheus metric of engagement, defined once; no address, URL, page or reader id in a label.

The instruments are made on first use, after :func:`enable_multiprocess` (if called): in
multiprocess mode prometheus-client keeps each process's values in files of one folder,
which :mod:`engagement.metrics_scrape` adds up, so every web process and pool child counts.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

import structlog
from prometheus_client import Counter, Gauge, Histogram, values

log = structlog.get_logger(__name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Instruments:
    """The counters and histograms that code updates where things happen."""

    http_requests: Counter
    http_request_duration: Histogram
    comments_posted: Counter
    reports: Counter
    deliveries: Counter
    delivery_skips: Counter
    smtp_send_duration: Histogram
    tasks: Counter
    task_duration: Histogram
    webhook_deliveries: Counter
    live_streams: Gauge


@functools.cache
def instruments() -> Instruments:
    """This process's instruments, made once (after :func:`enable_multiprocess`, if any)."""
    return Instruments(
        http_requests=Counter(
            "engagement_http_requests", "HTTP requests answered", ["method", "route", "status"]
        ),
        http_request_duration=Histogram(
            "engagement_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
        ),
        comments_posted=Counter(
            "engagement_comments_posted", "Comments posted, by the status they got", ["site", "status"]
        ),
        reports=Counter("engagement_reports", "Comments reported by readers", ["reason"]),
        deliveries=Counter(
            "engagement_deliveries",
            "Mails by what became of them: sent, failed, retry, skipped",
            ["template", "status"],
        ),
        delivery_skips=Counter("engagement_delivery_skips", "Mails not sent, by why", ["reason"]),
        smtp_send_duration=Histogram(
            "engagement_smtp_send_duration_seconds",
            "Time to hand one mail to the SMTP relay",
            buckets=LATENCY_BUCKETS,
        ),
        tasks=Counter("engagement_tasks", "Worker tasks run, by how they ended", ["task", "state"]),
        task_duration=Histogram(
            "engagement_task_duration_seconds", "Time a worker task ran", ["task"], buckets=LATENCY_BUCKETS
        ),
        webhook_deliveries=Counter(
            "engagement_webhook_deliveries",
            "Webhook deliveries by what became of each attempt: sent, retry, failed",
            ["event", "status"],
        ),
        # Summed over the server's live processes: a process gone takes its streams with it.
        live_streams=Gauge(
            "engagement_live_streams", "Live thread streams open", multiprocess_mode="livesum"
        ),
    )


def multiprocess_folder() -> Path | None:
    """The folder this process's values are written to, when in multiprocess mode."""
    folder = os.environ.get(MULTIPROC_ENV)  # noqa: TID251 -- prometheus-client's own variable, not a setting
    return Path(folder) if folder else None


def enable_multiprocess(data_dir: Path, role: str) -> Path | None:
    """Write this process's (and its children's) values under ``data_dir/metrics/<role>-<host>-<pid>``.

    A fresh folder per server process: a restart starts its counters from zero, as Prometheus
    expects; the folders of this host's processes gone are removed (containers sharing the
    data volume have hosts of their own). Must run before the first :func:`instruments` call;
    children inherit the folder.
    """
    if instruments.cache_info().currsize:  # too late (a command run inside another): stay single
        log.warning("metrics.multiprocess_too_late", role=role)
        return multiprocess_folder()
    parent = (data_dir / "metrics").resolve()
    parent.mkdir(parents=True, exist_ok=True)
    host = socket.gethostname().replace("-", "_")
    for stale in parent.iterdir():
        _, stale_host, pid = stale.name.rsplit("-", 2) if stale.name.count("-") >= 2 else ("", "", "")
        if stale.is_dir() and stale_host == host and pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    folder = parent / f"{role}-{host}-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    # prometheus-client reads the folder from the environment, here and in every child process.
    os.environ[MULTIPROC_ENV] = str(folder)  # noqa: TID251 -- prometheus-client's own variable
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def process_alive(pid: int) -> bool:
    """Whether a process of this host with ``pid`` runs (as far as this process may tell)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
