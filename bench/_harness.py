"""Setup the mail benchmarks share: arguments, a core on a scratch database aimed at the sink."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from mailbench import Sink, own_redis, scratch_database

from engagement.config import Settings, load_settings
from engagement.core import Core, build_core
from engagement.models import Base


def arguments(doc: str, subscribers: int) -> argparse.ArgumentParser:
    """A parser with the options every mail benchmark takes: how many subscribers, which database."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=subscribers)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    return parser


@contextmanager
def bench_core(database: str, sink: Sink, **overrides: Any) -> Iterator[tuple[Settings, Core]]:
    """Settings and a core on a fresh scratch database with its own Redis, mailing to the sink."""
    with (
        tempfile.TemporaryDirectory() as folder,
        own_redis() as broker,
        scratch_database(database, Path(folder)) as url,
    ):
        settings = load_settings(
            data_dir=Path(folder),
            database_url=url,
            broker_url=broker,
            smtp_url=f"smtp://127.0.0.1:{sink.port}",
            # No throttling: the benchmarks measure how fast the product can go.
            smtp_rate_per_second=1_000_000,
            rate_limits_enabled=False,
            mail_from="news@example.org",
            secret_key="bench-" + "x" * 40,
            **overrides,
        )
        core = build_core(settings)
        Base.metadata.create_all(core.engine)
        try:
            yield settings, core
        finally:
            core.dispose()


def subscriber_row(site_id: int, i: int, now: datetime, *, supporter: bool = False) -> dict[str, Any]:
    """A confirmed subscriber ``reader{i}@example.org``, for a bulk insert."""
    return {
        "site_id": site_id,
        "email": f"reader{i}@example.org",
        "confirmed_at": now,
        "supporter": supporter,
        "created_at": now,
    }


def page_row(site_id: int, key: str, url: str, title: str, now: datetime) -> dict[str, Any]:
    """A page without comments yet, for a bulk insert."""
    return {"site_id": site_id, "key": key, "url": url, "title": title, "comment_count": 0, "created_at": now}


def follow_row(subscriber_id: int, page_id: int, now: datetime) -> dict[str, Any]:
    """A subscriber's ``thread`` subscription to a page, for a bulk insert."""
    return {
        "subscriber_id": subscriber_id,
        "kind": "thread",
        "target": f"page:{page_id}",
        "page_id": page_id,
        "created_at": now,
    }
