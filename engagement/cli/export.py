"""``engagement export``: one site's pages, comments, reactions and votes to a file."""

from __future__ import annotations

from pathlib import Path

import click

from engagement.cli._app import CliState, pass_state
from engagement.services.operations.exports import FORMATS, export_site


@click.command("export")
@click.argument("site")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="json",
    show_default=True,
    help="Our own JSON, or a Disqus export that other tools (and our importer) read.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="The file to write; gzipped when its name ends in .gz.",
)
@click.option(
    "--with-addresses", is_flag=True, help="Include the authors' e-mail addresses (left out by default)."
)
@pass_state
def export(state: CliState, /, site: str, fmt: str, output: Path, with_addresses: bool) -> None:
    """Export SITE's engagement to a file."""
    summary = export_site(state.uow(), site, output, fmt=fmt, with_addresses=with_addresses)
    shown = ", ".join(f"{count} {kind}" for kind, count in summary.counts.items())
    click.echo(f"Exported {shown} of {site} to {output}")
    for reason, count in summary.left_out.items():
        click.echo(f"  left out: {count} {reason}")
