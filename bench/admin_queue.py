"""The admin queue with 100,000 pending comments across 50 sites: first page, filtered pages, p50.

    .venv/bin/python bench/admin_queue.py [--database sqlite|postgresql] [--comments 100000]

Each page is a whole GET /admin/queue through the app (session check, query, template), in
process, by an owner who sees every site. Prints p50 and p95 in milliseconds per page kind.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from engagement.config import load_settings
from engagement.core import build_core
from engagement.logs import configure_logging
from engagement.models import Base, Comment, Page, Site
from engagement.services.admin.admins import add_admin
from engagement.web import create_app

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SITES, PAGES_PER_SITE, ROUNDS = 50, 20, 60
WORDS = ("harbour", "budget", "council", "tram", "bridge", "school", "river", "market", "library", "festival")


def seed(engine: sa.Engine, comments: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Site),
            [
                {
                    "key": f"site{n}",
                    "name": f"Site {n}",
                    "origins": [],
                    "moderator_emails": [],
                    "created_at": start,
                }
                for n in range(SITES)
            ],
        )
        site_ids = list(conn.scalars(sa.select(Site.id).order_by(Site.id)))
        conn.execute(
            sa.insert(Page),
            [
                {
                    "site_id": sid,
                    "key": f"https://news.example.org/{sid}/{p}",
                    "title": f"Article {p}",
                    "created_at": start,
                }
                for sid in site_ids
                for p in range(PAGES_PER_SITE)
            ],
        )
        page_ids = list(conn.scalars(sa.select(Page.id).order_by(Page.id)))
        batch = []
        for n in range(comments):
            word = WORDS[n % len(WORDS)]
            batch.append(
                {
                    "page_id": page_ids[(n * 7919) % len(page_ids)],
                    "path": "",
                    "depth": 0,
                    "author_name": f"Reader {n % 3000}",
                    "author_email": f"reader{n % 3000}@example.org",
                    "body": f"Comment {n} about the {word}, held for a look.",
                    "html": f"<p>Comment {n} about the {word}, held for a look.</p>",
                    "status": "pending",
                    "moderation_reason": "every comment is moderated on this site",
                    "created_at": start + timedelta(seconds=n * 13),
                    "score": 0,
                    "reply_count": 0,
                }
            )
            if len(batch) == 5000:
                conn.execute(sa.insert(Comment), batch)
                batch = []
        if batch:
            conn.execute(sa.insert(Comment), batch)
        conn.execute(sa.update(Comment).values(thread_id=Comment.id))
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("ANALYZE"))


def measure(database: str, comments: int) -> dict[str, tuple[float, float]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    tmp = Path(tempfile.mkdtemp(prefix="admin-queue-"))
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
        log_level="warning",  # as in production, where request lines go to a collector
    )
    configure_logging(settings)
    core = build_core(settings)
    try:
        Base.metadata.create_all(core.engine)
        began = time.perf_counter()
        seed(core.engine, comments)
        print(
            f"{database}: seeded {comments} pending comments in {time.perf_counter() - began:.1f} s",
            file=sys.stderr,
        )
        add_admin(core.uow(), "owner@example.org", "owner", password="bench owner passphrase")
        kinds = {
            "first page": {},
            "filtered by site": {"site": "site7"},
            "filtered by text": {"q": "harbour"},
            "site and text": {"site": "site7", "q": "harbour"},
            "a rare text (one comment)": {"q": "Comment 12345 about"},
        }
        with TestClient(create_app(settings, core), base_url="http://testserver") as client:
            form = client.get("/admin/sign-in").text
            token = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            client.post(
                "/admin/sign-in",
                content=f"email=owner%40example.org&password=bench+owner+passphrase&csrf={token}",
                headers={"Origin": "http://testserver", "Content-Type": "application/x-www-form-urlencoded"},
            )
            # Round-robin over the kinds, so a burst of load on the machine hits them alike.
            times: dict[str, list[float]] = {name: [] for name in kinds}
            for _ in range(ROUNDS):
                for name, params in kinds.items():
                    started = time.perf_counter()
                    answer = client.get("/admin/queue", params=params)
                    times[name].append((time.perf_counter() - started) * 1000)
                    if answer.status_code != 200 or "Queue" not in answer.text:
                        raise SystemExit(f"unexpected answer: {answer.text[:300]}")
            results = {}
            for name, taken in times.items():
                kept = taken[5:]  # warm-up
                results[name] = (statistics.median(kept), statistics.quantiles(kept, n=20)[18])
        return results
    finally:
        core.dispose()
        if pg_name:
            with sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--comments", type=int, default=100_000)
    args = parser.parse_args()
    databases = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    print(f"admin queue, {args.comments} pending comments across {SITES} sites, 50 per page, ms")
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| page | " + " | ".join(f"{d} p50 · p95" for d in databases) + " |")
    print("| --- |" + " --- |" * len(databases))
    figures = {d: measure(d, args.comments) for d in databases}
    for kind in next(iter(figures.values())):
        cells = " | ".join(f"{figures[d][kind][0]:.1f} · {figures[d][kind][1]:.1f}" for d in databases)
        print(f"| {kind} | {cells} |")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
