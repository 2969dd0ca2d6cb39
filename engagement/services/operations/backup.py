"""Backups of the whole database as versioned, gzipped JSON lines, and their restore on either dialect.

A backup names the schema revision it was taken at; a restore brings an empty database to
that revision, loads every row in one transaction and then migrates to the current schema, so
a backup taken by an older version (or on the other database) restores on this one. Tables are
read through reflection, not the models, for the same reason: the file holds what the database
held at that revision.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from engagement import __version__, migrations
from engagement.clock import utcnow
from engagement.db import dialect_insert, make_engine
from engagement.errors import Conflict, InvalidInput

FORMAT = "engagement-backup"
VERSION = 1
BATCH_ROWS = 1000
# Alembic's own bookkeeping travels as the header's revision, not as rows.
SKIPPED_TABLES = frozenset({"alembic_version"})

Progress = Callable[[str, int], None]


@dataclass
class BackupSummary:
    """What a backup or restore wrote, table by table."""

    revision: str
    rows: dict[str, int] = field(default_factory=dict)
    skipped: int = 0  # rows a merge found already there

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def create_backup(url: str, path: Path, *, progress: Progress | None = None) -> BackupSummary:
    """Write every table of the database at ``url`` to ``path``, streamed, in one snapshot."""
    revisions = migrations.current(url)
    if len(revisions) != 1:
        shown = ", ".join(revisions) or "none"
        raise InvalidInput("database", f"at no single schema revision ({shown}): run `engagement db upgrade`")
    summary = BackupSummary(revision=revisions[0])
    # Written beside the target and renamed at the end: a failed run leaves no half backup.
    partial = path.with_name(path.name + ".partial")
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn, conn.begin(), _open_for_writing(partial) as out:
            # One transaction: a repeatable snapshot on PostgreSQL, a read lock on SQLite.
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            _write_tables(conn, out, summary, progress)
        partial.replace(path)
    finally:
        engine.dispose()
        partial.unlink(missing_ok=True)
    return summary


def _write_tables(conn: Connection, out: IO[str], summary: BackupSummary, progress: Progress | None) -> None:
    tables = _data_tables(conn)
    _write_line(out, _header(summary.revision, conn.dialect.name, tables))
    for table in tables:
        _write_line(out, {"table": table.name, "columns": [c.name for c in table.columns]})
        count = 0
        for row in _stream_rows(conn, table):
            _write_line(out, {"r": [_dump_value(v) for v in row]})
            count += 1
            if progress is not None and count % BATCH_ROWS == 0:
                progress(table.name, BATCH_ROWS)
        if progress is not None:
            progress(table.name, count % BATCH_ROWS)
        summary.rows[table.name] = count
    _write_line(out, {"end": True, "rows": summary.rows})


def restore_backup(
    url: str, path: Path, *, merge: bool = False, progress: Progress | None = None
) -> BackupSummary:
    """Load the backup at ``path`` into the database at ``url``, all or nothing.

    An empty database is brought to the backup's schema first and to the current one after.
    A database holding rows is refused unless ``merge``, which adds only the rows whose keys
    are not there yet (so the same backup twice adds nothing).
    """
    with _open_for_reading(path) as lines:
        header = _read_header(path, lines)
        revision = header["schema"]
        if revision not in migrations.known_revisions():
            raise _bad(
                path,
                None,
                f"the backup was taken at schema revision {revision}, which this version "
                f"of engagement does not know (it is newer): restore it with version "
                f"{header.get('engagement', 'that took it')} or later",
            )
        _prepare_schema(url, revision, merge=merge)
        summary = BackupSummary(revision=revision)
        engine = make_engine(url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                _load(conn, path, lines, summary, merge=merge, progress=progress)
                if conn.dialect.name == "postgresql":
                    _advance_sequences(conn)
        finally:
            engine.dispose()
    migrations.upgrade(url, "head")
    return summary


def _prepare_schema(url: str, revision: str, *, merge: bool) -> None:
    """Bring the target to the backup's revision, or refuse with the reason."""
    current = migrations.current(url)
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            holding = [t.name for t in _data_tables(conn) if _has_rows(conn, t)] if current else []
    finally:
        engine.dispose()
    if holding and not merge:
        raise Conflict(
            f"the database is not empty ({', '.join(holding[:3])} hold rows): restore into an empty "
            "database, or add --merge to add only the rows not there yet"
        )
    if holding and current != (revision,):
        raise Conflict(
            f"the backup is at schema revision {revision} and the database at "
            f"{', '.join(current)}: a merge needs both at the same revision "
            "(restore the backup into an empty database first, then back it up again)"
        )
    if current != (revision,):
        # An empty database past the backup's revision steps back to it (nothing to lose).
        if len(current) == 1 and revision in migrations.ancestors(current[0]):
            migrations.downgrade(url, revision)
        else:
            migrations.upgrade(url, revision)


