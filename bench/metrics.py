"""/metrics scrape time with 100 routes' series written by web processes (multiprocess mode).

    .venv/bin/python bench/metrics.py [--routes 100] [--answers 2] [--processes 1] [--scrapes 200]

Each of ``--processes`` forked processes answers every route with ``--answers`` (method,
status) pairs as a web process would, into one multiprocess folder; then the scrape the web
serves is timed: prometheus-client's MultiProcessCollector and text writer over those files,
build info, and the gauges read from a SQLite database with 50 sites (cached 5 s as served;
"read every time" recomputes them on every scrape); the counters alone, as written by
engagement/metrics_text.py and by prometheus-client's MultiProcessCollector and writer; last,
GET /metrics through the real app.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from engagement.metrics import enable_multiprocess, instruments

ANSWERS = (("GET", "200", 0.004), ("POST", "422", 0.002), ("GET", "404", 0.001), ("POST", "201", 0.008))


def fill(routes: int, answers: int) -> None:
    """One process's answers: every route with its first ``answers`` (method, status) pairs."""
    metrics = instruments()
    for n in range(routes):
        route = f"/api/v1/resource{n}/{{id}}"
        for method, status, seconds in ANSWERS[:answers]:
            for _ in range(3):
                metrics.http_requests.labels(method, route, status).inc()
                metrics.http_request_duration.labels(method, route, status).observe(seconds)
    for template in ("thread_notification", "reply_notification", "digest"):
        metrics.deliveries.labels(template, "sent").inc(10)
    metrics.comments_posted.labels("daily", "approved").inc(5)


def timed(call, times: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each call (CPU time shows less of a busy machine's noise)."""
    wall, cpu = [], []
    for _ in range(times):
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def summary(name: str, samples: tuple[list[float], list[float]]) -> str:
    wall, cpu = samples
    p95 = statistics.quantiles(wall, n=20)[18]
    p50, cpu50 = statistics.median(wall), statistics.median(cpu)
    return f"{name:<38} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   CPU p50 {cpu50:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", type=int, default=100)
    parser.add_argument("--answers", type=int, default=2, help="(method, status) pairs per route, 1-4")
    parser.add_argument("--processes", type=int, default=1, help="web processes writing series")
    parser.add_argument("--scrapes", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        enable_multiprocess(data, "bench")
        for _ in range(args.processes):
            pid = os.fork()
            if pid == 0:
                fill(args.routes, args.answers)
                os._exit(0)
            os.waitpid(pid, 0)

        from prometheus_client import generate_latest
        from starlette.testclient import TestClient

        from engagement import migrations
        from engagement.config import load_settings
        from engagement.core import build_core
        from engagement.metrics_scrape import Scrape
        from engagement.services.sites import SiteChanges, add_site
        from engagement.web import create_app
        from engagement.web.metrics import web_scrape

        settings = load_settings(data_dir=data, metrics_token="bench-token-0123456789")
        migrations.upgrade(settings.resolved_database_url)
        core = build_core(settings)
        for n in range(50):
            add_site(core.uow(), f"site{n}", SiteChanges(name=f"Site {n}"))

        scrape = web_scrape(settings, core)
        text = scrape.render().decode()
        series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
        shape = f"{args.processes} process(es) x {args.routes} routes x {args.answers} answers"
        print(f"{shape}: {series} series, {len(text) / 1024:.0f} KiB")

        print(summary("scrape, gauges cached (as served)", timed(scrape.render, args.scrapes)))
        for collector in scrape.collectors:
            collector.seconds = 0.0  # type: ignore[attr-defined]
        print(summary("scrape, gauges read every time", timed(scrape.render, args.scrapes)))
        counters = Scrape()
        print(summary("counters alone (no gauges)", timed(counters.render, args.scrapes)))
        library = counters.library
        print(
            summary(
                "counters, the library's own writer", timed(lambda: generate_latest(library), args.scrapes)
            )
        )

        app = create_app(settings, core)
        with TestClient(app) as client:
            headers = {"Authorization": "Bearer bench-token-0123456789"}
            assert client.get("/metrics", headers=headers).status_code == 200
            print(
                summary(
                    "GET /metrics through the app",
                    timed(lambda: client.get("/metrics", headers=headers), args.scrapes),
                )
            )
        core.dispose()


if __name__ == "__main__":
    main()
