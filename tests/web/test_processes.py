"""`engagement serve` and `engagement demo` as a user runs them: real processes on free ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from engagement.config import SECRET_FILE

ENGAGEMENT = str(Path(sys.executable).with_name("engagement"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGEMENT_")}
    env["ENGAGEMENT_DATA_DIR"] = str(data_dir)
    return env


def wait_for(url: str, process: subprocess.Popen, timeout: float = 60.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"the process stopped early ({process.returncode}):\n{output}")
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {timeout} s")


def stop(process: subprocess.Popen, sig: int) -> str:
    process.send_signal(sig)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"the process did not stop on {signal.Signals(sig).name}:\n{output}")
    return output


@pytest.mark.slow
def test_serve_answers_and_stops_on_sigterm(tmp_path):
    env = environment(tmp_path)
    subprocess.run([ENGAGEMENT, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen(
        [ENGAGEMENT, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert wait_for(f"http://127.0.0.1:{port}/healthz", process).json() == {"status": "ok"}
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert ready.json()["database"] is True
        assert httpx.get(f"http://127.0.0.1:{port}/demo/article", timeout=5).status_code == 404
    finally:
        output = stop(process, signal.SIGTERM)
    assert process.returncode == 0, output


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_demo_starts_serves_the_article_and_the_mailbox_and_stops_cleanly(tmp_path, sig):
    port = free_port()
    process = subprocess.Popen(
        [ENGAGEMENT, "demo", "--port", str(port), "--data-dir", str(tmp_path / "data")],
        env=environment(tmp_path / "elsewhere"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        article = wait_for(f"{base}/demo/article", process)
        assert article.status_code == 200
        assert 'src="/widget.js" data-site="demo"' in article.text
        thread = httpx.get(f"{base}/api/v1/comments", params={"site": "demo", "page": f"{base}/demo/article"})
        assert thread.json()["page"]["comments"] == 7
        mailbox = httpx.get(f"{base}/demo/mail", timeout=5)
        assert mailbox.status_code == 200
        assert "Demo mailbox" in mailbox.text
    finally:
        output = stop(process, sig)
    assert process.returncode == 0, output
    assert f"{base}/demo/article" in output
    assert "Demo stopped." in output
    assert (tmp_path / "data" / "engagement.db").exists()
    assert (tmp_path / "data" / SECRET_FILE).exists()
    assert not (tmp_path / "elsewhere").exists()  # not even a secret in the environment's folder
