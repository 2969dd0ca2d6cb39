"""Isso's SQLite database, opened read-only: threads, comments (markdown), and notification wishes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from engagement.errors import BadImportFile
from engagement.services.operations.imports.bodies import markdown
from engagement.services.operations.imports.files import Source
from engagement.services.operations.imports.records import (
    APPROVED,
    DELETED,
    PENDING,
    CommentRecord,
    ImportOptions,
    PageRecord,
    Record,
    SubscriptionRecord,
)

SQLITE_MAGIC = b"SQLite format 3\x00"
_MODES = {1: APPROVED, 2: PENDING, 4: DELETED}
_NEEDED = {
    "threads": {"id", "uri", "title"},
    "comments": {"tid", "id", "parent", "created", "mode", "text", "author", "email", "likes", "dislikes"},
}
_COMMENTS = (
    "SELECT id, tid, parent, created, mode, text, author, email, likes, dislikes, {notification} "
    "FROM comments ORDER BY id"
)


def read(source: Source, options: ImportOptions) -> Iterator[Record]:
    """Every thread, then every comment in id order, then (if asked) the notification wishes."""
    if source.stream.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
        raise BadImportFile(source.path, None, "not an SQLite database (Isso keeps its comments in one)")
    try:
        db = sqlite3.connect(f"file:{quote(str(source.path.resolve()))}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BadImportFile(source.path, None, f"cannot be opened ({exc})") from exc
    try:
        has_notification = _check_schema(source, db)
        yield from _rows(source, db, options, has_notification)
    except sqlite3.Error as exc:
        raise BadImportFile(source.path, None, f"cannot be read ({exc})") from exc
    finally:
        db.close()


def _check_schema(source: Source, db: sqlite3.Connection) -> bool:
    for table, columns in _NEEDED.items():
        found = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        missing = sorted(columns - found)
        if missing:
            where = f"table {table}"
            raise BadImportFile(source.path, where, f"not an Isso database (no column {', '.join(missing)})")
    return "notification" in {row[1] for row in db.execute("PRAGMA table_info(comments)")}


def _rows(
    source: Source, db: sqlite3.Connection, options: ImportOptions, has_notification: bool
) -> Iterator[Record]:
    for thread_id, uri, title in db.execute("SELECT id, uri, title FROM threads ORDER BY id"):
        yield PageRecord(source_id=str(thread_id), link=uri or None, title=title or None)
    query = _COMMENTS.format(notification="notification" if has_notification else "0")
    for row in db.execute(query):
        record = _comment(source, row)
        yield record
        email, notify = row[7], row[10]
        if notify == 1 and email and options.with_isso_notifications and record.status != DELETED:
            yield SubscriptionRecord(
                source_id=f"notification of {record.source_id}",
                email=str(email),
                kind="replies",
                comment=record.source_id,
            )


def _comment(source: Source, row: tuple[Any, ...]) -> CommentRecord:
    comment_id, tid, parent, created, mode, body, author, email, likes, dislikes, _notify = row
    try:
        moment = datetime.fromtimestamp(float(created), UTC)
    except (TypeError, ValueError, OverflowError) as exc:
        raise BadImportFile(
            source.path, f"comment {comment_id}, created", f"not a time: {created!r}"
        ) from exc
    status = _MODES.get(mode, PENDING)
    text = str(body or "")
    return CommentRecord(
        source_id=str(comment_id),
        page=str(tid),
        parent=str(parent) if parent else None,
        status=status,
        created_at=moment,
        author_name=str(author or ""),
        author_email=str(email) if email else None,
        body="" if status == DELETED else text,
        html="" if status == DELETED else markdown(text),
        score=int(likes or 0) - int(dislikes or 0),
    )
