"""Digest: one site's daily digest to 100,000 subscribers, run by a real worker process.

    .venv/bin/python bench/digest.py [--subscribers 100000] [--database postgresql|sqlite]

Seeded directly in the database: the subscribers (a tenth follow one of 50 pages, a
hundredth have a comment that got a reply), a day of comments on those pages. Measured:
minutes from handing the digest task to the worker until the aiosmtpd sink (its own
process) accepted the last digest, and the worker process' peak resident memory (VmHWM).
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import arguments, bench_core, follow_row, page_row, subscriber_row
from mailbench import Sink, peak_rss_mb

from engagement.models import Comment, DigestRun, Page, Site, Subscriber, Subscription
from engagement.services.delivery.digests import period_bounds
from engagement.services.sites import SiteChanges, add_site
from workers import make_celery
from workers.embedded import start_embedded

PAGES = 50
BATCH = 10_000


def seed(core, n: int) -> None:
    """Subscribers, follows, comments and replies of the period that ended last."""
    add_site(
        core.uow(), "daily", SiteChanges(name="The Daily Example", support_url="https://patreon.com/daily")
    )
    now = datetime.now(UTC)
    with core.uow() as uow:
        site = uow.session.scalars(sa.select(Site)).one()
        start, end = period_bounds(site, "daily", now)
    middle = start + (end - start) / 2
    with core.engine.begin() as conn:
        site_id = conn.execute(sa.select(Site.id)).scalar_one()
        conn.execute(sa.insert(Page), [_page(site_id, i, now) for i in range(PAGES)])
        page_ids = conn.execute(sa.select(Page.id).order_by(Page.id)).scalars().all()
        for first in range(0, n, BATCH):
            rows = [_subscriber(site_id, i, now) for i in range(first, min(n, first + BATCH))]
            conn.execute(sa.insert(Subscriber), rows)
        ids = conn.execute(sa.select(Subscriber.id).order_by(Subscriber.id)).scalars().all()
        for first in range(0, n, BATCH):
            chunk = ids[first : first + BATCH]
            conn.execute(sa.insert(Subscription), [_digest(s, now) for s in chunk])
            follows = [follow_row(s, page_ids[s % PAGES], now) for s in chunk if s % 10 == 0]
            conn.execute(sa.insert(Subscription), follows)
        comments = [
            _comment(page_ids[i % PAGES], f"reader{i * 97 % n}@example.org", middle, i) for i in range(1000)
        ]
        conn.execute(sa.insert(Comment), comments)
        parents = conn.execute(sa.select(Comment.id, Comment.page_id).order_by(Comment.id)).all()
        replies = [
            _comment(page_id, "someone@example.org", middle, 0, parent=cid) for cid, page_id in parents
        ]
        conn.execute(sa.insert(Comment), replies)


def _page(site_id: int, i: int, now: datetime) -> dict:
    key = f"/2026/11/story-{i}"
    return page_row(site_id, key, f"https://news.example.org{key}", f"Story number {i}", now)


def _subscriber(site_id: int, i: int, now: datetime) -> dict:
    return subscriber_row(site_id, i, now, supporter=i % 50 == 0)


def _digest(subscriber_id: int, now: datetime) -> dict:
    return {
        "subscriber_id": subscriber_id,
        "kind": "digest",
        "target": "site",
        "cadence": "daily",
        "created_at": now,
    }


def _comment(page_id: int, email: str, at: datetime, i: int, parent: int | None = None) -> dict:
    body = f"Comment {i}: a considered view on the story, with a few sentences of substance."
    return {
        "page_id": page_id,
        "parent_id": parent,
        "path": f"/{parent}/" if parent else "",
        "depth": int(bool(parent)),
        "author_name": "A reader",
        "author_email": email,
        "body": body,
        "html": f"<p>{body}</p>",
        "status": "approved",
        "created_at": at - timedelta(minutes=1),
        "published_at": at,
        "score": 0,
        "reply_count": 0,
    }


def main() -> None:
    args = arguments(__doc__, subscribers=100_000).parse_args()
    n = args.subscribers
    sink = Sink()
    with bench_core(args.database, sink) as (settings, core):
        seed(core, n)
        workers = start_embedded(settings, concurrency=1, beat=False)
        time.sleep(3)
        start = time.monotonic()
        make_celery(settings).send_task("engagement.digest", args=["daily", "daily"], queue="digest")
        end = sink.wait_for(n, timeout=1800)
        rss = peak_rss_mb(workers.process.pid)
        workers.stop()
        with core.uow() as uow:
            run = uow.session.scalars(sa.select(DigestRun)).one()
            summary = (run.status, run.sent, run.skipped)
    sink.stop()
    minutes = (end - start) / 60
    print(f"daily digest to {n} subscribers ({args.database}, one worker process)")
    print(f"  time to the last digest : {minutes:6.2f} min ({n / (end - start):.0f} mails/s; goal < 5 min)")
    print(f"  worker peak RSS         : {rss:6.0f} MB (goal < 300 MB)")
    print(f"  run                     : status {summary[0]}, {summary[1]} sent, {summary[2]} skipped")


if __name__ == "__main__":
    main()
