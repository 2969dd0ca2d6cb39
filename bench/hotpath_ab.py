"""Two versions of the core side by side: posting and thread reads, taking turns in one run.

Each version runs in its own process (``PYTHONPATH`` pointing at its checkout) over its own
scratch database; the processes take turns, a round of calls each, so the machine's load
weighs on both alike and the ratio is one run's. Prints the CPU per call and the median
round's p50 wall time for each.

    git archive REV engagement workers | tar -x -C /tmp/before
    .venv/bin/python bench/hotpath_ab.py /tmp/before . [--database postgresql] [--rounds 8 --calls 150]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

WORKER = r"""
import json, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from mailbench import scratch_database
from engagement.config import load_settings
from engagement.core import build_core
from engagement.models import Base
from engagement.services.discussion.comments import PostComment, post_comment
from engagement.services.sites import SiteChanges, add_site
from engagement.services.discussion.threads import ThreadQuery, list_thread

with tempfile.TemporaryDirectory() as folder, scratch_database(sys.argv[1], Path(folder)) as url:
    settings = load_settings(data_dir=Path(folder), database_url=url, secret_key="ab-" + "x" * 40,
                             rate_limits_enabled=False)
    core = build_core(settings)
    Base.metadata.create_all(core.engine)
    add_site(core.uow(), "bench", SiteChanges(name="Bench"))
    page = "https://news.example.org/ab"
    tops = []
    def post(n):
        parent = tops[n % len(tops)] if n % 4 == 3 and tops else None
        body = f"Comment {n}: a *reasonable* length of text, with a [link](https://example.org/{n})."
        request = PostComment(site="bench", page=page, author_name="Bench", parent=parent, body=body)
        posted = post_comment(core.uow(), request)
        if parent is None:
            tops.append(posted.comment.id)
    query = ThreadQuery(site="bench", page=page, reader_id="bench-reader-0001")
    def read(n):
        core.thread_cache.clear()
        list_thread(core.uow(), query)
    calls = {"post": post, "read": read}
    for n in range(50):
        post(n); read(n)
    print("ready", flush=True)
    for line in sys.stdin:
        name, count = line.split()
        started, walls = time.process_time(), []
        for n in range(int(count)):
            begun = time.perf_counter()
            calls[name](n)
            walls.append(time.perf_counter() - begun)
        walls.sort()
        print(json.dumps([(time.process_time() - started) / int(count), walls[len(walls) // 2]]), flush=True)
    core.dispose()
"""


def start(code: Path, database: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(code.resolve())}  # noqa: TID251 -- a child's environment
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER, database, str(HERE)],
        env=env,
        # ``python -c`` puts its working directory first on the path, before PYTHONPATH: run in
        # the version's own folder, or a run from a checkout's root measures that checkout twice.
        cwd=code.resolve(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def ask(process: subprocess.Popen[str], name: str, calls: int) -> tuple[float, float]:
    """CPU seconds per call and the median call's wall seconds, for one round."""
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(f"{name} {calls}\n")
    process.stdin.flush()
    cpu, wall = json.loads(process.stdout.readline())
    return float(cpu), float(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--calls", type=int, default=150)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory():
        workers = {"before": start(args.before, args.database), "after": start(args.after, args.database)}
        spent: dict[tuple[str, str], float] = {}
        walls: dict[tuple[str, str], list[float]] = {}
        started = time.monotonic()
        for _ in range(args.rounds):
            for name in ("post", "read"):
                for version, process in workers.items():
                    cpu, wall = ask(process, name, args.calls)
                    spent[version, name] = spent.get((version, name), 0.0) + cpu
                    walls.setdefault((version, name), []).append(wall)
        for process in workers.values():
            assert process.stdin is not None
            process.stdin.close()
            process.wait()
    print(f"{args.database}, {args.rounds} rounds of {args.calls} calls, {time.monotonic() - started:.0f} s")
    print("| call | CPU before | CPU after | ratio | p50 wall before | p50 wall after | ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, label in (("post", "post_comment (a quarter replies)"), ("read", "thread page, not cached")):
        before, after = spent["before", name] / args.rounds, spent["after", name] / args.rounds
        wall_before, wall_after = (
            statistics.median(walls["before", name]),
            statistics.median(walls["after", name]),
        )
        print(
            f"| {label} | {before * 1000:.2f} ms | {after * 1000:.2f} ms | {after / before:.2f} "
            f"| {wall_before * 1000:.2f} ms | {wall_after * 1000:.2f} ms | {wall_after / wall_before:.2f} |"
        )


if __name__ == "__main__":
    main()
