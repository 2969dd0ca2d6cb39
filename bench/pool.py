"""The PostgreSQL pool's options side by side in one process: which ping, which prepare threshold.

Cores over one scratch database, each with its own engine, take turns a round of calls each:
posting, a thread page not cached, and the same within the micro-cache's life. Prints CPU per
call and the p50 wall time of each variant.

    .venv/bin/python bench/pool.py [--rounds 6 --calls 150]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from mailbench import scratch_database

import engagement.core as core_module
from engagement.config import load_settings
from engagement.core import Core
from engagement.db import make_engine
from engagement.models import Base
from engagement.services.discussion.comments import PostComment, post_comment
from engagement.services.discussion.threads import ThreadQuery, list_thread
from engagement.services.sites import SiteChanges, add_site

VARIANTS: dict[str, dict[str, Any]] = {
    "ping after a second's rest (default)": {},
    "pool_pre_ping (every checkout)": {"pool_pre_ping": True},
    "no ping, prepare_threshold=1": {"ping_after_idle": 3600.0, "connect_args": {"prepare_threshold": 1}},
}


def core_with(settings: Any, options: dict[str, Any]) -> Core:
    def engine(url: str, **kwargs: Any) -> sa.Engine:
        return make_engine(url, **{**kwargs, **options})

    original = core_module.make_engine
    core_module.make_engine = engine  # only while this core is built
    try:
        return core_module.build_core(settings)
    finally:
        core_module.make_engine = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--calls", type=int, default=150)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, scratch_database("postgresql", Path(folder)) as url:
        settings = load_settings(
            data_dir=Path(folder), database_url=url, secret_key="pool-" + "x" * 40, rate_limits_enabled=False
        )
        cores = {name: core_with(settings, options) for name, options in VARIANTS.items()}
        first = next(iter(cores.values()))
        Base.metadata.create_all(first.engine)
        add_site(first.uow(), "bench", SiteChanges(name="Bench"))
        page = "https://news.example.org/pool"
        query = ThreadQuery(site="bench", page=page, reader_id="bench-reader-0001")

        def post(core: Core, n: int) -> None:
            body = f"Comment {n}: a *reasonable* length of text, with a [link](https://example.org/{n})."
            post_comment(core.uow(), PostComment(site="bench", page=page, author_name="Bench", body=body))

        def read(core: Core, _n: int) -> None:
            core.thread_cache.clear()
            list_thread(core.uow(), query)

        def cached(core: Core, _n: int) -> None:
            list_thread(core.uow(), query)

        calls: dict[str, Callable[[Core, int], None]] = {
            "post_comment": post,
            "thread page, not cached": read,
            "the same, cached": cached,
        }
        cpu: dict[tuple[str, str], float] = {}
        walls: dict[tuple[str, str], list[float]] = {}
        for call_name, call in calls.items():
            for core in cores.values():
                for n in range(20):
                    call(core, n)
            for _ in range(args.rounds):
                for name, core in cores.items():
                    started = time.process_time()
                    for n in range(args.calls):
                        begun = time.perf_counter()
                        call(core, n)
                        walls.setdefault((call_name, name), []).append(time.perf_counter() - begun)
                    cpu[call_name, name] = cpu.get((call_name, name), 0.0) + time.process_time() - started
        for core in cores.values():
            core.dispose()
    print(f"postgresql, {args.rounds} rounds of {args.calls} calls per variant, taking turns")
    print("| call | variant | CPU per call | p50 wall |")
    print("| --- | --- | ---: | ---: |")
    for call_name, name in cpu:
        per_call = cpu[call_name, name] / (args.rounds * args.calls)
        wall = statistics.median(walls[call_name, name])
        print(f"| {call_name} | {name} | {per_call * 1000:.2f} ms | {wall * 1000:.2f} ms |")


if __name__ == "__main__":
    main()
