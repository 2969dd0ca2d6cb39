"""wpDiscuz's subscription table as a CSV or TSV dump, matched to pages and comments of a WXR import.

Columns are found by header name: ``email``, ``post_id``, ``subscribtion_type`` (spelt as
wpDiscuz spells it) and ``confirm``; ``subscribtion_id`` (the comment of a ``comment``
subscription) and ``id`` are used when present. Only confirmed rows are imported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engagement.errors import BadImportFile
from engagement.models import Comment, Page
from engagement.services.operations.imports.files import opened
from engagement.services.operations.imports.records import ImportOptions, ImportSummary
from engagement.services.operations.imports.subscriptions import checked_email, subscribe_all
from engagement.services.sites import get_site
from engagement.uow import UnitOfWork

REQUIRED = ("email", "post_id", "subscribtion_type", "confirm")
KINDS = {"post": "thread", "all_comment": "replies", "comment": "replies"}
WORDPRESS = "wordpress"
_BATCH = 1000

Row = tuple[int, dict[str, str]]  # (line number, values by column)


def import_subscriptions(uow: UnitOfWork, options: ImportOptions) -> ImportSummary:
    """Every confirmed row, as a confirmed subscription; all in one transaction."""
    summary = ImportSummary(dry_run=options.dry_run)
    with uow:
        site = get_site(uow.session, options.site)
        conn = uow.session.connection()
        count = 0
        for batch in _batches(options):
            _import_batch(conn, site.id, options, batch, summary, uow.now())
            count += len(batch)
            if options.progress is not None:
                options.progress("writing", count, 0, 0)
        if not options.dry_run:
            uow.commit()
    return summary


def _batches(options: ImportOptions) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in _rows(options):
        batch.append(row)
        if len(batch) >= _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _rows(options: ImportOptions) -> Iterator[Row]:
    path = options.path
    with opened(path) as source:
        text = io.TextIOWrapper(source.stream, encoding="utf-8-sig", newline="")
        try:
            header_line = text.readline()
            delimiter = "\t" if "\t" in header_line else ","
            header = [
                name.strip().lower() for name in next(csv.reader([header_line], delimiter=delimiter), [])
            ]
            missing = [name for name in REQUIRED if name not in header]
            if missing:
                raise BadImportFile(
                    path,
                    "line 1",
                    f"no column {', '.join(missing)} (wpDiscuz's dump has {', '.join(REQUIRED)})",
                )
            for number, values in enumerate(csv.reader(text, delimiter=delimiter), start=2):
                if not any(values):
                    continue
                if len(values) != len(header):
                    raise BadImportFile(
                        path, f"line {number}", f"{len(values)} fields where the header has {len(header)}"
                    )
                yield number, dict(zip(header, (value.strip() for value in values), strict=True))
        except UnicodeDecodeError as exc:
            raise BadImportFile(path, None, "not UTF-8 text") from exc
        except csv.Error as exc:
            raise BadImportFile(path, None, f"not CSV ({exc})") from exc


def _import_batch(
    conn: Connection,
    site_id: int,
    options: ImportOptions,
    batch: list[Row],
    summary: ImportSummary,
    now: datetime,
) -> None:
    pages = _pages(conn, site_id, {values["post_id"] for _n, values in batch})
    wishes: list[tuple[str, str, int | None, int | None, bool]] = []
    for number, values in batch:
        source_id = values.get("id") or f"line {number}"
        post_id = values["post_id"]
        if post_id not in pages:
            raise BadImportFile(
                options.path,
                f"line {number}, post_id",
                f"unknown post id {post_id!r}: import the WordPress export first",
            )
        kind = KINDS.get(values["subscribtion_type"])
        email = checked_email(values["email"])
        if kind is None:
            raise BadImportFile(
                options.path,
                f"line {number}, subscribtion_type",
                f"unknown type {values['subscribtion_type']!r}",
            )
        if values["confirm"] != "1":
            summary.skip(source_id, "not confirmed")
        elif email is None:
            summary.skip(source_id, "not a valid e-mail address")
        elif kind == "thread":
            wishes.append((email, kind, pages[post_id], None, True))
        else:
            comments = _comments(conn, site_id, pages[post_id], email, values)
            if not comments:
                summary.skip(source_id, "no imported comment of this address to hear replies to")
            wishes.extend((email, kind, None, comment_id, True) for comment_id in comments)
    subscribe_all(conn, site_id, wishes, summary, now)


def _pages(conn: Connection, site_id: int, post_ids: set[str]) -> dict[str, int]:
    stmt = sa.select(Page.source_id, Page.id).where(
        Page.site_id == site_id, Page.source == WORDPRESS, Page.source_id.in_(sorted(post_ids))
    )
    return {str(source_id): page_id for source_id, page_id in conn.execute(stmt)}


def _comments(conn: Connection, site_id: int, page_id: int, email: str, values: dict[str, str]) -> list[int]:
    """The comment a ``comment`` row names, else every comment of the address on the page."""
    stmt = sa.select(Comment.id).where(Comment.source_site_id == site_id, Comment.source == WORDPRESS)
    named = values.get("subscribtion_id")
    if values["subscribtion_type"] == "comment" and named:
        found = conn.execute(stmt.where(Comment.source_id == named)).scalars().all()
        if found:
            return list(found)
    stmt = stmt.where(Comment.page_id == page_id, sa.func.lower(Comment.author_email) == email)
    return list(conn.execute(stmt.order_by(Comment.id)).scalars())
