"""Live threads across processes: two `engagement serve` over one Redis, and the CLI's approval."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import redis
from required_services import missing_service

from web.streaming import free_port, open_stream
from web.test_processes import ENGAGEMENT, environment, stop, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.redis]
ARTICLE = "https://news.example.org/2026/11/article"


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A redis-server of this test's own on a free port: no other test hears its channel."""
    if shutil.which("redis-server") is None:
        missing_service("redis-server", "the binary is not installed")
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", str(tmp_path)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        process.kill()
        process.wait()


@pytest.fixture
def env(tmp_path: Path, redis_url: str) -> dict[str, str]:
    values = environment(tmp_path / "data")
    values["ENGAGEMENT_BROKER_URL"] = redis_url
    values["ENGAGEMENT_LOG_LEVEL"] = "warning"
    run = lambda *args: subprocess.run([ENGAGEMENT, *args], env=values, check=True, capture_output=True)  # noqa: E731
    run("db", "upgrade")
    run("sites", "add", "daily", "--name", "The Daily", "--origin", "https://news.example.org")
    run(
        "sites",
        "add",
        "held",
        "--name",
        "Held",
        "--origin",
        "https://news.example.org",
        "--moderation",
        "all",
    )
    return values


@pytest.fixture
def servers(env: dict[str, str]) -> Iterator[list[str]]:
    """Two separate `engagement serve` on the same database and Redis, the first with two processes."""
    processes, bases = [], []
    try:
        for workers in ("2", "1"):
            port = free_port()
            process = subprocess.Popen(
                [ENGAGEMENT, "serve", "--port", str(port), "--workers", workers],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            processes.append(process)
            bases.append(f"http://127.0.0.1:{port}")
        for process, base in zip(processes, bases, strict=True):
            wait_for(f"{base}/healthz", process)
        yield bases
    finally:
        for process in processes:
            stop(process, signal.SIGTERM)


def post(base: str, body: str, site: str = "daily") -> httpx.Response:
    payload = {"site": site, "page": ARTICLE, "author": {"name": "Jane"}, "body": body}
    return httpx.post(f"{base}/api/v1/comments", json=payload, timeout=10)


def test_a_comment_posted_through_one_process_reaches_a_stream_on_the_other(servers):
    one, other = servers
    assert post(one, "First").status_code == 201
    with open_stream(other, "daily", ARTICLE) as stream:
        second = post(one, "Second").json()["comment"]["id"]
        assert stream.next_of("comment").data == {"id": second, "parent": None}
    # Streams on `serve --workers 2` land on either of its processes: each hears the comment.
    with ExitStack() as streams:
        opened = [streams.enter_context(open_stream(one, "daily", ARTICLE)) for _ in range(4)]
        third = post(other, "Third").json()["comment"]["id"]
        for stream in opened:
            assert stream.next_of("comment").data == {"id": third, "parent": None}


def test_an_approval_from_the_cli_reaches_the_streams(servers, env):
    one, _ = servers
    first = post(one, "First", site="held").json()["comment"]["id"]
    subprocess.run(
        [ENGAGEMENT, "moderation", "approve", str(first)], env=env, check=True, capture_output=True
    )
    with open_stream(one, "held", ARTICLE) as stream:
        held = post(one, "Held", site="held")
        assert held.status_code == 202
        held_id = held.json()["comment"]["id"]
        subprocess.run(
            [ENGAGEMENT, "moderation", "approve", str(held_id)], env=env, check=True, capture_output=True
        )
        # The first comment event is the approval's: holding it announced nothing.
        assert stream.next_of("comment").data == {"id": held_id, "parent": None}
