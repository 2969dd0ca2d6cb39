"""``engagement import``: comments, pages and subscriptions from Disqus, WordPress, Isso, Remark42."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from engagement.cli._app import CliState, pass_state
from engagement.services.operations.imports import FORMATS, ImportOptions, ImportSummary, import_file
from engagement.services.operations.imports.pages import read_url_map
from engagement.services.operations.imports.records import Progress as ProgressHook

PLAIN_EVERY_SECONDS = 5.0


@click.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(FORMATS))
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--site", required=True, help="The site to import into.")
@click.option(
    "--url-map",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Lines of 'old-prefix new-prefix', applied to links before they are matched to pages.",
)
@click.option(
    "--key-by",
    type=click.Choice(["link", "identifier"]),
    default="link",
    show_default=True,
    help="Key pages by their link, or by Disqus's identifier (falling back to the link).",
)
@click.option("--dry-run", is_flag=True, help="Do everything and report it, but write nothing.")
@click.option(
    "--with-isso-notifications",
    is_flag=True,
    help="Turn Isso's reply notifications into confirmed subscriptions (Isso never confirmed them).",
)
@pass_state
def import_(
    state: CliState,
    /,
    fmt: str,
    path: Path,
    site: str,
    url_map: Path | None,
    key_by: str,
    dry_run: bool,
    with_isso_notifications: bool,
) -> None:
    """Import FORMAT's file at PATH into a site: all of it, once, or (on any error) nothing."""
    with _progress() as progress:
        options = ImportOptions(
            fmt=fmt,
            path=path,
            site=site,
            url_map=read_url_map(url_map) if url_map else [],
            key_by=key_by,
            dry_run=dry_run,
            with_isso_notifications=with_isso_notifications,
            progress=progress,
        )
        summary = import_file(state.uow(), options)
    try:
        _echo_summary(site, summary)
    finally:
        summary.close()


@contextmanager
def _progress() -> Iterator[ProgressHook]:
    """A rich bar (items and bytes) on a terminal; otherwise a plain line now and then."""
    if not sys.stderr.isatty():
        yield _plain_lines()
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[items]} items"),
        TimeElapsedColumn(),
        console=None,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def report(stage: str, items: int, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total or None, items=0)
        bar.update(tasks[stage], completed=done, items=items)

    with bar:
        yield report


def _plain_lines() -> ProgressHook:
    last = {"at": time.monotonic()}

    def report(stage: str, items: int, done: int, total: int) -> None:
        now = time.monotonic()
        finished = total > 0 and done >= total
        if finished or now - last["at"] >= PLAIN_EVERY_SECONDS:
            last["at"] = now
            share = f" ({100 * done // total}% of {total} bytes)" if total else ""
            click.echo(f"{stage}: {items} items{share}", err=True)

    return report


def _echo_summary(site: str, summary: ImportSummary) -> None:
    head = "Dry run, nothing written: would import" if summary.dry_run else "Imported"
    shown = ", ".join(f"{count} {kind}" for kind, count in summary.imported.items()) or "nothing"
    click.echo(f"{head} into {site}: {shown}")
    if summary.already:
        before = ", ".join(f"{count} {kind}" for kind, count in summary.already.items())
        click.echo(f"  already imported before: {before}")
    if summary.skip_count:
        click.echo(f"  skipped {summary.skip_count}:")
        for source_id, reason in summary.skips():
            click.echo(f"    {source_id}: {reason}")
