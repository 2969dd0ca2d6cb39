"""Live streams: one web process holding 5,000 open streams on one page, a comment posted.

    .venv/bin/python bench/streams.py [--streams 5000] [--rounds 5] [--database sqlite|postgresql]

``sqlite`` is the embedded mode (notices stay in the process); ``postgresql`` the production
path (the notice goes out to a Redis of the benchmark's own and comes back through the web
process's one subscription). The server (`engagement serve`, one process) is pinned to CPU 0,
this client (one asyncio process, raw sockets) to CPU 1. Prints, per round and over all, the
time from the POST's answer until each stream got the comment's event (p50, p99, the last),
and the server's RSS with the streams open (goals: p99 < 1 s, RSS < 300 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from mailbench import cpu_seconds, free_port, own_redis, scratch_database

ENGAGEMENT = str(Path(sys.executable).with_name("engagement"))
PAGE = "https://news.example.org/2026/12/live"
OPEN_AT_ONCE = 100  # connections being opened at a time (uvicorn's backlog is 2,048)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Reader:
    """One stream on a raw socket: waits for the bytes naming a comment."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        request = f"GET /api/v1/stream?site=bench&page={PAGE} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        self.writer.write(f"{request}Accept: text/event-stream\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head.decode(errors="replace").splitlines()[0])
        await self.wait_for(b"retry: ")

    async def wait_for(self, marker: bytes) -> float:
        """Read until ``marker`` has come; the moment it did (perf_counter)."""
        assert self.reader is not None
        tail = b""
        while True:
            chunk = await self.reader.read(65536)
            if not chunk:
                raise RuntimeError("the stream ended")
            if marker in tail + chunk:
                return time.perf_counter()
            tail = (tail + chunk)[-len(marker) :]

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def open_all(port: int, count: int) -> list[Reader]:
    readers = [Reader(port) for _ in range(count)]
    gate = asyncio.Semaphore(OPEN_AT_ONCE)

    async def one(reader: Reader) -> None:
        async with gate:
            await reader.open()

    await asyncio.gather(*(one(reader) for reader in readers))
    return readers


async def round_trip(
    port: int, pid: int, readers: list[Reader], body: str
) -> tuple[list[float], list[float], float]:
    """Post a comment; each stream's delay to its event from the POST's answer (0 when the
    event came first) and from the POST's sending, in seconds; the server's CPU seconds for it."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        # Know the id to wait for only after the answer: wait for the next comment event instead.
        waits = [asyncio.create_task(reader.wait_for(b"event: comment")) for reader in readers]
        await asyncio.sleep(0.2)  # every reader is reading
        cpu = cpu_seconds(pid)
        sent = time.perf_counter()
        response = await client.post(
            "/api/v1/comments",
            json={"site": "bench", "page": PAGE, "author": {"name": "Bench"}, "body": body},
        )
        answered = time.perf_counter()
        response.raise_for_status()
        arrived = await asyncio.gather(*waits)
        cpu = cpu_seconds(pid) - cpu
    return [max(0.0, moment - answered) for moment in arrived], [moment - sent for moment in arrived], cpu


def summary(values: list[float]) -> str:
    return (
        f"p50 {statistics.median(values) * 1000:.0f} ms, p99 {percentile(values, 0.99) * 1000:.0f} ms, "
        f"last {max(values) * 1000:.0f} ms"
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(port: int, pid: int, streams: int, rounds: int) -> None:
    before = rss_mb(pid)
    started = time.perf_counter()
    readers = await open_all(port, streams)
    opened = time.perf_counter() - started
    await asyncio.sleep(1.0)
    held = rss_mb(pid)
    print(f"opened {streams:,} streams in {opened:.1f} s; RSS {before:.1f} MB before, {held:.1f} MB after")
    every: list[float] = []
    every_sent: list[float] = []
    for n in range(rounds):
        delays, from_sent, cpu = await round_trip(port, pid, readers, f"Round {n}")
        every += delays
        every_sent += from_sent
        print(
            f"round {n + 1}: from the answer {summary(delays)}; from the request {summary(from_sent)}; "
            f"server CPU {cpu * 1000:.0f} ms"
        )
    print(f"all rounds ({len(every):,} deliveries): from the answer {summary(every)}")
    print(f"  from the request {summary(every_sent)}; server RSS {rss_mb(pid):.1f} MB")
    for reader in readers:
        reader.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server inherits it too
    if hard < args.streams + 200:
        sys.exit(f"the open-files limit ({hard}) is too low for {args.streams} streams")
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        inherited = os.environ  # noqa: TID251 -- the server's environment, not settings
        env = {k: v for k, v in inherited.items() if not k.startswith("ENGAGEMENT_")}
        env.update(
            ENGAGEMENT_DATA_DIR=str(folder),
            ENGAGEMENT_DATABASE_URL=stack.enter_context(scratch_database(args.database, folder)),
            ENGAGEMENT_RATE_LIMITS_ENABLED="false",
            ENGAGEMENT_LOG_LEVEL="warning",
        )
        if args.database == "postgresql":
            env["ENGAGEMENT_BROKER_URL"] = stack.enter_context(own_redis())
        run = lambda *a: subprocess.run([ENGAGEMENT, *a], env=env, check=True, capture_output=True)  # noqa: E731
        run("db", "upgrade")
        run("sites", "add", "bench", "--name", "Bench", "--origin", "https://news.example.org")
        port = free_port()
        pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
        server = subprocess.Popen([*pin, ENGAGEMENT, "serve", "--port", str(port)], env=env)
        stack.callback(lambda: (server.send_signal(signal.SIGTERM), server.wait(30)))
        with contextlib_suppress_os():
            os.sched_setaffinity(0, {1})
        wait_until_up(port)
        first = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/comments",
            json={"site": "bench", "page": PAGE, "author": {"name": "Bench"}, "body": "The page exists now."},
            timeout=30,
        )
        first.raise_for_status()
        print(f"load average before: {os.getloadavg()[0]:.1f}; database {args.database}")
        run_loop(measure(port, server.pid, args.streams, args.rounds))
        print(f"load average after: {os.getloadavg()[0]:.1f}")


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """On uvloop when installed (the server's loop too): the client must not be the slower side."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    sys.exit("the server did not start")


class contextlib_suppress_os:
    """Pinning is best effort (a machine with one CPU)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return exc[0] is not None and issubclass(exc[0], OSError)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
