"""``engagement db``: bring the database to the current schema, and say where it stands."""

from __future__ import annotations

import click
from sqlalchemy.engine import make_url

from engagement import migrations
from engagement.cli._app import CliState, fail, pass_state


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _describe(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions) if revisions else "none (empty database)"


@click.group()
def db() -> None:
    """Migrate the database (SQLite or PostgreSQL)."""


@db.command()
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@pass_state
def upgrade(state: CliState, /, revision: str) -> None:
    """Bring the database to the current schema; an empty one included. Safe to run twice."""
    url = state.settings.resolved_database_url
    migrations.upgrade(url, revision)
    click.echo(f"{_shown(url)} is at revision {_describe(migrations.current(url))}")


@db.command()
@click.option("--check", is_flag=True, help="Exit with status 1 unless the database is at head.")
@pass_state
def current(state: CliState, /, check: bool) -> None:
    """Show the database's revision and whether it is up to date."""
    url = state.settings.resolved_database_url
    now, heads = migrations.current(url), migrations.heads()
    up_to_date = set(now) == set(heads)
    status = "up to date" if up_to_date else f"behind head {_describe(heads)}: run `engagement db upgrade`"
    click.echo(f"{_shown(url)}: revision {_describe(now)}, {status}")
    if check and not up_to_date:
        fail("the database is not at the current schema", 1)
