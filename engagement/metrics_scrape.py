"""A scrape's answer: the counters of every process sharing the metrics folder, build info, and
gauges computed when scraped (cached a few seconds, so a busy Prometheus costs one read)."""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from engagement import __version__
from engagement.metrics import instruments, multiprocess_folder
from engagement.metrics_text import FolderText
from engagement.services.operations.gauges import Gauges

GAUGE_CACHE_SECONDS = 5.0


class _This:
    """This process's own instruments (outside multiprocess mode, tests and one-off commands)."""

    def collect(self) -> Iterable[Metric]:
        instruments()  # made, so that a fresh process shows its zeroes
        return REGISTRY.collect()


class _BuildInfo:
    def collect(self) -> Iterable[Metric]:
        info = GaugeMetricFamily("engagement_build_info", "The running version", labels=["version"])
        info.add_metric([__version__], 1.0)
        yield info


class Cached:
    """A collector that computes its metrics at most once per ``seconds`` (the others reuse them)."""

    def __init__(self, compute: Callable[[], list[Metric]], seconds: float = GAUGE_CACHE_SECONDS) -> None:
        self.compute = compute
        self.seconds = seconds
        self._lock = threading.Lock()
        self._until = 0.0
        self._metrics: list[Metric] = []

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if time.monotonic() >= self._until:
                self._metrics = self.compute()
                self._until = time.monotonic() + self.seconds
            metrics = self._metrics
        yield from metrics


class Scrape:
    """What one ``/metrics`` answers: every process of this server, build info, then ``collectors``."""

    def __init__(self, *collectors: Collector) -> None:
        folder = multiprocess_folder()
        self.collectors = collectors
        self.library = CollectorRegistry(auto_describe=False)
        self.folder = FolderText(folder) if folder is not None else None
        if folder is not None:
            multiprocess.MultiProcessCollector(self.library, path=str(folder))  # type: ignore[no-untyped-call]
        else:
            self.library.register(_This())
        self.others = CollectorRegistry(auto_describe=False)
        self.others.register(_BuildInfo())
        for collector in collectors:
            self.others.register(collector)

    def render(self) -> bytes:
        """The text exposition format: the processes' series, then build info and the gauges."""
        if self.folder is not None and self.folder.handles_everything():
            counted = self.folder.render().encode()
        else:
            counted = generate_latest(self.library)
        return counted + generate_latest(self.others)


def gauge_metrics(gauges: Gauges, queue_lengths: dict[str, int]) -> list[Metric]:
    """The scrape-time gauges as metric families."""
    outbox = GaugeMetricFamily("engagement_outbox_pending", "Outbox events not relayed yet")
    outbox.add_metric([], gauges.outbox_pending)
    lag = GaugeMetricFamily("engagement_outbox_lag_seconds", "Age of the oldest event not relayed yet")
    lag.add_metric([], gauges.outbox_lag_seconds)
    held = GaugeMetricFamily(
        "engagement_moderation_pending", "Comments waiting for a moderator", labels=["site"]
    )
    for site, count in sorted(gauges.moderation_pending.items()):
        held.add_metric([site], count)
    digests = GaugeMetricFamily(
        "engagement_digest_run_sent", "Mails sent by each site's latest digest run", labels=["site", "period"]
    )
    for (site, period), sent in sorted(gauges.digest_run_sent.items()):
        digests.add_metric([site, period], sent)
    queues = GaugeMetricFamily("engagement_broker_queue_length", "Tasks waiting in a queue", labels=["queue"])
    for queue, length in sorted(queue_lengths.items()):
        queues.add_metric([queue], length)
    return [outbox, lag, held, digests, queues]


def authorized(authorization: str | None, token: str) -> bool:
    """Whether a scrape may read: no token set, or ``Authorization: Bearer <token>`` exactly."""
    if not token:
        return True
    given = (authorization or "").removeprefix("Bearer ")
    return (
        authorization is not None
        and authorization.startswith("Bearer ")
        and hmac.compare_digest(given.encode(), token.encode())
    )
