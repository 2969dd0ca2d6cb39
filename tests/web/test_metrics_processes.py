"""/metrics and the logs of real processes: `engagement serve` and a prefork `engagement worker`."""

from __future__ import annotations

import json
import re
import subprocess
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from web.test_processes import ENGAGEMENT, environment, free_port, stop, wait_for

TOKEN = "scrape-token-0123456789"
AUTHOR = "jane.author@mail.example.net"
MODERATOR = "mod.person@mail.example.net"
ARTICLE = "https://news.example.org/2026/11/article"
REQUEST_ID = "req-4f1c2a9e-test"


def scrape(url: str, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(url, headers=headers, timeout=10)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in found.items() if n == name and set(labels.items()) <= set(ls))


def json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:  # a line still being written, or a library's own print
            continue
    return lines


@pytest.fixture
def services(tmp_path):
    env = environment(tmp_path / "data") | {
        "ENGAGEMENT_METRICS_TOKEN": TOKEN,
        "ENGAGEMENT_LOG_FORMAT": "json",
        "ENGAGEMENT_NOTIFY_WINDOW_SECONDS": "0",
    }
    run = {"env": env, "check": True, "capture_output": True}
    subprocess.run([ENGAGEMENT, "db", "upgrade"], **run)
    subprocess.run(
        [ENGAGEMENT, "sites", "add", "daily", "--name", "Daily", "--origin", "https://news.example.org",
         "--moderation", "all", "--moderator-email", MODERATOR],
        **run,
    )  # fmt: skip
    web_port, worker_port = free_port(), free_port()
    logs = {"web": tmp_path / "web.log", "worker": tmp_path / "worker.log"}
    pool = ["--pool=prefork", "--concurrency=2", "--no-beat"]
    with logs["web"].open("w") as web_log, logs["worker"].open("w") as worker_log:
        web = subprocess.Popen(
            [ENGAGEMENT, "serve", "--port", str(web_port)], env=env, stdout=subprocess.PIPE,
            stderr=web_log, text=True,
        )  # fmt: skip
        worker = subprocess.Popen(
            [ENGAGEMENT, "worker", "--metrics-port", str(worker_port), *pool],
            env=env, stdout=subprocess.PIPE, stderr=worker_log, text=True,
        )  # fmt: skip
        try:
            wait_for(f"http://127.0.0.1:{web_port}/healthz", web)
            wait_for(f"http://127.0.0.1:{worker_port}/metrics", worker)
            yield f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{worker_port}/metrics", logs
        finally:
            stop(web, 15)
            stop(worker, 15)


