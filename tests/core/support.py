"""Helpers for core tests: row counts of every table, and rows written directly when a test needs them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from engagement.core import Core
from engagement.models import Base, Comment, Page, Site
from engagement.services.pages import ensure_page


def table_counts(core: Core) -> dict[str, int]:
    """Rows per table: equal before and after a refused request means it changed nothing."""
    with core.engine.connect() as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def table_rows(core: Core) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, ordered: for checks that nothing at all was updated."""
    with core.engine.connect() as conn:
        return {
            table.name: [
                tuple(r) for r in conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
        }


def make_page(
    core: Core, site: Site, ref: str = "https://news.example.org/2026/11/article", title: str = "An article"
) -> Page:
    uow = core.uow()
    with uow:
        page = ensure_page(uow, uow.session.get(Site, site.id), ref, title)
        uow.commit()
        return page


def make_comment(
    core: Core,
    page: Page,
    *,
    email: str | None = "jane@example.org",
    reader: str | None = None,
    status: str = "approved",
    parent: Comment | None = None,
    body: str = "A thoughtful comment.",
) -> Comment:
    """A comment row written directly, for tests that are not about posting comments."""
    uow = core.uow()
    with uow:
        now = uow.now()
        comment = Comment(
            page_id=page.id,
            parent_id=parent.id if parent else None,
            path=f"{parent.path or '/'}{parent.id}/" if parent else "",
            depth=parent.depth + 1 if parent else 0,
            author_name="Jane",
            author_email=email,
            author_reader=core.keys.reader_hash(reader) if reader else None,
            body=body,
            html=f"<p>{body}</p>",
            status=status,
            created_at=now,
            published_at=now if status == "approved" else None,
            score=0,
            reply_count=0,
        )
        uow.session.add(comment)
        uow.session.flush()
        comment.thread_id = parent.thread_id if parent else comment.id
        uow.commit()
        return comment


def run_at_once(n: int, action: Callable[[int], Any]) -> list[Any]:
    """Run ``action(i)`` in ``n`` threads released together; return results or raised errors."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = action(i)
        except Exception as exc:  # collected: the test asserts there are none
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results
