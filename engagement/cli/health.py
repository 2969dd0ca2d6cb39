"""``engagement health worker|beat``: is this host's worker (or beat) alive and working? For healthchecks."""

from __future__ import annotations

import click

from engagement.cli._app import EXIT_FAILURE, CliState, pass_state
from engagement.heartbeat import KINDS, heartbeat_age, heartbeat_path

DEFAULT_MAX_AGE_SECONDS = 30.0


@click.command()
@click.argument("kind", type=click.Choice(KINDS))
@click.option(
    "--max-age",
    type=click.FloatRange(min=1.0),
    default=DEFAULT_MAX_AGE_SECONDS,
    show_default=True,
    help="Seconds a heartbeat stays fresh.",
)
@pass_state
def health(state: CliState, /, kind: str, max_age: float) -> None:
    """Exit 0 when this host's KIND process wrote its heartbeat in the last --max-age seconds, else 1.

    A worker writes it while it is connected to the broker and consuming, beat at each tick
    (the beat waiting for the lock too).
    """
    age = heartbeat_age(heartbeat_path(state.settings.data_dir, kind))
    if age is None:
        click.echo(f"{kind}: no heartbeat yet", err=True)
        raise click.exceptions.Exit(EXIT_FAILURE)
    if age > max_age:
        click.echo(f"{kind}: last heartbeat {age:.0f} s ago (more than {max_age:g} s)", err=True)
        raise click.exceptions.Exit(EXIT_FAILURE)
    click.echo(f"{kind}: alive, last heartbeat {age:.1f} s ago")
