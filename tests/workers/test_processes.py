"""Worker processes: the embedded worker with beat, and faults that kill processes or Redis."""

from __future__ import annotations

import time

from drive import ARTICLE, subscribe

from engagement import migrations
from engagement.config import load_settings
from engagement.core import build_core
from engagement.services.comments import PostComment, post_comment
from engagement.services.sites import SiteChanges, add_site
from workers import handoff, make_celery
from workers.embedded import start_embedded


def _wait(predicate, timeout=30.0, every=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out")


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
        mails = _wait(lambda: list(settings.mail_dir.glob("*.eml")), timeout=40)
        assert len(mails) == 1
        assert b"To: alice@example.org" in mails[0].read_bytes()
    finally:
        workers.stop()
        core.dispose()
    assert not workers.running
