"""Helpers for core tests: row counts of every table, and rows written directly when a test needs them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from engagement.core import Core
from engagement.models import Base, Comment, Page, Site
from engagement.services.discussion.comments import PostComment, delete_comment, post_comment
from engagement.services.discussion.moderation import mark_spam, reject_comment
from engagement.services.pages import ensure_page
from engagement.services.sites import SiteChanges, update_site


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
    name: str = "Jane",
    notify: str = "none",
) -> Comment:
    """A comment posted through the service, then moderated or deleted to reach ``status``."""
    with core.uow() as uow:
        site = uow.session.get_one(Site, page.site_id)
    if status == "pending":
        update_site(core.uow(), site.key, SiteChanges(moderation="all"))
    request = PostComment(
        site=site.key,
        page=page.key,
        parent=parent.id if parent else None,
        author_name=name,
        author_email=email,
        body=body,
        reader_id=reader,
        notify=notify,
    )
    posted = post_comment(core.uow(), request)
    if status == "pending":
        update_site(core.uow(), site.key, SiteChanges(moderation=site.moderation))
    comment_id = posted.comment.id
    if status == "rejected":
        reject_comment(core.uow(), comment_id)
    elif status == "spam":
        mark_spam(core.uow(), comment_id)
    elif status == "deleted":
        delete_comment(core.uow(), comment_id, posted.edit_token)
    with core.uow() as uow:
        comment = uow.session.get_one(Comment, comment_id)
    assert comment.status == status
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
