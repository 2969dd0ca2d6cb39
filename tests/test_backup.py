"""Backups: every row out to one gzipped file and back in, SQLite to PostgreSQL and back, all or nothing."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from required_services import throwaway_pg_databases
from sample_site import ARTICLE, SECRET, populate, settings_for
from sqlalchemy.pool import NullPool

from engagement import migrations
from engagement.cli import CliState, main
from engagement.config import load_settings
from engagement.core import build_core
from engagement.db import make_engine
from engagement.errors import Conflict, InvalidInput
from engagement.services.discussion.comments import PostComment, post_comment
from engagement.services.operations.backup import create_backup, restore_backup
from engagement.services.sites import SiteChanges, add_site


@pytest.fixture
def make_pg_url() -> Iterator[Any]:
    """Makes empty PostgreSQL databases on demand, each dropped after the test."""
    with throwaway_pg_databases("engagement_backup") as make:
        yield make


def rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in key order, with times as aware UTC (as each dialect differs)."""
    engine = make_engine(url, poolclass=NullPool)
    found: dict[str, list[tuple[Any, ...]]] = {}
    try:
        with engine.connect() as conn:
            metadata = sa.MetaData()
            metadata.reflect(conn)
            for table in metadata.sorted_tables:
                if table.name == "alembic_version":
                    continue
                order = list(table.primary_key.columns)
                found[table.name] = [
                    tuple(_normal(v) for v in row) for row in conn.execute(sa.select(table).order_by(*order))
                ]
    finally:
        engine.dispose()
    return found


def _normal(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return value


def sqlite_url(tmp_path: Path, name: str) -> str:
    return f"sqlite:///{tmp_path / name}"


@pytest.mark.postgres
def test_sqlite_backup_restores_on_postgresql_and_back_with_the_same_rows(tmp_path, make_pg_url):
    source = sqlite_url(tmp_path, "source.db")
    populate(source, tmp_path)
    original = rows(source)
    assert original["comments"]
    assert original["votes"]
    assert original["reactions"]
    assert original["subscriptions"]

    backup = tmp_path / "one.jsonl.gz"
    summary = create_backup(source, backup)
    assert summary.rows["comments"] == len(original["comments"])

    pg = make_pg_url()
    restored = restore_backup(pg, backup)
    assert restored.rows == summary.rows
    assert rows(pg) == original

    again = tmp_path / "two.jsonl.gz"
    create_backup(pg, again)
    back = sqlite_url(tmp_path, "back.db")
    restore_backup(back, again)
    assert rows(back) == original


@pytest.mark.postgres
def test_ids_go_on_after_a_restore_on_postgresql(tmp_path, make_pg_url):
    source = sqlite_url(tmp_path, "source.db")
    populate(source, tmp_path)
    backup = tmp_path / "b.jsonl.gz"
    create_backup(source, backup)
    pg = make_pg_url()
    restore_backup(pg, backup)
    highest = max(row[0] for row in rows(pg)["comments"])

    core = build_core(settings_for(pg, tmp_path))
    try:
        posted = post_comment(
            core.uow(), PostComment(site="daily", page=ARTICLE, author_name="New", body="After the restore.")
        )
    finally:
        core.dispose()
    assert posted.comment.id == highest + 1


def test_a_database_holding_rows_is_refused_and_merge_adds_nothing_twice(tmp_path):
    source = sqlite_url(tmp_path, "source.db")
    populate(source, tmp_path)
    backup = tmp_path / "b.jsonl.gz"
    create_backup(source, backup)
    before = rows(source)

    with pytest.raises(Conflict, match="not empty"):
        restore_backup(source, backup)
    merged = restore_backup(source, backup, merge=True)
    assert merged.total == 0
    assert merged.skipped == sum(len(v) for v in before.values())
    assert rows(source) == before


def test_merge_adds_the_rows_not_there_yet(tmp_path):
    source = sqlite_url(tmp_path, "source.db")
    populate(source, tmp_path)
    backup = tmp_path / "b.jsonl.gz"
    create_backup(source, backup)
    target = sqlite_url(tmp_path, "target.db")
    migrations.upgrade(target)
    core = build_core(settings_for(target, tmp_path))  # the same site, under the same id
    add_site(core.uow(), "daily", SiteChanges(name="Daily", origins=["https://news.example.org"]))
    core.dispose()
    merged = restore_backup(target, backup, merge=True)
    assert merged.skipped == 1
    assert len(rows(target)["comments"]) == len(rows(source)["comments"])


def test_a_truncated_backup_changes_nothing(tmp_path):
    source = sqlite_url(tmp_path, "source.db")
    populate(source, tmp_path)
    backup = tmp_path / "b.jsonl.gz"
    create_backup(source, backup)
    lines = gzip.decompress(backup.read_bytes()).decode().splitlines()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gzip.compress("\n".join(lines[:-3]).encode()))

    target = sqlite_url(tmp_path, "target.db")
    with pytest.raises(InvalidInput, match="truncated"):
        restore_backup(target, cut)
    assert not any(rows(target).values())
    restore_backup(target, backup)  # and the whole file still restores afterwards
    assert rows(target) == rows(source)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"not gzip at all", "not a gzip file"),
        (gzip.compress(b""), "empty"),
        (gzip.compress(b'{"format": "something-else"}\n'), "not an engagement backup"),
        (gzip.compress(b"{oops\n"), "line 1: not JSON"),
        (gzip.compress(b'{"format": "engagement-backup", "version": 9, "schema": "0001"}\n'), "version 9"),
        (
            gzip.compress(b'{"format": "engagement-backup", "version": 1, "schema": "9999"}\n'),
            "does not know",
        ),
        (gzip.compress(b"\x1f\x8b\x08damaged"), "damaged"),
    ],
)
def test_a_file_that_is_not_a_backup_is_refused_with_the_reason(tmp_path, content, reason):
    path = tmp_path / "file.gz"
    path.write_bytes(content)
    target = sqlite_url(tmp_path, "target.db")
    with pytest.raises(InvalidInput, match=reason):
        restore_backup(target, path)


