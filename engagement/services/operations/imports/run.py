"""One import run: read the file once to plan, then again to write, all in one transaction."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engagement import validation as check
from engagement.errors import BadImportFile, InvalidInput, SiteNotFound
from engagement.models import Site, Supporter
from engagement.services.operations.imports import disqus, isso, remark42, wordpress, wpdiscuz
from engagement.services.operations.imports.files import Source, opened
from engagement.services.operations.imports.pages import PageTarget, resolve, target
from engagement.services.operations.imports.plan import Plan
from engagement.services.operations.imports.records import (
    APPROVED,
    DELETED,
    CommentRecord,
    ImportOptions,
    ImportSummary,
    PageRecord,
    Record,
    SubscriptionRecord,
)
from engagement.services.operations.imports.spool import Spool
from engagement.services.operations.imports.subscriptions import checked_email, subscribe_all
from engagement.services.operations.imports.writer import (
    RowWriter,
    ancestry,
    imported_before,
    recount,
    reserve_ids,
    take_write_lock,
)
from engagement.services.sites import get_site
from engagement.uow import UnitOfWork

Reader = Callable[[Source, ImportOptions], Iterator[Record]]
READERS: dict[str, Reader] = {
    "disqus": disqus.read,
    "wordpress": wordpress.read,
    "isso": isso.read,
    "remark42": remark42.read,
}
FORMATS = (*READERS, "wpdiscuz-subscriptions")
_EVERY = 2000  # records between progress reports
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def import_file(uow: UnitOfWork, options: ImportOptions) -> ImportSummary:
    """Import ``options.path`` into ``options.site``: all of it, or (on any error) nothing."""
    _check_site(uow, options.site)
    if options.fmt == "wpdiscuz-subscriptions":
        return wpdiscuz.import_subscriptions(uow, options)
    if options.fmt not in READERS:
        raise InvalidInput("format", f"must be one of {', '.join(FORMATS)}")
    spool = Spool()
    try:
        return _import(uow, options, spool)
    except sa.exc.IntegrityError as exc:
        # The unique (site, source, source id) refused a row: nothing was committed.
        reason = "a comment id appears twice in the file (or another import of it ran at once)"
        raise BadImportFile(options.path, None, reason) from exc
    finally:
        spool.close()


def _import(uow: UnitOfWork, options: ImportOptions, spool: Spool) -> ImportSummary:
    plan, targets, wishes = _first_pass(options, spool)
    summary = ImportSummary(dry_run=options.dry_run)
    with uow:
        site = get_site(uow.session, options.site)
        conn = uow.session.connection()
        take_write_lock(conn)
        page_ids, created = resolve(conn, site.id, options.fmt, targets, uow.now())
        summary.add("pages", created)
        plan.resolve(imported_before(conn, site.id, options.fmt))
        orphans = plan.settle(page_ids)
        touched = plan.count_replies()
        reserve_ids(conn, plan)
        added = _second_pass(conn, options, spool, plan, site, summary)
        if orphans:
            summary.add("replies made top-level (parent missing)", orphans)
        recount(conn, [plan.db_id[n] for n in touched], added)
        if wishes:
            _subscribe(conn, site.id, plan, wishes, summary, uow.now())
        if not options.dry_run:
            uow.commit()
    return summary


def _check_site(uow: UnitOfWork, key: str) -> None:
    # Before the file is read: an unknown site is a usage error, not a missing record.
    with uow:
        try:
            get_site(uow.session, key)
        except SiteNotFound as exc:
            raise InvalidInput("--site", f"no site {key!r}") from exc


def records(options: ImportOptions, stage: str) -> Iterator[Record]:
    """The file's records, reporting progress every few thousand."""
    with opened(options.path) as source:
        count = 0
        for record in READERS[options.fmt](source, options):
            yield record
            count += 1
            if options.progress is not None and count % _EVERY == 0:
                options.progress(stage, count, source.position(), source.size)
        if options.progress is not None:
            options.progress(stage, count, source.size, source.size)


def _first_pass(
    options: ImportOptions, spool: Spool
) -> tuple[Plan, list[PageTarget | None], list[SubscriptionRecord]]:
    """Ids, parents, pages and states in memory; the comments themselves go to the spool."""
    plan = Plan()
    targets: dict[int, PageTarget | None] = {}
    wishes: list[SubscriptionRecord] = []
    for record in records(options, "reading"):
        if isinstance(record, CommentRecord):
            plan.add(record)
            spool.add(record)
        elif isinstance(record, PageRecord):
            number = plan.page_number(record.source_id)
            if targets.get(number) is None:
                targets[number] = target(record, options.url_map, options.key_by)
        elif options.with_isso_notifications:
            wishes.append(record)
    return plan, [targets.get(n) for n in range(len(plan.page_numbers))], wishes


