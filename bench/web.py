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
from mailbench import cpu_seconds, own_redis, scratch_database

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

    def counts(self, client: httpx.Client, pages: list[str]) -> int:
        return self.first_page(client, pages[0])  # the ceiling of any read: its small GET


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


@dataclass
class Sizes:
    single: int = 300
    parallel: int = 1200
    big: int = 10_000
    reads: int = 300
    walks: int = 3
    rounds: int = 6  # posting alternates between the systems in this many rounds


Results = dict[str, dict[str, float]]


def interleaved_posts(
    systems: list[Server], results: Results, key: str, count: int, clients: int, rounds: int
) -> None:
    """Posting rates, the systems taking turns in ``rounds`` bursts so that other work on the
    machine weighs on each alike; with the server's CPU milliseconds per comment."""
    spent = dict.fromkeys((s.name for s in systems), 0.0)
    cpu = dict.fromkeys(spent, 0.0)
    per_round = max(count // rounds, 1)
    for n in range(rounds):
        for server in systems:
            assert server.process is not None
            before = cpu_seconds(server.process.pid)
            rate = post_many(server, f"/bench/{key}-{n}", per_round, clients, replies=False)
            cpu[server.name] += cpu_seconds(server.process.pid) - before
            spent[server.name] += per_round / rate
    for server in systems:
        results[server.name][key] = per_round * rounds / spent[server.name]
        results[server.name][key + "_cpu"] = cpu[server.name] / (per_round * rounds)


def interleaved_reads(
    calls: dict[str, Callable[[], object]], results: Results, key: str, repeat: int, warmup: int = 2
) -> None:
    """Median (``key``) and 99th percentile (``key``_p99) seconds of ``repeat`` calls per system,
    the systems taking turns call by call, after ``warmup`` unmeasured ones."""
    for call in calls.values():
        for _ in range(warmup):
            call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - started)
    for name, seconds in times.items():
        results[name][key] = statistics.median(seconds)
        if len(seconds) >= 2:
            results[name][key + "_p99"] = statistics.quantiles(seconds, n=100, method="inclusive")[98]


def settle(servers: list[Server], limit: float = 120.0) -> None:
    """Wait until no server works on in the background (ours hands the posts' outbox events
    to the broker after the commits): the server CPU per read counts the reads alone."""
    started = time.monotonic()
    for server in servers:
        assert server.process is not None
        while time.monotonic() - started < limit:
            before = cpu_seconds(server.process.pid)
            time.sleep(1.0)
            busy = cpu_seconds(server.process.pid) - before
            if busy <= 0.02:
                break
            print(f"[{server.name}] still busy in the background: {busy:.2f} s of CPU in 1 s", flush=True)


