"""The thread read through the whole ASGI app in-process, with the fast path and without it.

Two apps over one core (one without ``FastReads``) take turns, a round of calls each,
answering ``GET /api/v1/comments`` for a 10-comment thread with a reader id (within the
micro-cache's life: one statement each); the service alone alongside. Prints CPU per read.

    .venv/bin/python bench/fast_reads.py [--database postgresql] [--rounds 6 --calls 500]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from mailbench import scratch_database

from engagement.config import load_settings
from engagement.core import build_core
from engagement.logs import configure_logging
from engagement.models import Base
from engagement.services.discussion.comments import PostComment, post_comment
from engagement.services.discussion.threads import ThreadQuery, list_thread
from engagement.services.sites import SiteChanges, add_site
from engagement.web import create_app
from engagement.web.fast_reads import FastReads

PAGE = "/bench/thread-10"
SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/api/v1/comments",
    "raw_path": b"/api/v1/comments",
    "query_string": b"site=bench&page=%2Fbench%2Fthread-10&limit=20",
    "root_path": "",
    "headers": [(b"host", b"127.0.0.1"), (b"x-engagement-reader", b"bench-reader-0001")],
    "client": ("127.0.0.1", 5000),
    "server": ("127.0.0.1", 8000),
}


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: dict[str, Any]) -> None:
    if message["type"] == "http.response.start":
        assert message["status"] == 200, message


def caller(app: Any) -> Callable[[], Awaitable[None]]:
    async def call() -> None:
        await app({**SCOPE, "state": {}}, receive, send)

    return call


async def measure(args: argparse.Namespace, url: str, folder: Path) -> dict[str, float]:
    settings = load_settings(
        data_dir=folder,
        database_url=url,
        secret_key="fast-" + "x" * 40,
        rate_limits_enabled=False,
        thread_cache_seconds=60,
        log_level="warning",  # as `engagement serve` is run in bench/web.py: no line per request
    )
    core = build_core(settings)
    Base.metadata.create_all(core.engine)
    add_site(core.uow(), "bench", SiteChanges(name="Bench"))
    for n in range(10):
        post_comment(core.uow(), PostComment(site="bench", page=PAGE, author_name="B", body=f"Comment {n}"))
    fast, routed = create_app(settings, core), create_app(settings, core)
    routed.user_middleware = [m for m in routed.user_middleware if m.cls is not FastReads]
    configure_logging(settings)
    query = ThreadQuery(site="bench", page=PAGE, reader_id="bench-reader-0001")

    async def service() -> None:
        list_thread(core.uow(), query)

    calls = {
        "with the fast path": caller(fast),
        "through FastAPI's route": caller(routed),
        "service": service,
    }
    cpu = dict.fromkeys(calls, 0.0)
    async with fast.router.lifespan_context(fast), routed.router.lifespan_context(routed):
        for call in calls.values():
            for _ in range(50):
                await call()
        for _ in range(args.rounds):
            for name, call in calls.items():
                started = time.process_time()
                for _ in range(args.calls):
                    await call()
                cpu[name] += time.process_time() - started
    core.dispose()
    return {name: spent / (args.rounds * args.calls) for name, spent in cpu.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, scratch_database(args.database, Path(folder)) as url:
        figures = asyncio.run(measure(args, url, Path(folder)))
    print(f"{args.database}, {args.rounds} rounds of {args.calls} reads each, taking turns, in-process")
    print("| GET /api/v1/comments, 10 comments, reader id, cached | CPU per read |")
    print("| --- | ---: |")
    for name, seconds in figures.items():
        print(f"| {name} | {seconds * 1000:.3f} ms |")


if __name__ == "__main__":
    main()
