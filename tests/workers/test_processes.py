"""Worker processes: the embedded worker with beat, and faults that kill processes or Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from conftest import live_settings
from drive import ARTICLE, subscribe
from fleet import start_engagement, wait_for

from engagement import migrations
from engagement.config import load_settings
from engagement.core import build_core
from engagement.heartbeat import heartbeat_path
from engagement.models import Comment, Site
from engagement.services.delivery.digests import period_bounds
from engagement.services.discussion.comments import PostComment, post_comment
from engagement.services.sites import SiteChanges, add_site, update_site
from workers import handoff, make_celery
from workers.embedded import start_embedded


def test_the_embedded_worker_sends_to_the_mail_folder_and_runs_beat(tmp_path):
    settings = load_settings(data_dir=tmp_path / "data", notify_window_seconds=1, rate_limits_enabled=False)
    migrations.upgrade(settings.resolved_database_url)
    core = build_core(settings, on_commit=handoff(make_celery(settings)))
    add_site(core.uow(), "daily", SiteChanges(name="The Daily Example", moderator_emails=["mod@example.org"]))
    subscribe(core, "alice@example.org", page=ARTICLE)
    workers = start_embedded(settings)
    try:
        request = PostComment(
            site="daily", page=ARTICLE, author_name="Jane", body="Hello.", author_email="j@x.org"
        )
        post_comment(core.uow(), request)
        # The one-second window falls due; beat's flush (every few seconds) sends it.
        mails = wait_for(lambda: list(settings.mail_dir.glob("*.eml")), timeout=40)
        assert len(mails) == 1
        assert b"To: alice@example.org" in mails[0].read_bytes()
    finally:
        workers.stop()
        core.dispose()
    assert not workers.running


@pytest.fixture
def fleet(core, site, sink, own_redis):
    """Settings for worker processes over the test's database, its own Redis and the sink."""
    settings = live_settings(core, sink, broker_url=own_redis.url)
    live = build_core(settings)
    app = make_celery(settings)
    live.on_commit = handoff(app, background=True)  # as the web server hands over
    started = []

    def start():
        worker = start_embedded(settings, concurrency=1, beat=False)
        started.append(worker)
        return worker

    yield SimpleNamespace(settings=settings, core=live, app=app, start=start)
    for worker in started:
        worker.stop(timeout=5)
    live.dispose()


def _comment(core, page=ARTICLE, **values):
    request = PostComment(
        site="daily", page=page, author_name="Jane", body="Hello.", author_email="j@x.org", **values
    )
    return post_comment(core.uow(), request)


def test_a_worker_killed_mid_batch_and_restarted_sends_every_mail_once(fleet, sink):
    people = [f"reader{i}@example.org" for i in range(10)]
    for address in people:
        subscribe(fleet.core, address, page=ARTICLE)
    sink.handler.hold_at_mail = 5  # the fifth mail waits: four were answered 250 and recorded
    worker = fleet.start()

    _comment(fleet.core)
    assert sink.handler.held.wait(30)
    worker.process.send_signal(signal.SIGKILL)
    worker.process.wait()
    sink.handler.release.set()
    assert len(sink.received) == 4

    fleet.start()
    time.sleep(fleet.settings.delivery_lease_seconds + 0.2)  # the dead worker's claims run out
    fleet.app.send_task("engagement.resume", kwargs={"grace_seconds": 0}, queue="send")

    wait_for(lambda: len(sink.received) >= 10)
    time.sleep(0.5)
    assert sorted(sink.recipients()) == people
    assert set(sink.recipients().values()) == {1}


def test_redis_stopped_while_comments_are_committed_loses_nothing(fleet, sink, own_redis):
    pages = [f"https://news.example.org/2026/11/story-{i}" for i in range(3)]
    for page in pages:
        subscribe(fleet.core, "alice@example.org", page=page)
    fleet.start()

    own_redis.stop()
    for i, page in enumerate(pages):
        _comment(fleet.core, page=page, page_title=f"Story {i}")  # committed; the hand-off fails
    own_redis.start()

    # Beat's sweep, as it fires every half minute; twice, as it may.
    for _ in range(2):
        fleet.app.send_task("engagement.sweep", kwargs={"older_than_seconds": 0}, queue="relay")
    wait_for(lambda: len(sink.received) >= 3)
    time.sleep(0.5)
    assert len(sink.received) == 3
    assert sorted(m["Subject"] for m in sink.messages()) == [
        f"Jane commented on “Story {i}”" for i in range(3)
    ]


