"""Fan-out: one comment on a page with 10,000 confirmed followers, sent by a real worker.

    .venv/bin/python bench/fanout.py [--subscribers 10000] [--database postgresql|sqlite]

In the same run, to the same aiosmtpd sink (its own process): a bare smtplib loop sends as
many copies of a typical notification over one connection; then the product does the whole
path (commit → hand-off → relay → windows → deliveries → send tasks on a worker process
with its Redis broker) and the time runs from the commit to the sink's last acceptance.
"""

from __future__ import annotations

import smtplib
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import arguments, bench_core, follow_row, page_row, subscriber_row
from mailbench import Sink, cpu_seconds, tree_cpu_seconds

from engagement.models import Page, Subscriber, Subscription
from engagement.services.discussion.comments import PostComment, post_comment
from engagement.services.pages import page_key
from engagement.services.sites import SiteChanges, add_site
from workers import handoff, make_celery
from workers.embedded import start_embedded

PAGE = "https://news.example.org/2026/11/the-big-story"


def bare_loop(sink: Sink, n: int, sample: bytes) -> float:
    """Mails per second of the simplest possible sender: one connection, one prebuilt message."""
    sink.reset()
    start = time.monotonic()
    with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
        for i in range(n):
            smtp.sendmail("news@example.org", [f"reader{i}@example.org"], sample)
    sink.wait_for(n)
    return n / (time.monotonic() - start)


def seed(core, n: int) -> None:
    add_site(core.uow(), "daily", SiteChanges(name="The Daily Example", moderator_emails=["mod@example.org"]))
    now = datetime.now(UTC)
    with core.engine.begin() as conn:
        site_id = conn.execute(sa.text("SELECT id FROM sites")).scalar_one()
        conn.execute(sa.insert(Page), [page_row(site_id, page_key(PAGE), PAGE, "The big story", now)])
        page_id = conn.execute(sa.text("SELECT id FROM pages")).scalar_one()
        conn.execute(sa.insert(Subscriber), [subscriber_row(site_id, i, now) for i in range(n)])
        ids = conn.execute(sa.text("SELECT id FROM subscribers ORDER BY id")).scalars().all()
        conn.execute(sa.insert(Subscription), [follow_row(i, page_id, now) for i in ids])


@dataclass(frozen=True)
class Run:
    """Monotonic times of the commit, the first and the last mail; duplicates; CPU seconds."""

    start: float
    first: float
    end: float
    extra: int
    worker_cpu: float
    sink_cpu: float


def product_run(settings, core, sink: Sink, args) -> Run:
    """The whole path on a worker process: commit one comment, wait for every follower's mail."""
    n = args.subscribers
    sink.reset()
    workers = start_embedded(
        settings, concurrency=args.concurrency, beat=False, celery_args=[f"--pool={args.pool}"]
    )
    time.sleep(3)  # the worker is up and waiting on its queues
    start = time.monotonic()
    post_comment(
        core.uow(),
        PostComment(
            site="daily",
            page=PAGE,
            author_name="Jane",
            author_email="jane@example.org",
            body="What a story.",
        ),
    )
    first = sink.wait_for(1, timeout=600)
    end = sink.wait_for(n, timeout=600)
    time.sleep(0.5)
    extra = sink.received - n
    worker_cpu, sink_cpu = tree_cpu_seconds(workers.process.pid), cpu_seconds(sink.process.pid)
    workers.stop()
    return Run(start, first, end, extra, worker_cpu, sink_cpu)


def main() -> None:
    parser = arguments(__doc__, subscribers=10_000)
    parser.add_argument("--concurrency", type=int, default=3)
    parser.add_argument("--pool", choices=["threads", "prefork"], default="prefork")
    args = parser.parse_args()
    n = args.subscribers
    sink = Sink()
    with bench_core(args.database, sink, notify_window_seconds=0) as (settings, core):
        seed(core, n)
        core.on_commit = handoff(make_celery(settings))
        sample = sample_message(core, settings)
        bare = bare_loop(sink, n, sample)
        run = product_run(settings, core, sink, args)
        # The reference again after our run; the faster of the two counts (the conservative ratio).
        bare = max(bare, bare_loop(sink, n, sample))
    sink.stop()
    ours = n / (run.end - run.start)
    print(
        f"fan-out of one comment to {n} subscribers ({args.database}, {args.pool} worker x{args.concurrency})"
    )
    print(f"  bare smtplib loop : {bare:8.0f} mails/s  (the faster of one run before and one after)")
    print(
        f"  engagement        : {ours:8.0f} mails/s  ({run.end - run.start:.1f} s from commit to last mail,"
        f" first after {run.first - run.start:.2f} s)"
    )
    print(f"  ratio             : {ours / bare:8.2f}  (goal >= 0.8; duplicates: {run.extra})")
    worker_ms, sink_ms = run.worker_cpu / n * 1000, run.sink_cpu / n / 3 * 1000
    print(f"  CPU per mail      : worker {worker_ms:.2f} ms, sink {sink_ms:.2f} ms")


def sample_message(core, settings) -> bytes:
    """A thread notification as the product builds it, for the bare loop to send."""
    from engagement.mail.mailer import build_mailer
    from engagement.mail.message import build_message
    from engagement.mail.render import MailRenderer

    mailer = build_mailer(settings, core.keys)
    context = {
        "site": {
            "key": "daily",
            "name": "The Daily Example",
            "support_call": "Help us grow.",
            "support_url": None,
        },
        "recipient": "reader0@example.org",
        "supporter": False,
        "page": {"title": "The big story", "url": PAGE},
        "comments": [
            {
                "id": 1,
                "author": "Jane",
                "html": "<p>What a story.</p>",
                "text": "What a story.",
                "url": PAGE + "#comment-1",
                "created": "2 Nov 2026, 09:00 UTC",
                "reply_to_you": False,
            }
        ],
        **mailer.subscriber_links(1, 1),
    }
    rendered = MailRenderer().render("thread_notification", context)
    return build_message(rendered, _sample_headers(context["unsubscribe_url"]))


def _sample_headers(unsubscribe_url: str):
    """The headers the product puts on a thread notification to the first reader."""
    from engagement.mail.message import MailHeaders

    return MailHeaders(
        from_name="The Daily Example",
        from_address="news@example.org",
        to="reader0@example.org",
        message_id="<comment-1@127.0.0.1>",
        date=datetime.now(UTC),
        list_id="<daily.127.0.0.1>",
        list_name="The Daily Example",
        unsubscribe_url=unsubscribe_url,
    )


if __name__ == "__main__":
    main()