def measure(systems: list[Server], ceiling: Server, sizes: Sizes) -> Results:
    """Every figure of every system, taking turns measure by measure; the ceiling answers beside
    each posting rate and each read it bounds."""
    everyone = [*systems, ceiling]
    results: Results = {s.name: {} for s in everyone}
    print("posting", flush=True)
    interleaved_posts(everyone, results, "post_1", sizes.single, 1, sizes.rounds)
    interleaved_posts(everyone, results, "post_8", sizes.parallel, 8, sizes.rounds)
    pages = [f"/bench/counted-{n}" for n in range(100)]
    for server in systems:
        print(f"[{server.name}] seeding threads", flush=True)
        post_many(server, "/bench/thread-10", 10, 1)
        post_many(server, "/bench/thread-1k", 1000, 8)
        post_many(server, "/bench/thread-10k", sizes.big, 8)
        with httpx.Client(timeout=60) as client:
            for page in pages:
                server.post(client, page, text(0), None)
    settle(everyone)
    print("reading", flush=True)
    clients = {s.name: httpx.Client(timeout=120) for s in everyone}
    try:

        def reads(
            key: str, repeat: int, call: Callable[[Server, httpx.Client], object], *, bounded: bool
        ) -> None:
            chosen = everyone if bounded else systems
            bound = {s.name: (lambda s=s: call(s, clients[s.name])) for s in chosen}
            warmup = 2 if bounded else 1
            before = {s.name: cpu_seconds(s.process.pid) for s in chosen if s.process is not None}
            interleaved_reads(bound, results, key, repeat, warmup=warmup)
            for server in chosen:  # the server's CPU per request of this measure, warm-up included
                if server.process is not None:
                    used = cpu_seconds(server.process.pid) - before[server.name]
                    results[server.name][key + "_cpu"] = used / (repeat + warmup)
            if bounded:  # the ceiling's GET beside this read, as its own figure of this measure
                for suffix in ("", "_p99", "_cpu"):
                    results["ceiling"][key + "_get" + suffix] = results["ceiling"].pop(key + suffix)

        reads("thread_10", sizes.reads, lambda s, c: s.first_page(c, "/bench/thread-10"), bounded=True)
        results["ceiling"]["thread_10_cpu"] = results["ceiling"]["thread_10_get_cpu"]
        reads("counts_100", sizes.reads, lambda s, c: s.counts(c, pages), bounded=True)
        reads("first_1k", sizes.reads // 2, lambda s, c: s.first_page(c, "/bench/thread-1k"), bounded=True)
        reads("walk_1k", max(sizes.walks, 5), lambda s, c: s.walk(c, "/bench/thread-1k"), bounded=False)
        reads("first_10k", sizes.reads // 2, lambda s, c: s.first_page(c, "/bench/thread-10k"), bounded=True)
        reads("walk_10k", sizes.walks, lambda s, c: s.walk(c, "/bench/thread-10k"), bounded=False)
        for server in systems:
            assert server.process is not None
            results[server.name]["walk_10k_bytes"] = server.walk(clients[server.name], "/bench/thread-10k")
            results[server.name]["rss_mib"] = rss_mib(server.process.pid)
    finally:
        for client in clients.values():
            client.close()
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
# Which of the ceiling's figures a row is held against: its POST rate in the same rounds, or
# the p50 of its GET taking turns with that read.
CEILING_OF = {
    "post_1": "post_1",
    "post_8": "post_8",
    "thread_10": "thread_10_get",
    "first_1k": "first_1k_get",
    "first_10k": "first_10k_get",
    "counts_100": "counts_100_get",
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
    lines += ["", "| server CPU per request | engagement | Isso | ratio | ceiling | share of the ceiling |"]
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for key, label, base in (
        ("post_8", "a new comment (8 clients)", "post_8"),
        ("thread_10", "the 10-comment thread (ceiling: its GET)", "thread_10"),
        ("first_10k", "the first page of 10,000 comments (ceiling: its GET)", "first_10k_get"),
        ("counts_100", "counts for 100 pages (ceiling: its GET)", "counts_100_get"),
    ):
        mine = ours[key + "_cpu"]
        theirs, ratio, top, share = "n/a", "n/a", "", ""
        if isso is not None:
            theirs, ratio = f"{isso[key + '_cpu'] * 1000:.2f} ms", f"{isso[key + '_cpu'] / mine:,.1f}×"
        if ceiling is not None:
            top, share = f"{ceiling[base + '_cpu'] * 1000:.2f} ms", f"{ceiling[base + '_cpu'] / mine:.0%}"
        lines.append(f"| {label} | {mine * 1000:.2f} ms | {theirs} | {ratio} | {top} | {share} |")
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
        "--code",
        type=Path,
        help="serve the engagement package found in this folder (another checkout, for a before/after)",
    )
    parser.add_argument(
        "--thread-cache-seconds", help="ENGAGEMENT_THREAD_CACHE_SECONDS for this run (0: no micro-cache)"
    )
    args = parser.parse_args()
    sizes = Sizes(single=48, parallel=192, big=1500, reads=40, walks=2, rounds=3) if args.quick else Sizes()
    folder = Path(tempfile.mkdtemp(prefix="engagement-bench-"))
    server_pin, client_cpus = pinning()
    try:
        with ExitStack() as stack:
            ours = Engagement("engagement", f"http://127.0.0.1:{free_port()}", pin=server_pin)
            # Started before the client pins itself: Redis does not inherit the client's core.
            ours.extra_env.update(engagement_env(stack, args.database, folder))
            if client_cpus is not None:
                os.sched_setaffinity(0, client_cpus)
            if args.thread_cache_seconds is not None:
                ours.extra_env["ENGAGEMENT_THREAD_CACHE_SECONDS"] = args.thread_cache_seconds
            if args.code is not None:
                ours.extra_env["PYTHONPATH"] = str(args.code.resolve())
            systems: list[Server] = [ours]
            if not args.skip_isso:
                systems.append(Isso("isso", f"http://127.0.0.1:{free_port()}", pin=server_pin))
            ceiling = Ceiling("ceiling", f"http://127.0.0.1:{free_port()}", pin=server_pin)
            # All up at once, idle while another answers: each measure takes turns among them.
            for server in [*systems, ceiling]:
                (folder / server.name).mkdir()
                stack.callback(server.stop)
                server.start(folder / server.name)
            results = measure(systems, ceiling, sizes)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for name, figures in results.items():
        print(f"[{name}] {json.dumps(figures)}")
    print()
    pinned = f"servers on CPU {SERVER_CPU}, client on CPU {CLIENT_CPU}" if client_cpus else "not pinned"
    print(f"engagement on {args.database}, {pinned}")
    print(report(results["engagement"], results.get("isso"), results.get("ceiling")))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
