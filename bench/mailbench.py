"""Shared parts of the mail benchmarks: an SMTP sink process, a Redis of our own, a scratch database."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import secrets
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import redis
import sqlalchemy as sa

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_sink(port: int, count, ready) -> None:
    from aiosmtpd.controller import Controller

    class Counter:
        async def handle_DATA(self, server, session, envelope):
            with count.get_lock():
                count.value += 1
            return "250 OK"

    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


class Sink:
    """aiosmtpd in a process of its own that only counts what it accepts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.count = multiprocessing.Value("i", 0)
        ready = multiprocessing.Event()
        self.process = multiprocessing.Process(
            target=_serve_sink, args=(self.port, self.count, ready), daemon=True
        )
        self.process.start()
        ready.wait(10)

    @property
    def received(self) -> int:
        return int(self.count.value)

    def reset(self) -> None:
        with self.count.get_lock():
            self.count.value = 0

    def wait_for(self, n: int, timeout: float = 1800) -> float:
        """Wait until ``n`` mails arrived; return the monotonic time when they had."""
        deadline = time.monotonic() + timeout
        while self.received < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.received} of {n} mails arrived")
            time.sleep(0.005)
        return time.monotonic()

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(5)


@contextmanager
def own_redis():
    """A redis-server of our own on a free port (the shared one is left alone)."""
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                folder,
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=port)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.RedisError:
                time.sleep(0.02)
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            client.close()
            process.kill()
            process.wait()


@contextmanager
def scratch_database(kind: str, folder: Path):
    """An empty database: a SQLite file in ``folder``, or a throw-away PostgreSQL database."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"engagement_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def peak_rss_mb(pid: int) -> float:
    """The peak resident set size of a live process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a live process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and its live children (a prefork worker's pool)."""
    total = cpu_seconds(pid)
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        for child_pid in child.read_text().split():
            total += tree_cpu_seconds(int(child_pid))
    return total
