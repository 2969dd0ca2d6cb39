"""The hot reads through the whole ASGI app, in-process: CPU per request, versions side by side.

The three reads of bench/web.py's goals, each within the micro-cache's life, as the widget
sends them: the 10-comment thread with a reader id, the first page (20 top-level comments
with their replies) of a 10,000-comment thread with a reader id, counts for 100 pages (the
POST). Each code version (a checkout's folder: ``git archive REV engagement workers | tar -x
-C DIR``) runs in its own process over its own scratch database; the processes take turns, a
round of calls each, so the machine's load weighs on each alike. The ceiling's empty GET
(``bench/ceiling.py``) is measured beside them, in-process as well (without uvicorn's
share). ``--profile`` prints a cProfile of the reads in the first version instead.

    .venv/bin/python bench/app_reads.py [--database postgresql] [DIR ...]   # default: this checkout
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

WORKER = r"""
import asyncio, cProfile, json, pstats, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from mailbench import scratch_database
from engagement.config import load_settings
from engagement.core import build_core
from engagement.logs import configure_logging
from engagement.models import Base
from engagement.services.discussion.comments import PostComment, post_comment
from engagement.services.sites import SiteChanges, add_site
from engagement.web import create_app
from ceiling import create_app as ceiling_app

READER = [(b"x-engagement-reader", b"bench-reader-0001")]

def scope(method, path, query=b"", headers=()):
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
            "root_path": "", "headers": [(b"host", b"127.0.0.1:8000"), *headers],
            "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}

async def main():
    with tempfile.TemporaryDirectory() as folder, scratch_database(sys.argv[1], Path(folder)) as url:
        settings = load_settings(data_dir=Path(folder), database_url=url, secret_key="ab-" + "x" * 40,
                                 rate_limits_enabled=False, thread_cache_seconds=60, log_level="warning")
        core = build_core(settings)
        Base.metadata.create_all(core.engine)
        add_site(core.uow(), "bench", SiteChanges(name="Bench"))
        def seed(page, count):
            tops = []
            for n in range(count):
                parent = tops[n % len(tops)] if n % 4 == 3 and tops else None
                body = f"Comment {n}: a *reasonable* length of text, with a [link](https://example.org/{n})."
                request = PostComment(site="bench", page=page, author_name="Bench", parent=parent, body=body)
                posted = post_comment(core.uow(), request)
                if parent is None:
                    tops.append(posted.comment.id)
        seed("/bench/thread-10", 10)
        seed("/bench/thread-10k", int(sys.argv[3]))
        pages = [f"/bench/counted-{n}" for n in range(100)]
        for page in pages:
            seed(page, 1)
        counts_body = json.dumps({"site": "bench", "pages": pages}).encode()
        app = create_app(settings, core)
        configure_logging(settings)
        body = {"type": "http.request", "body": b"", "more_body": False}
        async def receive():
            return body
        async def send(message):
            if message["type"] == "http.response.start":
                assert message["status"] == 200, message
        def get(page):
            query = b"site=bench&page=" + page.replace("/", "%2F").encode() + b"&limit=20"
            the_scope = scope("GET", "/api/v1/comments", query, READER)
            async def call():
                await app({**the_scope, "state": {}}, receive, send)
            return call
        counts_scope = scope("POST", "/api/v1/counts", b"", [(b"content-type", b"application/json"),
                             (b"content-length", str(len(counts_body)).encode())])
        posted = {"type": "http.request", "body": counts_body, "more_body": False}
        async def receive_counts():
            return posted
        async def counts():
            await app({**counts_scope, "state": {}}, receive_counts, send)
        calls = {"thread_10": get("/bench/thread-10"), "first_10k": get("/bench/thread-10k")}
        calls["counts_100"] = counts
        ceiling, ceiling_scope = ceiling_app(), scope("GET", "/thread", b"", READER)
        async def bound():  # FastAPI's own cost for a small JSON GET, in-process: the floor
            await ceiling({**ceiling_scope, "state": {}}, receive, send)
        calls["ceiling_get"] = bound
        async with app.router.lifespan_context(app):
            for call in calls.values():
                for _ in range(50):
                    await call()
            if sys.argv[4] == "profile":
                profile = cProfile.Profile(time.process_time)
                for name, call in calls.items():
                    profile.enable()
                    for _ in range(1000):
                        await call()
                    profile.disable()
                    print(f"=== {name}", file=sys.stderr)
                    stats = pstats.Stats(profile, stream=sys.stderr)
                    stats.sort_stats(sys.argv[5]).print_stats(45)
                    profile = cProfile.Profile(time.process_time)
                return
            print("ready", flush=True)
            for line in sys.stdin:
                name, count = line.split()
                started = time.process_time()
                for _ in range(int(count)):
                    await calls[name]()
                print(json.dumps((time.process_time() - started) / int(count)), flush=True)
        core.dispose()

asyncio.run(main())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("code", nargs="*", default=[str(HERE.parent)])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--big", type=int, default=10_000, help="comments in the big thread")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--profile", choices=["tottime", "cumulative"], help="cProfile, sorted so")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "worker.py"
        script.write_text(WORKER)
        mode = "profile" if args.profile else "measure"
        order = args.profile or "tottime"
        env_path = {"PYTHONPATH": str(HERE)}
        workers = []
        for code in args.code[: 1 if args.profile else None]:
            command = [sys.executable, str(script), args.database, code, str(args.big), mode, order]
            workers.append(
                subprocess.Popen(
                    command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env_path | _env()
                )
            )
        if args.profile:
            workers[0].wait()
            return
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready"
        names = ("thread_10", "first_10k", "counts_100", "ceiling_get")
        spent = {(code, name): 0.0 for code in args.code for name in names}
        for _ in range(args.rounds):
            for name in names:
                for code, worker in zip(args.code, workers, strict=True):
                    assert worker.stdin is not None
                    assert worker.stdout is not None
                    worker.stdin.write(f"{name} {args.calls}\n")
                    worker.stdin.flush()
                    spent[code, name] += json.loads(worker.stdout.readline()) / args.rounds
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.close()
            worker.wait()
    print(f"{args.database}, {args.rounds} rounds of {args.calls} requests, taking turns; CPU per request")
    print("| request | " + " | ".join(args.code) + " |")
    print("| --- |" + " ---: |" * len(args.code))
    for name in names:
        print(f"| {name} | " + " | ".join(f"{spent[code, name] * 1000:.3f} ms" for code in args.code) + " |")


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # noqa: TID251 -- a child's environment


if __name__ == "__main__":
    main()
