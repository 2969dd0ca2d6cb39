"""Web benchmark: engagement against Isso (from PyPI, in its own virtual environment) and FastAPI's ceiling.

One web process each, rate limits off; ours on SQLite (embedded, filesystem broker) or on
PostgreSQL (with a Redis broker of its own, as in production), Isso on SQLite (its only
database). Measures new comments per second (1 and 8 clients), the GET of a 10-comment
thread (with a reader id), the first page and the full walk of a 1,000- and a 10,000-comment
thread, counts for 100 pages, and each server's RSS after the 10,000-comment reads; prints
each figure (p50 and p99 for reads) and the ratio (ours over Isso's, or Isso's over ours for
times, so > 1 always means engagement is better). The third column is the framework's ceiling
(bench/ceiling.py: an empty FastAPI app on uvicorn, a small JSON for GET, the same comment
body parsed for POST) and what share of it we reach. Each server runs pinned to one core and
the load client to another (taskset), when the machine has two.

    .venv/bin/python bench/web.py            # creates bench/isso-venv on first use
    .venv/bin/python bench/web.py --database postgresql
    .venv/bin/python bench/web.py --quick    # smaller runs, to check the script itself
    .venv/bin/python bench/web.py --thread-cache-seconds 0   # without the thread micro-cache
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from mailbench import own_redis, scratch_database

from engagement.cli.serve import fast_io

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ISSO_VENV = HERE / "isso-venv"
ISSO_VERSION = "0.14.0"
ENGAGEMENT = Path(sys.executable).with_name("engagement")
SITE = "bench"
READER = "bench-reader-0001"  # thread reads carry a reader id, as the widget's do
SERVER_CPU, CLIENT_CPU = 0, 1  # with two cores or more: each server on one, the load client on the other
REPLY_SHARE = 0.25  # a quarter of a thread's comments reply to an earlier top-level comment


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def ensure_isso() -> Path:
    """Isso in its own virtual environment (git-ignored), created on first use."""
    isso = ISSO_VENV / "bin" / "isso"
    if not isso.exists():
        subprocess.run([sys.executable, "-m", "venv", str(ISSO_VENV)], check=True)
        pip = [str(ISSO_VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, f"isso=={ISSO_VERSION}"], check=True)
    return isso


@dataclass
class Server:
    """One system under test: how to start it, post a comment, read threads and counts."""

    name: str
    url: str
    process: subprocess.Popen | None = None
    replies: dict[str, list[int]] = field(default_factory=dict)
    pin: list[str] = field(default_factory=list)  # a taskset prefix for the server's command

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    # Each system implements these.
    def start(self, folder: Path) -> None:
        raise NotImplementedError

    def post(self, client: httpx.Client, page: str, text: str, parent: int | None) -> int:
        raise NotImplementedError

    def first_page(self, client: httpx.Client, page: str) -> int:
        raise NotImplementedError

    def walk(self, client: httpx.Client, page: str) -> int:
        raise NotImplementedError

    def counts(self, client: httpx.Client, pages: list[str]) -> int:
        raise NotImplementedError


@dataclass
class Engagement(Server):
    extra_env: dict[str, str] = field(default_factory=dict)  # settings of this run (database, broker, cache)

    def start(self, folder: Path) -> None:
        # The server under test gets its settings from this environment, and only these.
        inherited = os.environ.items()  # noqa: TID251 -- a child process's environment, not settings
        env = {k: v for k, v in inherited if not k.startswith("ENGAGEMENT_")}
        env.update(
            ENGAGEMENT_DATA_DIR=str(folder),
            ENGAGEMENT_RATE_LIMITS_ENABLED="false",
            ENGAGEMENT_LOG_LEVEL="warning",
            ENGAGEMENT_BASE_URL=self.url,
            **self.extra_env,
        )
        run = {"env": env, "check": True, "capture_output": True}
        subprocess.run([str(ENGAGEMENT), "db", "upgrade"], **run)
        subprocess.run(
            [str(ENGAGEMENT), "sites", "add", SITE, "--name", "Bench", "--origin", self.url], **run
        )
        port = self.url.rsplit(":", 1)[1]
        self.process = subprocess.Popen(
            [*self.pin, str(ENGAGEMENT), "serve", "--port", port], env=env, stdout=subprocess.DEVNULL
        )
        wait_until_up(self.url + "/healthz", self.process)

    def post(self, client: httpx.Client, page: str, text: str, parent: int | None) -> int:
        payload = {"site": SITE, "page": page, "author": {"name": "Bench"}, "body": text, "parent": parent}
        response = client.post(self.url + "/api/v1/comments", json=payload)
        response.raise_for_status()
        return int(response.json()["comment"]["id"])

    def first_page(self, client: httpx.Client, page: str) -> int:
        params = {"site": SITE, "page": page, "limit": 20}
        response = client.get(
            self.url + "/api/v1/comments", params=params, headers={"X-Engagement-Reader": READER}
        )
        response.raise_for_status()
        return len(response.content)

    def walk(self, client: httpx.Client, page: str) -> int:
        size, cursor = 0, None
        while True:
            params = {"site": SITE, "page": page, "limit": 100} | ({"cursor": cursor} if cursor else {})
            response = client.get(self.url + "/api/v1/comments", params=params)
            response.raise_for_status()
            size += len(response.content)
            cursor = response.json()["next_cursor"]
            if cursor is None:
                return size

    def counts(self, client: httpx.Client, pages: list[str]) -> int:
        response = client.post(self.url + "/api/v1/counts", json={"site": SITE, "pages": pages})
        response.raise_for_status()
        return len(response.json()["counts"])


class Isso(Server):
    def start(self, folder: Path) -> None:
        config = folder / "isso.cfg"
        config.write_text(
            "[general]\n"
            f"dbpath = {folder / 'comments.db'}\n"
            f"host = {self.url}/\n"
            "[server]\n"
            f"listen = {self.url}\n"
            "[guard]\nenabled = false\n"
            "[moderation]\nenabled = false\n"
        )
        self.process = subprocess.Popen(
            [*self.pin, str(ensure_isso()), "-c", str(config), "run"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_up(self.url + "/info", self.process)

    def post(self, client: httpx.Client, page: str, text: str, parent: int | None) -> int:
        payload = {"text": text, "author": "Bench", "title": "A page", "parent": parent}
        response = client.post(self.url + "/new", params={"uri": page}, json=payload)
        response.raise_for_status()
        # Isso sets an edit cookie per comment; kept, thousands of them overflow its header limit.
        client.cookies.clear()
        return int(response.json()["id"])

    def first_page(self, client: httpx.Client, page: str) -> int:
        response = client.get(self.url + "/", params={"uri": page, "limit": 20})
        response.raise_for_status()
        return len(response.content)

    def walk(self, client: httpx.Client, page: str) -> int:
        # Isso has no cursor: the whole thread is one answer.
        response = client.get(self.url + "/", params={"uri": page}, timeout=120)
        response.raise_for_status()
        return len(response.content)

    def counts(self, client: httpx.Client, pages: list[str]) -> int:
        response = client.post(self.url + "/count", json=pages)
        response.raise_for_status()
        return len(response.json())


class Ceiling(Server):
    """bench/ceiling.py on uvicorn with the options ``engagement serve`` uses."""

    def start(self, folder: Path) -> None:
        io = fast_io()
        port = self.url.rsplit(":", 1)[1]
        command = [sys.executable, "-m", "uvicorn", "--factory", "ceiling:create_app", "--app-dir", str(HERE)]
        command += ["--port", port, "--http", io["http"], "--loop", io["loop"], "--log-level", "warning"]
        self.process = subprocess.Popen([*self.pin, *command], stdout=subprocess.DEVNULL)
        wait_until_up(self.url + "/thread", self.process)

    def post(self, client: httpx.Client, page: str, text: str, parent: int | None) -> int:
        payload = {"site": SITE, "page": page, "author": {"name": "Bench"}, "body": text, "parent": parent}
        response = client.post(self.url + "/comments", json=payload)
        response.raise_for_status()
        return int(response.json()["comment"]["id"])

    def first_page(self, client: httpx.Client, page: str) -> int:
        response = client.get(self.url + "/thread", headers={"X-Engagement-Reader": READER})
        response.raise_for_status()
        return len(response.content)


def text(n: int) -> str:
    return f"Comment number {n}: a *reasonable* length of text, with a [link](https://example.org/{n})."


def post_many(server: Server, page: str, count: int, clients: int, *, replies: bool = True) -> float:
    """Post ``count`` comments with ``clients`` parallel clients; comments per second."""
    tops: list[int] = []
    rng = random.Random(7)
    plan = [(n, replies and n > 10 and rng.random() < REPLY_SHARE, rng.random()) for n in range(count)]
    chunks = [plan[i::clients] for i in range(clients)]

    def work(chunk: list[tuple[int, bool, float]]) -> None:
        with httpx.Client(timeout=60) as client:
            for n, is_reply, pick in chunk:
                parent = tops[int(pick * len(tops))] if is_reply and tops else None
                new_id = server.post(client, page, text(n), parent)
                if parent is None:
                    tops.append(new_id)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(work, chunks))
    return count / (time.perf_counter() - started)


def latency(
    results: dict[str, float], key: str, call: Callable[[], object], repeat: int, warmup: int = 2
) -> None:
    """Median (``key``) and 99th percentile (``key_p99``) seconds of ``repeat`` calls, after
    ``warmup`` unmeasured ones."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    results[key] = statistics.median(times)
    results[key + "_p99"] = statistics.quantiles(times, n=100, method="inclusive")[98]


