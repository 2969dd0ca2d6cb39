"""In-process cost of the hot paths: posting a comment, reading a thread page, counts for 100 pages.

The core alone (no HTTP), in a warm process, on SQLite or PostgreSQL: the median wall time
and the CPU time per call, and the SQL statements each sends, side by side in one run.

    .venv/bin/python bench/hotpath.py [--database postgresql] [--calls 2000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from mailbench import scratch_database

from engagement.config import load_settings
from engagement.core import build_core
from engagement.models import Base
from engagement.services.discussion.comments import PostComment, post_comment
from engagement.services.discussion.threads import ThreadQuery, list_thread, page_counts
from engagement.services.sites import SiteChanges, add_site

PAGE = "https://news.example.org/hot"


def timed(call: Callable[[int], object], calls: int) -> tuple[float, float]:
    """Median wall seconds and mean CPU seconds per call."""
    walls = []
    cpu = time.process_time()
    for n in range(calls):
        started = time.perf_counter()
        call(n)
        walls.append(time.perf_counter() - started)
    return statistics.median(walls), (time.process_time() - cpu) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, scratch_database(args.database, Path(folder)) as url:
        settings = load_settings(
            data_dir=Path(folder), database_url=url, secret_key="bench-" + "x" * 40, rate_limits_enabled=False
        )
        core = build_core(settings)
        Base.metadata.create_all(core.engine)
        statements = 0

        def count(*_args: object) -> None:
            nonlocal statements
            statements += 1

        sa.event.listen(core.engine, "before_cursor_execute", count)
        add_site(core.uow(), "bench", SiteChanges(name="Bench"))
        listing = [f"https://news.example.org/listed-{n}" for n in range(100)]

        def post(n: int, page: str = PAGE) -> None:
            body = f"Comment {n}: a *reasonable* length of text, with a [link](https://example.org/{n})."
            post_comment(core.uow(), PostComment(site="bench", page=page, author_name="Bench", body=body))

        for page in listing:
            post(0, page)
        query = ThreadQuery(site="bench", page=PAGE, reader_id="bench-reader-0001")

        def read(_n: int, cached: bool) -> None:
            if not cached:
                core.thread_cache.clear()
            list_thread(core.uow(), query)

        rows = []
        for name, call in (
            ("post_comment", post),
            ("thread page, 20 of the comments, reader id, not cached", lambda n: read(n, cached=False)),
            ("the same, within the micro-cache's life", lambda n: read(n, cached=True)),
            (
                "counts for 100 pages, not cached",
                lambda n: (core.thread_cache.clear(), page_counts(core.uow(), "bench", listing)),
            ),
        ):
            call(0)  # warm: the site cache, the compiled statements, the pool
            before = statements
            wall, cpu = timed(call, args.calls)
            rows.append((name, wall, cpu, (statements - before) / args.calls))
        core.dispose()
    print(f"{args.database}, {args.calls} calls each, in-process")
    print("| call | p50 wall | CPU per call | statements per call |")
    print("| --- | ---: | ---: | ---: |")
    for name, wall, cpu, per_call in rows:
        print(f"| {name} | {wall * 1000:.2f} ms | {cpu * 1000:.2f} ms | {per_call:.1f} |")


if __name__ == "__main__":
    main()
