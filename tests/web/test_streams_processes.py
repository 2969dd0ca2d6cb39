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


class OwnRedis:
    """A redis-server of this test's own on a free port: no other test hears its channel, and
    the test may kill it (it comes back empty) and start it again on the same port."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", str(self.folder)]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        try:
            for _ in range(100):
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    time.sleep(0.1)
        finally:
            client.close()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        missing_service("redis-server", "the binary is not installed")
    server = OwnRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def redis_url(own_redis: OwnRedis) -> str:
    return own_redis.url


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


def test_after_redis_comes_back_open_streams_end_and_resume(servers, own_redis):
    one, _ = servers
    assert post(one, "First").status_code == 201
    with open_stream(one, "daily", ARTICLE) as stream:
        own_redis.kill()
        own_redis.start()  # empty, on the same port
        # The subscription was lost: the stream ends, so its reader reconnects and resumes.
        with pytest.raises(AssertionError, match="the stream ended"):
            stream.next_event()
    for _attempt in range(20):
        # The other process may still be subscribing again: 503 until it is, as a reader would see.
        params = {"site": "daily", "page": ARTICLE}
        with httpx.stream("GET", f"{one}/api/v1/stream", params=params, timeout=10) as probe:
            if probe.status_code == 200:
                break
        time.sleep(0.5)
    with open_stream(one, "daily", ARTICLE) as stream:
        after = post(one, "After the outage").json()["comment"]["id"]
        assert stream.next_of("comment").data == {"id": after, "parent": None}
