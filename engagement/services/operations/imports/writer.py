"""Writing an import: ids reserved up front, rows sent in batches of plain tuples, counts set after.

Rows go through the DBAPI cursor (``executemany`` on SQLite, ``COPY`` on PostgreSQL) inside
the unit of work's transaction: an import of a million comments must not build a million
ORM objects, and nothing is visible to anyone until the one commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engagement.models import Comment, Page
from engagement.services.operations.imports.plan import Plan

COLUMNS = (
    "id",
    "page_id",
    "parent_id",
    "thread_id",
    "path",
    "depth",
    "author_name",
    "author_email",
    "author_supporter",
    "body",
    "html",
    "status",
    "created_at",
    "published_at",
    "score",
    "reply_count",
    "anchor_passage",
    "source_site_id",
    "source",
    "source_id",
)
# Built from the fixed column list above, never from input.
_SQLITE_INSERT = f"INSERT INTO comments ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"  # noqa: S608
_PG_COPY = f"COPY comments ({', '.join(COLUMNS)}) FROM STDIN"
_CHUNK = 500


def take_write_lock(conn: Connection) -> None:
    """On SQLite, hold the write lock from here on: ids are reserved by reading the highest one."""
    if conn.dialect.name == "sqlite":
        conn.execute(sa.text("UPDATE sites SET id = id WHERE 0"))
        conn.exec_driver_sql("PRAGMA cache_size=-8000")  # 8 MB for the indexes a large import grows


def imported_before(conn: Connection, site_id: int, source: str) -> Iterator[tuple[str, int, int]]:
    """(source id, comment id, page id) of each comment an earlier import of this source wrote."""
    stmt = sa.select(Comment.source_id, Comment.id, Comment.page_id).where(
        Comment.source_site_id == site_id, Comment.source == source
    )
    for source_id, comment_id, page_id in conn.execute(stmt.execution_options(yield_per=5000)):
        yield source_id or "", comment_id, page_id


def reserve_ids(conn: Connection, plan: Plan) -> int:
    """Give every comment to write its id now, so replies know their parents' before the insert."""
    wanted = sum(plan.kept)
    if not wanted:
        return 0
    numbers = (n for n in range(len(plan)) if plan.kept[n])
    if conn.dialect.name == "sqlite":
        highest = conn.execute(sa.text("SELECT max(id) FROM comments")).scalar() or 0
        sequence = conn.execute(sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'comments'")).scalar()
        first = max(highest, sequence or 0) + 1
        for offset, number in enumerate(numbers):
            plan.db_id[number] = first + offset
    else:
        # Taken from the sequence, as concurrent comments take theirs: no lock, no clash.
        ids = conn.execute(
            sa.text("SELECT nextval(pg_get_serial_sequence('comments', 'id')) FROM generate_series(1, :n)"),
            {"n": wanted},
        )
        for number, (comment_id,) in zip(numbers, ids, strict=True):
            plan.db_id[number] = comment_id
    return wanted


def ancestry(conn: Connection, comment_ids: Iterable[int]) -> dict[int, tuple[str, int, int]]:
    """(path, depth, thread id) of comments already in the database that gain replies."""
    wanted = sorted(set(comment_ids))
    found: dict[int, tuple[str, int, int]] = {}
    for start in range(0, len(wanted), _CHUNK):
        stmt = sa.select(Comment.id, Comment.path, Comment.depth, Comment.thread_id).where(
            Comment.id.in_(wanted[start : start + _CHUNK])
        )
        for comment_id, path, depth, thread_id in conn.execute(stmt):
            found[comment_id] = (path, depth, thread_id or comment_id)
    return found


class RowWriter:
    """Collects comment rows as tuples in ``COLUMNS`` order and sends them in batches."""

    def __init__(self, conn: Connection, site_id: int, batch: int = 2000) -> None:
        self.conn = conn
        self.site_id = site_id
        self.sqlite = conn.dialect.name == "sqlite"
        self.batch = batch
        self.rows: list[tuple[Any, ...]] = []
        self.written = 0

    def time(self, moment: datetime | None) -> Any:
        if moment is None or not self.sqlite:
            return moment
        # Already UTC (the readers made it so): the text SQLAlchemy writes, without its offset.
        return moment.isoformat(" ", "microseconds")[:26]

    def add(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        cursor = self.conn.connection.cursor()
        try:
            if self.sqlite:
                cursor.executemany(_SQLITE_INSERT, self.rows)
            else:
                with cursor.copy(_PG_COPY) as pipe:
                    for row in self.rows:
                        pipe.write_row(row)
        except self.conn.dialect.loaded_dbapi.IntegrityError as exc:
            # The driver's own error, as SQLAlchemy would have wrapped it.
            raise sa.exc.IntegrityError(_SQLITE_INSERT if self.sqlite else _PG_COPY, None, exc) from exc
        finally:
            cursor.close()
        self.written += len(self.rows)
        self.rows = []


def recount(conn: Connection, touched: Sequence[int], pages: dict[int, tuple[int, datetime]]) -> None:
    """Set the counts the import changed: reply counts above it, then each page's comments.

    ``pages`` gives each page's approved comments added and the latest one's time: an import
    only adds comments, so a page's count grows by exactly that many.
    """
    if touched:
        _recount_replies(conn, touched)
    if not pages:
        return
    table: sa.Table = Page.__table__  # type: ignore[assignment]
    latest = sa.bindparam("latest", type_=Page.last_comment_at.type)
    conn.execute(
        sa.update(table)
        .where(table.c.id == sa.bindparam("pid"))
        .values(
            comment_count=table.c.comment_count + sa.bindparam("added"),
            last_comment_at=sa.case(
                (sa.or_(table.c.last_comment_at.is_(None), table.c.last_comment_at < latest), latest),
                else_=table.c.last_comment_at,
            ),
        ),
        [{"pid": pid, "added": added, "latest": at} for pid, (added, at) in sorted(pages.items())],
    )


def _recount_replies(conn: Connection, comment_ids: Sequence[int]) -> None:
    """Reply counts of whole threads that existed, deepest comments first (visibility climbs)."""
    threads = sorted({thread for _path, _depth, thread in ancestry(conn, comment_ids).values()})
    child = sa.orm.aliased(Comment)
    visible = sa.select(sa.func.count()).where(
        child.parent_id == Comment.id,
        child.thread_id == Comment.thread_id,
        sa.or_(child.status == "approved", child.reply_count > 0),
    )
    for start in range(0, len(threads), _CHUNK):
        chunk = threads[start : start + _CHUNK]
        deepest = conn.execute(
            sa.select(sa.func.max(Comment.depth)).where(Comment.thread_id.in_(chunk))
        ).scalar()
        for depth in range(deepest or 0, -1, -1):
            conn.execute(
                sa.update(Comment)
                .where(Comment.thread_id.in_(chunk), Comment.depth == depth)
                .values(reply_count=visible.scalar_subquery())
            )