@dataclass
class Sizes:
    single: int = 300
    parallel: int = 1200
    big: int = 10_000
    reads: int = 300
    walks: int = 3


def measure(server: Server, sizes: Sizes) -> dict[str, float]:
    results: dict[str, float] = {}
    print(f"[{server.name}] posting", flush=True)
    results["post_1"] = post_many(server, "/bench/post-1", sizes.single, 1, replies=False)
    results["post_8"] = post_many(server, "/bench/post-8", sizes.parallel, 8, replies=False)
    print(f"[{server.name}] seeding threads", flush=True)
    post_many(server, "/bench/thread-10", 10, 1)
    post_many(server, "/bench/thread-1k", 1000, 8)
    post_many(server, "/bench/thread-10k", sizes.big, 8)
    pages = [f"/bench/counted-{n}" for n in range(100)]
    with httpx.Client(timeout=60) as client:
        for page in pages:
            server.post(client, page, text(0), None)
        print(f"[{server.name}] reading", flush=True)
        latency(results, "thread_10", lambda: server.first_page(client, "/bench/thread-10"), sizes.reads)
        latency(results, "counts_100", lambda: server.counts(client, pages), sizes.reads)
        latency(results, "first_1k", lambda: server.first_page(client, "/bench/thread-1k"), sizes.reads // 2)
        walks = max(sizes.walks, 5)
        latency(results, "walk_1k", lambda: server.walk(client, "/bench/thread-1k"), walks, 1)
        latency(
            results, "first_10k", lambda: server.first_page(client, "/bench/thread-10k"), sizes.reads // 2
        )
        latency(results, "walk_10k", lambda: server.walk(client, "/bench/thread-10k"), sizes.walks, 1)
        results["walk_10k_bytes"] = server.walk(client, "/bench/thread-10k")
    assert server.process is not None
    results["rss_mib"] = rss_mib(server.process.pid)
    return results


def measure_ceiling(server: Server, sizes: Sizes) -> dict[str, float]:
    """The framework's own rates: the same posts and the same sequential GETs, no work behind them."""
    results: dict[str, float] = {}
    print(f"[{server.name}] posting and reading", flush=True)
    results["post_1"] = post_many(server, "/bench/post-1", sizes.single, 1, replies=False)
    results["post_8"] = post_many(server, "/bench/post-8", sizes.parallel, 8, replies=False)
    with httpx.Client(timeout=60) as client:
        latency(results, "get", lambda: server.first_page(client, "/"), sizes.reads)
    return results


ROWS = [
    ("post_1", "new comments/s, 1 client", "/s", True),
    ("post_8", "new comments/s, 8 clients", "/s", True),
    ("thread_10", "GET a 10-comment thread with a reader id", "ms", False),
    ("first_1k", "first page of a 1,000-comment thread", "ms", False),
    ("walk_1k", "full walk of a 1,000-comment thread", "ms", False),
    ("first_10k", "first page of a 10,000-comment thread", "ms", False),
    ("walk_10k", "full walk of a 10,000-comment thread", "ms", False),
    ("counts_100", "counts for 100 pages", "ms", False),
    ("rss_mib", "server RSS after the 10,000-comment reads", "MiB", False),
]
# Which of the ceiling's figures a row is held against: its POST rate, or its GET's p50.
CEILING_OF = {
    "post_1": "post_1",
    "post_8": "post_8",
    "thread_10": "get",
    "first_1k": "get",
    "first_10k": "get",
    "counts_100": "get",
}


def _figure(results: dict[str, float], key: str, unit: str) -> str:
    if unit != "ms":
        return f"{results[key]:,.1f} {unit}"
    p99 = results.get(key + "_p99")
    median = f"{results[key] * 1000:,.1f}"
    return f"{median} · {p99 * 1000:,.1f} ms" if p99 is not None else f"{median} ms"


def report(ours: dict[str, float], isso: dict[str, float] | None, ceiling: dict[str, float] | None) -> str:
    """Rates and latencies (p50 · p99), the ratio to Isso, and the share of the ceiling we reach."""
    lines = [
        "| measure | engagement | Isso | ratio (>1: engagement better) | ceiling | share of the ceiling |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, label, unit, higher_better in ROWS:
        theirs, ratio = "n/a", "n/a"
        if isso is not None:
            theirs = _figure(isso, key, unit)
            value = ours[key] / isso[key] if higher_better else isso[key] / ours[key]
            ratio = f"{value:,.1f}×"
        top, share = "", ""
        if ceiling is not None and key in CEILING_OF:
            base = CEILING_OF[key]
            top = _figure(ceiling, base, "/s" if higher_better else "ms")
            value = ours[key] / ceiling[base] if higher_better else ceiling[base] / ours[key]
            share = f"{value:.0%}"
        lines.append(f"| {label} | {_figure(ours, key, unit)} | {theirs} | {ratio} | {top} | {share} |")
    return "\n".join(lines)


def pinning() -> tuple[list[str], set[int] | None]:
    """The taskset prefix for servers and the load client's own core, when there are two cores."""
    if (os.cpu_count() or 1) < 2 or shutil.which("taskset") is None:
        return [], None
    return ["taskset", "-c", str(SERVER_CPU)], {CLIENT_CPU}


def engagement_env(stack: ExitStack, database: str, folder: Path) -> Iterator[tuple[str, str]]:
    """The database and broker settings of our server for this run."""
    if database == "postgresql":
        yield "ENGAGEMENT_DATABASE_URL", stack.enter_context(scratch_database("postgresql", folder))
        yield "ENGAGEMENT_BROKER_URL", stack.enter_context(own_redis())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script")
    parser.add_argument("--skip-isso", action="store_true", help="measure engagement alone")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite", help="ours")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument(
        "--thread-cache-seconds", help="ENGAGEMENT_THREAD_CACHE_SECONDS for this run (0: no micro-cache)"
    )
    args = parser.parse_args()
    sizes = Sizes(single=50, parallel=200, big=1500, reads=40, walks=2) if args.quick else Sizes()
    folder = Path(tempfile.mkdtemp(prefix="engagement-bench-"))
    server_pin, client_cpus = pinning()
    results: dict[str, dict[str, float]] = {}
    try:
        with ExitStack() as stack:
            ours = Engagement("engagement", f"http://127.0.0.1:{free_port()}", pin=server_pin)
            # Started before the client pins itself: Redis does not inherit the client's core.
            ours.extra_env.update(engagement_env(stack, args.database, folder))
            if client_cpus is not None:
                os.sched_setaffinity(0, client_cpus)
            if args.thread_cache_seconds is not None:
                ours.extra_env["ENGAGEMENT_THREAD_CACHE_SECONDS"] = args.thread_cache_seconds
            systems: list[Server] = [
                Ceiling("ceiling", f"http://127.0.0.1:{free_port()}", pin=server_pin),
                ours,
            ]
            if not args.skip_isso:
                systems.append(Isso("isso", f"http://127.0.0.1:{free_port()}", pin=server_pin))
            for server in systems:
                (folder / server.name).mkdir()
                try:
                    server.start(folder / server.name)
                    measured = measure_ceiling if isinstance(server, Ceiling) else measure
                    results[server.name] = measured(server, sizes)
                    print(f"[{server.name}] {json.dumps(results[server.name])}", flush=True)
                finally:
                    server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print()
    pinned = f"servers on CPU {SERVER_CPU}, client on CPU {CLIENT_CPU}" if client_cpus else "not pinned"
    print(f"engagement on {args.database}, {pinned}")
    print(report(results["engagement"], results.get("isso"), results.get("ceiling")))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
