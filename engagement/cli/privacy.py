"""``engagement privacy``: answer access and erasure requests for an e-mail address."""

from __future__ import annotations

import json
from pathlib import Path

import click

from engagement.cli._app import CliState, pass_state
from engagement.services.audience.privacy import erase_address, export_address


@click.group()
def privacy() -> None:
    """Export or erase what every site holds about an e-mail address."""


@privacy.command()
@click.argument("email")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE, not stdout."
)
@pass_state
def export(state: CliState, /, email: str, output: Path | None) -> None:
    """Everything held about EMAIL, as JSON."""
    document = json.dumps(export_address(state.uow(), email), indent=2, ensure_ascii=False)
    if output is None:
        click.echo(document)
        return
    output.write_text(document + "\n", encoding="utf-8")
    output.chmod(0o600)  # it is personal data
    click.echo(f"wrote {output}")


@privacy.command()
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_state
def erase(state: CliState, /, email: str, yes: bool) -> None:
    """Forget EMAIL: comments stay as "deleted user"; subscriptions and mails go."""
    if not yes:
        click.confirm(f"Erase everything held about {email}? This cannot be undone", abort=True)
    report = erase_address(state.uow(), email)
    counts = ", ".join(f"{kind}: {n}" for kind, n in report.counts.items())
    click.echo(f"erased {report.email}: {counts}")
