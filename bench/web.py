"""Web benchmark: engagement against Isso (from PyPI, its own virtual environment), same machine, same run.

Both on SQLite, one web process each, rate limits off. Measures new comments per second
(1 and 8 clients), the GET of a 10-comment thread, the first page and the full walk of a
1,000- and a 10,000-comment thread, counts for 100 pages, and each server's RSS after the
10,000-comment reads; prints each figure and the ratio (ours over Isso's, or Isso's over
ours for times, so > 1 always means engagement is better).

    .venv/bin/python bench/web.py            # creates bench/isso-venv on first use
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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ISSO_VENV = HERE / "isso-venv"
ISSO_VERSION = "0.14.0"
ENGAGEMENT = Path(sys.executable).with_name("engagement")
SITE = "bench"
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
    extra_env: dict[str, str] = field(default_factory=dict)  # settings of this run (--thread-cache-seconds)

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
            [str(ENGAGEMENT), "serve", "--port", port], env=env, stdout=subprocess.DEVNULL
        )
        wait_until_up(self.url + "/healthz", self.process)

    def post(self, client: httpx.Client, page: str, text: str, parent: int | None) -> int:
        payload = {"site": SITE, "page": page, "author": {"name": "Bench"}, "body": text, "parent": parent}
        response = client.post(self.url + "/api/v1/comments", json=payload)
        response.raise_for_status()
        return int(response.json()["comment"]["id"])

    def first_page(self, client: httpx.Client, page: str) -> int:
        response = client.get(self.url + "/api/v1/comments", params={"site": SITE, "page": page, "limit": 20})
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
            [str(ensure_isso()), "-c", str(config), "run"],
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


def p50(call: Callable[[], object], repeat: int, warmup: int = 2) -> float:
    """Median seconds of ``repeat`` calls, after ``warmup`` unmeasured ones."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


@dataclass
class Sizes:
    single: int = 300
    parallel: int = 1200
    big: int = 10_000
    reads: int = 100
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
        results["thread_10"] = p50(lambda: server.first_page(client, "/bench/thread-10"), sizes.reads)
        results["counts_100"] = p50(lambda: server.counts(client, pages), sizes.reads)
        results["first_1k"] = p50(lambda: server.first_page(client, "/bench/thread-1k"), sizes.reads // 2)
        results["walk_1k"] = p50(lambda: server.walk(client, "/bench/thread-1k"), max(sizes.walks, 5), 1)
        results["first_10k"] = p50(lambda: server.first_page(client, "/bench/thread-10k"), sizes.reads // 2)
        results["walk_10k"] = p50(lambda: server.walk(client, "/bench/thread-10k"), sizes.walks, 1)
        results["walk_10k_bytes"] = server.walk(client, "/bench/thread-10k")
    assert server.process is not None
    results["rss_mib"] = rss_mib(server.process.pid)
    return results


ROWS = [
    ("post_1", "new comments/s, 1 client", "/s", True),
    ("post_8", "new comments/s, 8 clients", "/s", True),
    ("thread_10", "GET a 10-comment thread, p50", "ms", False),
    ("first_1k", "first page of a 1,000-comment thread, p50", "ms", False),
    ("walk_1k", "full walk of a 1,000-comment thread, p50", "ms", False),
    ("first_10k", "first page of a 10,000-comment thread, p50", "ms", False),
    ("walk_10k", "full walk of a 10,000-comment thread, p50", "ms", False),
    ("counts_100", "counts for 100 pages, p50", "ms", False),
    ("rss_mib", "server RSS after the 10,000-comment reads", "MiB", False),
]


def report(ours: dict[str, float], isso: dict[str, float] | None) -> str:
    lines = [
        "| measure | engagement | Isso | ratio (>1: engagement better) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for key, label, unit, higher_better in ROWS:
        scale = 1000 if unit == "ms" else 1
        mine = f"{ours[key] * scale:,.1f} {unit}"
        theirs, ratio = "n/a", "n/a"
        if isso is not None:
            theirs = f"{isso[key] * scale:,.1f} {unit}"
            value = ours[key] / isso[key] if higher_better else isso[key] / ours[key]
            ratio = f"{value:,.1f}×"
        lines.append(f"| {label} | {mine} | {theirs} | {ratio} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script")
    parser.add_argument("--skip-isso", action="store_true", help="measure engagement alone")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument(
        "--thread-cache-seconds", help="ENGAGEMENT_THREAD_CACHE_SECONDS for this run (0: no micro-cache)"
    )
    args = parser.parse_args()
    sizes = Sizes(single=50, parallel=200, big=1500, reads=20, walks=2) if args.quick else Sizes()
    folder = Path(tempfile.mkdtemp(prefix="engagement-bench-"))
    results: dict[str, dict[str, float]] = {}
    try:
        ours = Engagement("engagement", f"http://127.0.0.1:{free_port()}")
        if args.thread_cache_seconds is not None:
            ours.extra_env["ENGAGEMENT_THREAD_CACHE_SECONDS"] = args.thread_cache_seconds
        systems: list[Server] = [ours]
        if not args.skip_isso:
            systems.append(Isso("isso", f"http://127.0.0.1:{free_port()}"))
        for server in systems:
            (folder / server.name).mkdir()
            try:
                server.start(folder / server.name)
                results[server.name] = measure(server, sizes)
                print(f"[{server.name}] {json.dumps(results[server.name])}", flush=True)
            finally:
                server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print()
    print(report(results["engagement"], results.get("isso")))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
