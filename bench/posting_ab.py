"""Two versions of the web server side by side: new comments per second and server CPU per comment.

The comment POST alone, over HTTP, as bench/web.py measures it: one ``engagement serve`` per
version (``PYTHONPATH`` pointing at its checkout), each with its own database (and, on
PostgreSQL, its own Redis broker), pinned to the same core; the two take turns in many
short rounds, so the machine's load weighs on both alike and the ratio is one run's.

    git archive REV engagement workers | tar -x -C /tmp/before
    .venv/bin/python bench/posting_ab.py /tmp/before . [--database postgresql] [--rounds 12]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path

from web import Engagement, Results, engagement_env, free_port, interleaved_posts, pinning


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--single", type=int, default=600, help="comments posted by one client, in all")
    parser.add_argument("--parallel", type=int, default=2400, help="comments posted by 8 clients, in all")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="engagement-posting-ab-"))
    server_pin, client_cpus = pinning()
    results: Results = {"before": {}, "after": {}}
    try:
        with ExitStack() as stack:
            servers = []
            for name, code in (("before", args.before), ("after", args.after)):
                server = Engagement(name, f"http://127.0.0.1:{free_port()}", pin=server_pin)
                (folder / name).mkdir()
                server.extra_env.update(engagement_env(stack, args.database, folder / name))
                server.extra_env["PYTHONPATH"] = str(code.resolve())
                servers.append(server)
            if client_cpus is not None:
                os.sched_setaffinity(0, client_cpus)
            for server in servers:
                stack.callback(server.stop)
                server.start(folder / server.name)
            interleaved_posts(servers, results, "post_1", args.single, 1, args.rounds)
            interleaved_posts(servers, results, "post_8", args.parallel, 8, args.rounds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    before, after = results["before"], results["after"]
    print(f"{args.database}, {args.rounds} rounds, taking turns")
    print("| measure | before | after | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for key, label in (("post_1", "new comments/s, 1 client"), ("post_8", "new comments/s, 8 clients")):
        print(f"| {label} | {before[key]:.1f} /s | {after[key]:.1f} /s | {after[key] / before[key]:.2f} |")
    for key, label in (("post_1", "server CPU per comment, 1 client"), ("post_8", "the same, 8 clients")):
        mine, theirs = after[key + "_cpu"], before[key + "_cpu"]
        print(f"| {label} | {theirs * 1000:.2f} ms | {mine * 1000:.2f} ms | {mine / theirs:.2f} |")


if __name__ == "__main__":
    main()