def _load(
    conn: Connection,
    path: Path,
    lines: Iterator[tuple[int, str]],
    summary: BackupSummary,
    *,
    merge: bool,
    progress: Progress | None,
) -> None:
    tables = {t.name: t for t in _data_tables(conn)}
    table: sa.Table | None = None
    columns: list[sa.Column[Any]] = []
    batch: list[dict[str, Any]] = []
    sqlite = conn.dialect.name == "sqlite"

    def flush() -> None:
        if table is None or not batch:
            return
        if merge:
            # RETURNING names the rows really added: rowcount is unreliable for executemany.
            # No conflict target: a row clashing on any unique key is one the database has.
            stmt = dialect_insert(conn, table).on_conflict_do_nothing().returning(sa.literal_column("1"))
            written = len(conn.execute(stmt, batch).all())
        else:
            conn.execute(sa.insert(table), batch)
            written = len(batch)
        summary.rows[table.name] = summary.rows.get(table.name, 0) + written
        summary.skipped += len(batch) - written
        if progress is not None:
            progress(table.name, len(batch))
        batch.clear()

    for number, line in lines:
        record = _parse(path, number, line)
        if "r" in record:
            if table is None:
                raise _bad(path, number, "a row before any table")
            values = record["r"]
            if not isinstance(values, list) or len(values) != len(columns):
                raise _bad(path, number, f"a row of {table.name} with the wrong columns")
            batch.append(
                {
                    c.name: _load_value(v, c.type, sqlite, path, number)
                    for c, v in zip(columns, values, strict=True)
                }
            )
            if len(batch) >= BATCH_ROWS:
                flush()
        elif "table" in record:
            flush()
            name = record["table"]
            if name not in tables:
                raise _bad(path, number, f"table {name!r} does not exist at this revision")
            table = tables[name]
            try:
                columns = [table.columns[c] for c in record["columns"]]
            except KeyError as exc:
                raise _bad(path, number, f"{name} has no column {exc.args[0]!r}") from None
            summary.rows.setdefault(name, 0)
        elif record.get("end") is True:
            flush()
            expected = record.get("rows", {})
            if not merge and expected != summary.rows:
                raise _bad(path, None, "the rows read differ from the counts the backup ends with")
            return
        else:
            raise _bad(path, number, "not a line of a backup")
    raise _bad(path, None, "the backup is truncated (its closing line is missing)")


def _advance_sequences(conn: Connection) -> None:
    """Rows came with their ids: move each id sequence past them so new rows never collide."""
    for table in _data_tables(conn):
        if "id" not in table.columns or not isinstance(table.columns["id"].type, sa.Integer):
            continue
        sequence = conn.execute(
            sa.text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
        ).scalar()
        if sequence:
            highest = conn.execute(sa.select(sa.func.max(table.columns["id"]))).scalar() or 0
            conn.execute(sa.text("SELECT setval(:seq, :next, false)"), {"seq": sequence, "next": highest + 1})


def _data_tables(conn: Connection) -> list[sa.Table]:
    """Every table but Alembic's, parents before children (the order rows can be loaded in)."""
    metadata = sa.MetaData()
    metadata.reflect(conn)
    return [t for t in metadata.sorted_tables if t.name not in SKIPPED_TABLES]


def _has_rows(conn: Connection, table: sa.Table) -> bool:
    return conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None


def _stream_rows(conn: Connection, table: sa.Table) -> Iterator[sa.Row[Any]]:
    # In key order: a reply's parent (a lower id) comes before it, as foreign keys need.
    order = list(table.primary_key.columns) or list(table.columns)
    stmt = sa.select(table).order_by(*order)
    yield from conn.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(stmt)


def _header(revision: str, dialect: str, tables: list[sa.Table]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "schema": revision,
        "engagement": __version__,
        "dialect": dialect,
        "created_at": utcnow().isoformat(),
        "tables": [t.name for t in tables],
    }


def _read_header(path: Path, lines: Iterator[tuple[int, str]]) -> dict[str, Any]:
    first = next(lines, None)
    if first is None:
        raise _bad(path, None, "the file is empty")
    header = _parse(path, first[0], first[1])
    if header.get("format") != FORMAT:
        raise _bad(path, 1, "not an engagement backup")
    if header.get("version") != VERSION or not isinstance(header.get("schema"), str):
        raise _bad(
            path,
            1,
            f"backup format version {header.get('version')!r} is not one this version reads ({VERSION})",
        )
    return header


def _parse(path: Path, number: int, line: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _bad(path, number, f"not JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise _bad(path, number, "not a JSON object")
    return record


def _bad(path: Path, line: int | None, reason: str) -> InvalidInput:
    """An error naming the file and, where known, the line."""
    return InvalidInput(f"{path}, line {line}" if line else str(path), reason)


def _dump_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # SQLite hands back naive text: every timestamp the core writes is UTC.
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def _load_value(value: Any, type_: Any, sqlite: bool, path: Path, number: int) -> Any:
    if value is None:
        return None
    try:
        if isinstance(type_, sa.DateTime):
            moment = datetime.fromisoformat(value)
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            # Naive UTC text on SQLite, as the core's own column type writes it.
            return moment.astimezone(UTC).replace(tzinfo=None) if sqlite else moment
        if isinstance(type_, sa.Date) and isinstance(value, str):
            return date.fromisoformat(value)
        if isinstance(type_, sa.LargeBinary) and isinstance(value, dict):
            return base64.b64decode(value["base64"])
    except (TypeError, ValueError, KeyError) as exc:
        raise _bad(path, number, f"a value that does not fit its column ({exc})") from None
    return value


def _write_line(out: IO[str], record: dict[str, Any]) -> None:
    out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
    out.write("\n")


def _open_for_writing(path: Path) -> IO[str]:
    return gzip.open(path, "wt", encoding="utf-8", compresslevel=6)


class _open_for_reading:
    """Numbered lines of a gzipped backup, with clear errors for a file that is not one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def __enter__(self) -> Iterator[tuple[int, str]]:
        if not self.path.is_file():
            raise _bad(self.path, None, "no such file")
        with self.path.open("rb") as probe:
            if probe.read(2) != b"\x1f\x8b":
                raise _bad(self.path, None, "not a gzip file (a backup is gzipped JSON lines)")
        self._file = gzip.open(self.path, "rt", encoding="utf-8")
        return self._lines(self._file)

    def _lines(self, file: IO[str]) -> Iterator[tuple[int, str]]:
        number = 0
        try:
            for number, line in enumerate(file, start=1):
                if line.strip():
                    yield number, line
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise _bad(self.path, number, f"the file is damaged ({exc})") from None

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
