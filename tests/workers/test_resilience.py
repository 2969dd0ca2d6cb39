"""Faults against real processes: Redis restarted empty, workers killed or stopped, a beat killed.

Each test runs its own redis-server, the test PostgreSQL, an aiosmtpd sink, and ``engagement
worker`` and ``engagement beat`` as subprocesses in production mode, with nothing to restart
them. The times measured are printed (``pytest -s``) and kept in bench/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from drive import subscribe
from fleet import Running, start_engagement, wait_for
from mailsink import free_port

from engagement.core import build_core
from engagement.heartbeat import heartbeat_age, heartbeat_path
from engagement.services.discussion.comments import PostComment, post_comment
from engagement.services.sites import SiteChanges, add_site
from workers import handoff, make_celery
from workers.app import BEAT_LOCK_TIMEOUT_SECONDS

pytestmark = pytest.mark.postgres
PAGE = "https://news.example.org/2026/12/the-story"
READER = {"X-Engagement-Reader": "reader-0123456789"}
TAKEOVER_SLACK_SECONDS = 15  # the bound the README promises beyond the lease


def figure(name: str, value: float, unit: str = "s") -> None:
    """A measured figure, printed for bench/resilience.py to collect."""
    print(f"\nFIGURE {name}: {value:.1f} {unit}")


@pytest.fixture
def rig(pg_core, sink, own_redis, tmp_path):
    """A site on the test database, settings for the processes, and a way to start them."""
    env = {
        **os.environ,
        "ENGAGEMENT_MODE": "production",
        "ENGAGEMENT_DATABASE_URL": pg_core.settings.database_url,
        "ENGAGEMENT_BROKER_URL": own_redis.url,
        "ENGAGEMENT_SMTP_URL": sink.url,
        "ENGAGEMENT_SECRET_KEY": pg_core.settings.secret_key,
        "ENGAGEMENT_NOTIFY_WINDOW_SECONDS": "0",
        "ENGAGEMENT_SMTP_RATE_PER_SECOND": "40",
        "ENGAGEMENT_DELIVERY_LEASE_SECONDS": "3",
        "ENGAGEMENT_LOG_LEVEL": "info",
    }
    settings = pg_core.settings.model_copy(
        update={
            "mode": "production",
            "broker_url": own_redis.url,
            "smtp_url": sink.url,
            "notify_window_seconds": 0,
            "data_dir": tmp_path / "test",
        }
    )
    core = build_core(settings)
    core.on_commit = handoff(make_celery(settings), background=True)  # as the web server hands over
    add_site(core.uow(), "daily", SiteChanges(name="The Daily Example", origins=["https://news.example.org"]))
    running: list[Running] = []

    def start(name: str, *args: str, **overrides: str) -> Running:
        process = start_engagement(name, list(args), {**env, **overrides}, tmp_path)
        running.append(process)
        return process

    def worker(name: str, **overrides: str) -> Running:
        process = start(name, "worker", **overrides)
        ready = heartbeat_path(tmp_path / name, "worker")
        wait_for(lambda: ready.exists() or not process.alive, timeout=60, every=0.1)
        assert process.alive, process.output()
        return process

    def beat(name: str, **overrides: str) -> Running:
        return start(name, "beat", **overrides)

    def follow(count: int, page: str = PAGE) -> list[str]:
        people = [f"reader{i}@example.org" for i in range(count)]
        for address in people:
            subscribe(core, address, page=page)
        return people

    def comment(page: str = PAGE) -> None:
        post_comment(core.uow(), PostComment(site="daily", page=page, author_name="Jane", body="Hello."))

    yield SimpleNamespace(
        core=core, settings=settings, env=env, folder=tmp_path, start=start, worker=worker, beat=beat,
        follow=follow, comment=comment,
    )  # fmt: skip
    for process in running:
        process.kill_group()
    core.on_commit.close()  # type: ignore[union-attr]
    core.dispose()


def _fresh_heartbeat(process: Running, kind: str, folder: Path, since: float) -> bool:
    age = heartbeat_age(heartbeat_path(folder / process.name, kind))
    return age is not None and time.time() - age > since


def test_worker_and_beat_outlive_redis_restarted_empty_mid_fanout(rig, sink, own_redis):
    people = rig.follow(240)
    worker = rig.worker("worker", ENGAGEMENT_SMTP_RATE_PER_SECOND="60")
    beat = rig.beat("beat")
    rig.comment()
    sink.wait_for(30, timeout=30)

    own_redis.stop()
    time.sleep(2)
    own_redis.start()  # empty: no queues, no bindings, no schedule, no lock
    restarted = time.time()
    beat_log_then = len(beat.output())

    sink.wait_for(len(people), timeout=60)
    # Both reconnected by themselves: fresh heartbeats, beat firing again from a re-created schedule.
    wait_for(lambda: _fresh_heartbeat(worker, "worker", rig.folder, restarted), timeout=60, every=0.2)
    wait_for(lambda: "Sending due task" in beat.output()[beat_log_then:], timeout=30, every=0.2)
    entries = len(make_celery(rig.settings).conf.beat_schedule)
    assert own_redis.client().zcard("redbeat:schedule") >= entries

    rig.comment()  # after the faults: reaches everyone, once more
    sink.wait_for(2 * len(people), timeout=60)
    time.sleep(1)
    assert worker.alive, worker.output()
    assert beat.alive, beat.output()
    assert sink.recipients() == Counter(dict.fromkeys(people, 2))
    for process in (worker, beat):  # and still stop cleanly, as at a deploy
        process.terminate()
        assert process.process.wait(10) == 0, process.output()


def test_a_dead_workers_claims_are_taken_over_within_the_lease_plus_15_s(rig, sink):
    lease = 8.0  # longer than a worker's start, so the claims are still live at the kill
    settings = {"ENGAGEMENT_DELIVERY_LEASE_SECONDS": str(lease)}
    people = rig.follow(120)
    rig.beat("beat", **settings)
    first = rig.worker("first", **settings)
    sink.handler.hold_at_mail = 11  # the 11th mail waits on the wire: ten were answered 250
    rig.comment()
    assert sink.handler.held.wait(30)  # the first worker holds the whole batch's claims
    claimed = time.monotonic()
    rig.worker("second", **settings)

    killed = time.monotonic()
    first.kill_group()
    sink.handler.release.set()
    wait_for(lambda: len(sink.received) > 10, timeout=lease + TAKEOVER_SLACK_SECONDS, every=0.02)
    taken_over = time.monotonic()
    wait_for(lambda: set(sink.recipients()) == set(people), timeout=60, every=0.1)
    time.sleep(1)

    figure("SIGKILL: first mail sent by the other worker, after the kill (lease 8 s)", taken_over - killed)
    figure("SIGKILL: the same, after the claim's last renewal (lease 8 s)", taken_over - claimed)
    counts = sink.recipients()
    duplicates = sum(n - 1 for n in counts.values())
    # Each mail's outcome is recorded before the next leaves: only the one on the wire at the
    # kill can go twice.
    assert duplicates <= 1, counts
    figure("SIGKILL duplicates", duplicates, "mails")


def test_a_worker_stopped_with_sigterm_hands_its_batch_back_at_once(rig, sink):
    people = rig.follow(120)
    long_lease = {"ENGAGEMENT_DELIVERY_LEASE_SECONDS": "60"}  # a takeover by lease would show
    rig.start("beat", "beat", **long_lease)
    first = rig.worker("first", **long_lease)
    sink.handler.hold_at_mail = 11
    rig.comment()
    assert sink.handler.held.wait(30)
    rig.worker("second", **long_lease)

    stopped = time.monotonic()
    first.terminate()
    sink.handler.release.set()  # the mail on the wire goes on, and is the first worker's last
    assert first.process.wait(10) == 0, first.output()
    exited = time.monotonic() - stopped
    wait_for(lambda: set(sink.recipients()) == set(people), timeout=30, every=0.05)
    handed_over = time.monotonic() - stopped
    time.sleep(1)

    assert sink.recipients() == Counter(dict.fromkeys(people, 1))
    assert "delivery.handed_back" in first.output()
    figure("SIGTERM: worker exit", exited)
    figure("SIGTERM: last mail after the signal", handed_over)


def test_a_second_beat_takes_over_within_one_lock_timeout(rig, own_redis):
    first = rig.beat("first")
    wait_for(lambda: "Sending due task" in first.output(), timeout=60, every=0.1)
    second = rig.beat("second")
    wait_for(lambda: heartbeat_path(rig.folder / "second", "beat").exists(), timeout=60, every=0.1)
    time.sleep(2)
    assert "Sending due task" not in second.output()  # it waits for the lock

    killed = time.monotonic()
    first.kill_group()
    wait_for(lambda: "Sending due task" in second.output(), timeout=BEAT_LOCK_TIMEOUT_SECONDS + 5, every=0.05)
    takeover = time.monotonic() - killed
    figure(f"beat takeover (lock {BEAT_LOCK_TIMEOUT_SECONDS} s)", takeover)

    second.terminate()
    assert second.process.wait(10) == 0, second.output()
    assert not own_redis.client().exists("redbeat:lock")  # given back, not left to expire


def _post(port: int, payload: dict[str, object]) -> tuple[int, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/comments",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **READER},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
            return True
    except OSError:
        return False


def test_a_comment_posted_while_redis_is_down_is_mailed_once_it_is_back(rig, sink, own_redis):
    people = rig.follow(20)
    rig.worker("worker")
    rig.beat("beat")
    port = free_port()
    web = rig.start("web", "serve", "--port", str(port), ENGAGEMENT_RATE_LIMITS_ENABLED="true")
    wait_for(lambda: _serving(port) or not web.alive, timeout=60, every=0.1)
    payload = {"site": "daily", "page": PAGE, "author": {"name": "Jane"}, "body": "Posted in the outage."}

    own_redis.stop()
    status, text = _post(port, payload)
    assert status == 201, text
    time.sleep(3)
    own_redis.start()
    back = time.monotonic()
    sink.wait_for(len(people), timeout=60)
    figure("mail after Redis returned", time.monotonic() - back)
    time.sleep(1)
    assert sink.recipients() == Counter(dict.fromkeys(people, 1))
    assert web.alive