def test_a_row_for_an_unknown_column_is_refused_and_nothing_is_written(tmp_path):
    source = sqlite_url(tmp_path, "source.db")
    populate(source, tmp_path)
    backup = tmp_path / "b.jsonl.gz"
    create_backup(source, backup)
    lines = [json.loads(line) for line in gzip.decompress(backup.read_bytes()).decode().splitlines()]
    for record in lines:
        if record.get("table") == "comments":
            record["columns"][-1] = "no_such_column"
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in lines).encode()))
    target = sqlite_url(tmp_path, "target.db")
    with pytest.raises(InvalidInput, match="no column 'no_such_column'"):
        restore_backup(target, bad)
    assert not any(rows(target).values())


def test_the_cli_backs_up_and_restores(tmp_path):
    source = sqlite_url(tmp_path, "source.db")
    populate(source, tmp_path)
    backup = tmp_path / "cli.jsonl.gz"
    runner = CliRunner()

    def run(url: str, *args: str):
        settings = load_settings(data_dir=tmp_path, database_url=url, secret_key=SECRET)
        return runner.invoke(main, list(args), obj=CliState(settings))

    made = run(source, "backup", "create", str(backup))
    assert made.exit_code == 0, made.output
    assert "comments: 4" in made.output
    target = sqlite_url(tmp_path, "target.db")
    restored = run(target, "backup", "restore", str(backup))
    assert restored.exit_code == 0, restored.output
    assert rows(target) == rows(source)
    refused = run(target, "backup", "restore", str(backup))
    assert refused.exit_code == 5
    assert "not empty" in refused.output
    missing = run(target, "backup", "restore", str(tmp_path / "nothing.gz"))
    assert missing.exit_code == 2
    assert "no such file" in missing.output