def test_a_digest_run_killed_half_way_and_run_again_sends_each_digest_once(core, site, sink, tmp_path):
    people = [f"reader{i}@example.org" for i in range(8)]
    for address in people:
        subscribe(core, address, "digest", cadence="daily")
    _comment(core)
    # The command reads the real clock: the comment moves into the period that ended last.
    update_site(core.uow(), "daily", SiteChanges(digest_hour=datetime.now(UTC).hour))
    with core.uow() as uow:
        start, end = period_bounds(uow.session.get_one(Site, site.id), "daily", datetime.now(UTC))
        for comment in uow.session.scalars(sa.select(Comment)):
            comment.published_at = start + (end - start) / 2
        uow.commit()
    env = {
        **os.environ,
        "ENGAGEMENT_DATA_DIR": str(tmp_path),
        "ENGAGEMENT_DATABASE_URL": core.settings.database_url,
        "ENGAGEMENT_SECRET_KEY": core.settings.secret_key,
        "ENGAGEMENT_SMTP_URL": sink.url,
        "ENGAGEMENT_SMTP_RATE_PER_SECOND": "10000",
        "ENGAGEMENT_DELIVERY_LEASE_SECONDS": "2",
    }
    command = [
        sys.executable,
        "-m",
        "engagement.cli",
        "digest",
        "send",
        "--site",
        "daily",
        "--period",
        "daily",
    ]
    sink.handler.hold_at_mail = 4

    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert sink.handler.held.wait(30)
    first.kill()
    first.wait()
    sink.handler.release.set()
    assert len(sink.received) == 3

    time.sleep(2.2)  # the dead run's lease, and its claims, run out
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)

    assert again.returncode == 0, again.stdout + again.stderr
    assert "5 sent" in again.stdout
    assert sorted(sink.recipients()) == people
    assert set(sink.recipients().values()) == {1}


def test_a_second_beat_on_redis_cannot_double_fire(own_redis, tmp_path):
    env = {
        **os.environ,
        "ENGAGEMENT_DATA_DIR": str(tmp_path),
        "ENGAGEMENT_BROKER_URL": own_redis.url,
        "ENGAGEMENT_SECRET_KEY": "beat-" + "x" * 40,
    }
    logs = [tmp_path / f"beat{i}.log" for i in range(2)]
    beats = []
    for log in logs:
        with log.open("w") as out:
            command = [sys.executable, "-m", "engagement.cli", "beat", "--loglevel=info"]
            beats.append(subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT))
    try:
        wait_for(lambda: any("Sending due task" in log.read_text() for log in logs), timeout=60, every=0.2)
        time.sleep(6)  # one more round of the five-second flush
    finally:
        for beat in beats:
            beat.terminate()
            beat.wait(10)
    sent = sorted(log.read_text().count("Sending due task") for log in logs)
    # One beat holds RedBeat's lock in Redis and fires; the other waits for the lock.
    assert sent[0] == 0
    assert sent[1] >= 2


def test_engagement_worker_hands_its_arguments_to_celery(tmp_path):
    env = {**os.environ, "ENGAGEMENT_DATA_DIR": str(tmp_path)}
    shown = subprocess.run(
        [sys.executable, "-m", "engagement.cli", "worker", "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert "--concurrency" in shown.stdout


def test_a_worker_that_stops_without_a_signal_exits_non_zero_with_the_reason(own_redis, tmp_path):
    env = {
        **os.environ,
        "ENGAGEMENT_MODE": "production",
        "ENGAGEMENT_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/unused",  # an idle worker reads nothing
        "ENGAGEMENT_BROKER_URL": own_redis.url,
        "ENGAGEMENT_SMTP_URL": "smtp://127.0.0.1:9",
        "ENGAGEMENT_SECRET_KEY": "worker-" + "x" * 40,
    }
    worker = start_engagement("worker", ["worker"], env, tmp_path)
    try:
        beat = heartbeat_path(tmp_path / "worker", "worker")
        wait_for(lambda: beat.exists() or not worker.alive, timeout=60, every=0.1)
        # A broadcast shutdown stands in for Celery giving up by itself: no signal told it to stop.
        make_celery(load_settings(broker_url=own_redis.url, data_dir=tmp_path)).control.shutdown()
        assert worker.process.wait(30) == 1
        assert "engagement worker: stopped without being told to" in worker.output()
    finally:
        worker.kill_group()
