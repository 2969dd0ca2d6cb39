"""``engagement supporters``: bring in Patreon's members, mark supporters by hand, list them."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from engagement.cli._app import CliState, pass_state
from engagement.services.audience.supporters import import_patreon_csv, list_supporters, set_supporter
from engagement.services.discussion.public import iso


@click.group()
def supporters() -> None:
    """A site's supporters: their mails thank instead of asking, their comments may carry a badge."""


@supporters.command("import-patreon")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--site", "site_key", required=True, metavar="KEY", help="The site the members support.")
@click.option(
    "--deactivate-missing",
    is_flag=True,
    help="Patreon supporters this export no longer lists stop being supporters.",
)
@pass_state
def import_patreon(state: CliState, /, path: Path, site_key: str, deactivate_missing: bool) -> None:
    """Set supporters from Patreon's members CSV (Email, Patron Status and Tier are read)."""
    outcome = import_patreon_csv(state.uow(), site_key, path, deactivate_missing=deactivate_missing)
    click.echo(f"{path}: {outcome.active} active supporters, {outcome.inactive} declined or former")
    if deactivate_missing:
        click.echo(f"  {outcome.deactivated} supporters no longer in the export were deactivated")
    for line, reason in outcome.skipped:
        click.echo(f"  skipped line {line}: {reason}")


@supporters.command("set")
@click.argument("site_key", metavar="SITE")
@click.argument("email")
@click.option("--off", is_flag=True, help="The address is no longer a supporter.")
@pass_state
def set_(state: CliState, /, site_key: str, email: str, off: bool) -> None:
    """Mark EMAIL as a supporter of SITE by hand (a supporter on another platform, say)."""
    set_supporter(state.uow(), site_key, email, not off)
    click.echo(f"{email} is {'no longer ' if off else ''}a supporter of {site_key}")


@supporters.command("list")
@click.argument("site_key", metavar="SITE")
@pass_state
def list_(state: CliState, /, site_key: str) -> None:
    """List SITE's supporters, active first (this shows addresses: an operator's view)."""
    found = list_supporters(state.uow(), site_key)
    if not found:
        click.echo(
            f"{site_key} has no supporters yet: import them with `engagement supporters import-patreon`"
        )
        return
    table = Table("address", "active", "status", "tier", "source", "changed")
    for supporter in found:
        table.add_row(
            supporter.email,
            "yes" if supporter.active else "no",
            supporter.status,
            supporter.tier or "-",
            supporter.source,
            iso(supporter.changed_at) or "-",
        )
    console = Console()
    if not console.is_terminal:
        console.width = 200
    console.print(table)
    click.echo(f"{sum(s.active for s in found)} active of {len(found)}")