@pytest.mark.slow
def test_metrics_after_real_traffic_through_web_and_a_worker(services):
    base, worker_metrics, logs = services
    payload = {"site": "daily", "page": ARTICLE, "author": {"name": "Jane", "email": AUTHOR}, "body": "Hello"}
    posted = httpx.post(
        f"{base}/api/v1/comments", json=payload, headers={"X-Request-ID": REQUEST_ID}, timeout=10
    )
    assert posted.status_code == 202, posted.text
    assert posted.headers["X-Request-ID"] == REQUEST_ID
    made = httpx.get(f"{base}/api/v1/sites/daily", headers={"X-Request-ID": "bad id with spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])
    for _ in range(3):
        httpx.get(f"{base}/api/v1/comments", params={"site": "daily", "page": ARTICLE})
    httpx.get(f"{base}/no/such/path/{AUTHOR}")

    # The moderators' mail leaves through the worker's pool processes; wait for its task's end.
    deadline = time.monotonic() + 60
    while not value(samples(scrape(worker_metrics).text), "engagement_tasks_total", task="engagement.send"):
        assert time.monotonic() < deadline, logs["worker"].read_text()
        time.sleep(0.3)
    while not any(
        e["event"] == "task.done" and e.get("task") == "engagement.send"
        for e in json_lines(logs["worker"].read_text())
    ):
        assert time.monotonic() < deadline, logs["worker"].read_text()
        time.sleep(0.1)

    web_text = scrape(f"{base}/metrics").text
    worker_text = scrape(worker_metrics).text
    web, work = samples(web_text), samples(worker_text)
    route = "/api/v1/comments"
    assert value(web, "engagement_http_requests_total", method="GET", route=route, status="200") == 3
    assert value(web, "engagement_http_requests_total", method="POST", route=route, status="202") == 1
    assert value(web, "engagement_http_request_duration_seconds_count", method="GET", route=route) == 3
    assert value(web, "engagement_http_requests_total", route="unmatched", status="404") == 1
    assert value(web, "engagement_comments_posted_total", site="daily", status="pending") == 1
    assert value(web, "engagement_moderation_pending", site="daily") == 1
    assert ("engagement_outbox_pending", ()) in web
    assert ("engagement_outbox_lag_seconds", ()) in web
    assert value(web, "engagement_build_info") == 1
    assert {labels for name, labels in web if name == "engagement_broker_queue_length"} >= {
        (("queue", q),) for q in ("relay", "send", "digest")
    }
    assert value(work, "engagement_deliveries_total", template="moderation_request", status="sent") == 1
    assert value(work, "engagement_smtp_send_duration_seconds_count") == 1
    assert value(work, "engagement_tasks_total", task="engagement.relay", state="SUCCESS") >= 1
    assert value(work, "engagement_tasks_total", task="engagement.send", state="SUCCESS") >= 1

    for found in (web, work):
        for name, _labels in found:
            assert name.startswith("engagement_"), name
            assert not name.endswith("_total_total")
        assert all(name.endswith("_total") for name, _ in found if "posted" in name or "requests" in name)
    for text in (web_text, worker_text):
        assert "@" not in text
        assert ARTICLE not in text
        assert "reader" not in text

    # The request's id is on its own line and on the lines of the tasks it caused.
    web_log, worker_log = json_lines(logs["web"].read_text()), json_lines(logs["worker"].read_text())
    [line] = [e for e in web_log if e.get("request_id") == REQUEST_ID and e["event"] == "http.request"]
    assert (line["route"], line["status"]) == (route, 202)
    assert line["duration_ms"] > 0
    caused = [e for e in worker_log if e.get("request_id") == REQUEST_ID and e["event"] == "task.done"]
    assert {e["task"] for e in caused} == {"engagement.relay", "engagement.send"}, worker_log
    assert all(e["task_id"] and e["state"] == "SUCCESS" for e in caused)
    for text in (logs["web"].read_text(), logs["worker"].read_text()):
        assert all(line.startswith("{") for line in text.splitlines()), text  # uvicorn's, Celery's too
        assert AUTHOR not in text
        assert MODERATOR not in text


@pytest.mark.slow
def test_metrics_need_the_token_when_one_is_set(services):
    base, worker_metrics, _ = services
    for url in (f"{base}/metrics", worker_metrics):
        for token in (None, "wrong-token-0123456789", "x"):
            refused = scrape(url, token)
            assert refused.status_code == 401, url
            assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert scrape(url).status_code == 200


@pytest.mark.slow
def test_every_web_process_counts(tmp_path):
    env = environment(tmp_path / "data") | {"ENGAGEMENT_LOG_FORMAT": "json"}
    subprocess.run([ENGAGEMENT, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = subprocess.Popen(
        [ENGAGEMENT, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(f"{base}/healthz", web)
        answered_by = set()
        for _ in range(40):  # a connection each: the kernel hands them to either process
            with httpx.Client() as client:
                answered_by.add(client.get(f"{base}/readyz").json()["status"])
        healthz = value(
            samples(scrape(f"{base}/metrics", None).text), "engagement_http_requests_total", route="/healthz"
        )
        # Whichever process answers the scrape, it adds up both processes' files.
        totals = {
            value(
                samples(scrape(f"{base}/metrics", None).text),
                "engagement_http_requests_total",
                route="/readyz",
            )
            for _ in range(10)
        }
        [folder] = (tmp_path / "data" / "metrics").iterdir()
        writers = {path.name.rsplit("_", 1)[-1] for path in folder.glob("*.db")}  # a file set per process
    finally:
        output = stop(web, 15)
    assert web.returncode == 0, output
    assert answered_by == {"ok"}
    assert totals == {40.0}
    assert healthz >= 1
    assert len(writers) == 2, output
    assert not folder.exists()  # removed when the server stopped