def _second_pass(
    conn: Connection,
    options: ImportOptions,
    spool: Spool,
    plan: Plan,
    site: Site,
    summary: ImportSummary,
) -> dict[int, tuple[int, datetime]]:
    """Every comment the plan keeps, written once, in file order; every other one accounted for.

    Returns, by page, the approved comments written and the latest one's time.
    """
    added: dict[int, tuple[int, datetime]] = {}
    writer = RowWriter(conn, site.id)
    supporters = _supporters(conn, site)
    parents = ancestry(
        conn,
        (
            plan.db_id[p]
            for n in range(len(plan))
            if plan.kept[n] and (p := plan.parent[n]) >= 0 and plan.existing[p]
        ),
    )
    total, progress = spool.size(), options.progress
    for number, (record, done) in enumerate(spool.read()):
        if progress is not None and ((number + 1) % _EVERY == 0 or number + 1 == spool.count):
            progress("writing", number + 1, total if number + 1 == spool.count else done, total)
        if plan.existing[number]:
            summary.seen_before("comments")
        elif plan.kept[number]:
            writer.add(_row(writer, plan, number, record, options.fmt, parents, supporters))
            summary.add(_kind(record))
            if record.status == APPROVED:
                page = plan.page[number]
                count, latest = added.get(page, (0, record.created_at))
                added[page] = (count + 1, max(latest, record.created_at))
        else:
            summary.skip(record.source_id, _why_skipped(plan, number, record))
    writer.flush()
    return added


def _subscribe(
    conn: Connection,
    site_id: int,
    plan: Plan,
    wishes: list[SubscriptionRecord],
    summary: ImportSummary,
    now: datetime,
) -> None:
    """Wishes to hear of replies to imported comments (Isso's notifications)."""
    resolved: list[tuple[str, str, int | None, int | None, bool]] = []
    numbers = plan.number_of(wish.comment or "" for wish in wishes)
    for wish in wishes:
        email = checked_email(wish.email)
        number = numbers.get(wish.comment or "")
        if email is None:
            summary.skip(wish.source_id, "subscription: not a valid e-mail address")
        elif number is None or not plan.db_id[number]:
            summary.skip(wish.source_id, "subscription: its comment is not imported")
        else:
            resolved.append((email, "replies", None, plan.db_id[number], wish.confirmed))
    subscribe_all(conn, site_id, resolved, summary, now)


def _kind(record: CommentRecord) -> str:
    if record.status == APPROVED:
        return "comments"
    return "placeholders" if record.status == DELETED else "pending comments"


def _why_skipped(plan: Plan, number: int, record: CommentRecord) -> str:
    if record.skip:
        return record.skip
    if plan.page[number] < 0:
        return "its page is not in the file or has no usable link"
    if record.status == DELETED:
        return "deleted, without replies"
    return "not imported"


def _supporters(conn: Connection, site: Site) -> frozenset[str]:
    if not site.supporter_badges:
        return frozenset()
    stmt = sa.select(Supporter.email).where(Supporter.site_id == site.id, Supporter.active)
    return frozenset(conn.execute(stmt).scalars())


def _row(
    writer: RowWriter,
    plan: Plan,
    number: int,
    record: CommentRecord,
    source: str,
    parents: dict[int, tuple[str, int, int]],
    supporters: frozenset[str],
) -> tuple[Any, ...]:
    comment_id = plan.db_id[number]
    path, depth, thread_id, parent_id = _place(plan, number, comment_id, parents)
    deleted = record.status == DELETED
    email = None if deleted else _email(record.author_email)
    created = writer.time(record.created_at)
    return (
        comment_id,
        plan.page[number],
        parent_id,
        thread_id,
        path,
        depth,
        "" if deleted else (record.author_name.strip().replace("\n", " ")[: check.MAX_NAME] or "Anonymous"),
        email,
        email in supporters,
        "" if deleted else record.body,
        "" if deleted else record.html,
        record.status,
        created,
        created if record.status == APPROVED else None,
        record.score,
        plan.replies[number],
        None if deleted else record.passage,
        writer.site_id,
        source,
        record.source_id[:100],
    )


def _email(value: str | None) -> str | None:
    # A light check, not the full one every posted address passes: it runs a million times.
    if not value or len(value) > check.MAX_EMAIL or not _EMAIL.fullmatch(value):
        return None
    return value.lower()


def _place(
    plan: Plan, number: int, comment_id: int, parents: dict[int, tuple[str, int, int]]
) -> tuple[str, int, int, int | None]:
    """(path, depth, thread id, parent id) of a comment to write, from its ancestors' ids."""
    chain: list[int] = []
    parent = plan.parent[number]
    if parent < 0:
        return "", 0, comment_id, None
    parent_id = plan.db_id[parent]
    while parent >= 0 and not plan.existing[parent]:
        chain.append(plan.db_id[parent])
        parent = plan.parent[parent]
    tail = "".join(f"{ancestor}/" for ancestor in reversed(chain))
    if parent >= 0:  # under a comment an earlier import wrote
        above_id = plan.db_id[parent]
        path, depth, thread_id = parents[above_id]
        return f"{path or '/'}{above_id}/{tail}", depth + 1 + len(chain), thread_id, parent_id
    return f"/{tail}", len(chain), chain[-1], parent_id
