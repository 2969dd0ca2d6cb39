"""Server-rendered threads against the JSON one: the first page of a 10,000-comment thread, p50.

    .venv/bin/python bench/ssr.py [--database sqlite|postgresql|both] [--comments 10000] [--rounds 200]

One thread of ``--comments`` comments (a quarter of them replies), posted through the core as
readers would. Then, in process through the app (routing, service, template or JSON, headers),
round-robin so a burst of load on the machine hits each alike: the widget's JSON first page
(``GET /api/v1/comments``), the no-JavaScript page (``GET /embed/thread``), the fragment with
its JSON-LD (``GET /api/v1/comments.html``) and the page's Atom feed. Each twice: with the
thread micro-cache as shipped (``ENGAGEMENT_THREAD_CACHE_SECONDS=1``: steady reads), and with
it off (every read goes to the database). Prints p50 and p95 in milliseconds. Goal: the
server-rendered first page p50 < 20 ms, as the JSON one.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import sqlalchemy as sa

from engagement.config import load_settings
from engagement.core import build_core
from engagement.logs import configure_logging
from engagement.models import Base
from engagement.services.discussion.comments import PostComment, post_comment
from engagement.services.sites import SiteChanges, add_site
from engagement.web import create_app

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PAGE = "https://news.example.org/2026/12/the-big-thread"
REPLY_SHARE = 0.25
KINDS = {
    "JSON first page (widget)": ("/api/v1/comments", "application/json"),
    "no-JS page (/embed/thread)": ("/embed/thread", "text/html"),
    "fragment + JSON-LD (comments.html)": ("/api/v1/comments.html", "text/html"),
    "page feed (Atom, 50 entries)": ("/feeds/bench/page.atom", "application/atom+xml"),
}


def seed(core, comments: int) -> None:
    rng = random.Random(13)
    tops: list[int] = []
    for n in range(comments):
        parent = rng.choice(tops) if tops and rng.random() < REPLY_SHARE else None
        posted = post_comment(
            core.uow(),
            PostComment(
                site="bench",
                page=PAGE,
                page_title="The big thread",
                parent=parent,
                author_name=f"Reader {n % 500}",
                body=f"Comment {n}: a *considered* view on the harbour plan, with [a link](https://example.org/{n}).",
            ),
        )
        if parent is None:
            tops.append(posted.comment.id)


def measure(
    database: str, comments: int, rounds: int, cache_seconds: float
) -> dict[str, tuple[float, float]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    tmp = Path(tempfile.mkdtemp(prefix="ssr-"))
    pg_name = None
    if database == "postgresql":
        pg_name = f"engagement_bench_{secrets.token_hex(4)}"
        with sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{pg_name}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{pg_name}"
    else:
        url = f"sqlite:///{tmp / 'bench.db'}"
    settings = load_settings(
        data_dir=tmp,
        database_url=url,
        secret_key="bench-" + "x" * 40,
        rate_limits_enabled=False,
        thread_cache_seconds=cache_seconds,
        log_level="warning",  # as in production, where request lines go to a collector
    )
    configure_logging(settings)
    core = build_core(settings)
    try:
        Base.metadata.create_all(core.engine)
        add_site(core.uow(), "bench", SiteChanges(name="Bench", origins=["https://news.example.org"]))
        began = time.perf_counter()
        seed(core, comments)
        print(
            f"{database}: posted {comments} comments in {time.perf_counter() - began:.1f} s", file=sys.stderr
        )
        if core.engine.dialect.name == "postgresql":
            with core.engine.connect() as conn:
                conn.execute(sa.text("ANALYZE"))
                conn.commit()
        params = {"site": "bench", "page": PAGE}
        times: dict[str, list[float]] = {name: [] for name in KINDS}
        with TestClient(create_app(settings, core), base_url="http://testserver") as client:
            for _ in range(rounds):
                for name, (path, media) in KINDS.items():
                    started = time.perf_counter()
                    answer = client.get(path, params=params)
                    times[name].append((time.perf_counter() - started) * 1000)
                    if answer.status_code != 200 or not answer.headers["content-type"].startswith(media):
                        raise SystemExit(f"unexpected answer from {path}: {answer.text[:300]}")
        return {
            name: (statistics.median(taken[5:]), statistics.quantiles(taken[5:], n=20)[18])
            for name, taken in times.items()
        }
    finally:
        core.dispose()
        if pg_name:
            with sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--comments", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    print(f"server-rendered threads, first page of a {args.comments}-comment thread, ms (p50 · p95)")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    runs = [(d, c) for d in databases for c in (1.0, 0.0)]
    figures = {run: measure(run[0], args.comments, args.rounds, run[1]) for run in runs}
    print("| read | " + " | ".join(f"{d}, cache {'on' if c else 'off'}" for d, c in runs) + " |")
    print("| --- |" + " --- |" * len(runs))
    for kind in KINDS:
        cells = " | ".join(f"{figures[run][kind][0]:.1f} · {figures[run][kind][1]:.1f}" for run in runs)
        print(f"| {kind} | {cells} |")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
