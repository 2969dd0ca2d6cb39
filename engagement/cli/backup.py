"""``engagement backup``: the whole database to one gzipped file and back, on either dialect."""

from __future__ import annotations

from pathlib import Path

import click

from engagement.cli._app import CliState, pass_state
from engagement.services.operations.backup import BackupSummary, create_backup, restore_backup


@click.group()
def backup() -> None:
    """Back up every table to a file, or restore one (SQLite and PostgreSQL alike)."""


@backup.command()
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@pass_state
def create(state: CliState, /, path: Path) -> None:
    """Write a backup of the whole database to PATH (gzipped JSON lines)."""
    summary = create_backup(state.settings.resolved_database_url, path)
    click.echo(f"Backed up {summary.total} rows at schema revision {summary.revision} to {path}")
    _echo_tables(summary)


@backup.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--merge", is_flag=True, help="Add the backup's rows to a database that holds rows already.")
@pass_state
def restore(state: CliState, /, path: Path, merge: bool) -> None:
    """Restore the backup at PATH into an empty database (all or nothing), then migrate it."""
    summary = restore_backup(state.settings.resolved_database_url, path, merge=merge)
    click.echo(f"Restored {summary.total} rows from {path} (taken at schema revision {summary.revision})")
    if merge:
        click.echo(f"  {summary.skipped} rows were there already")
    _echo_tables(summary)


def _echo_tables(summary: BackupSummary) -> None:
    for table, rows in summary.rows.items():
        if rows:
            click.echo(f"  {table}: {rows}")
