"""``engagement admins``: the accounts that sign in to /admin."""

from __future__ import annotations

import sys

import click

from engagement.cli._app import CliState, pass_state
from engagement.errors import InvalidInput
from engagement.services.admin.admins import SetupLink, add_admin, list_admins, remove_admin, reset_admin

STDIN_HELP = "Read the password from standard input (for scripts) instead of printing a one-time link."


@click.group()
def admins() -> None:
    """Add, list, remove or reset the owners and moderators of /admin."""


@admins.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(["owner", "moderator"]), required=True)
@click.option("--site", "sites", multiple=True, metavar="KEY", help="A site a moderator moderates (repeat).")
@click.option("--password-stdin", is_flag=True, help=STDIN_HELP)
@pass_state
def add(state: CliState, /, email: str, role: str, sites: tuple[str, ...], password_stdin: bool) -> None:
    """Add EMAIL as an owner (every site) or a moderator (the --site ones)."""
    link = add_admin(state.uow(), email, role, sites, _password(password_stdin))
    _report(state, link, "added")


@admins.command("list")
@pass_state
def list_(state: CliState, /) -> None:
    """Every admin with their role and sites."""
    for admin in list_admins(state.uow()):
        sites = "every site" if admin.is_owner else ", ".join(admin.site_keys)
        pending = "" if admin.has_password else "  (password not set yet)"
        click.echo(f"{admin.email}  {admin.role}  {sites}{pending}")


@admins.command()
@click.argument("email")
@pass_state
def remove(state: CliState, /, email: str) -> None:
    """Remove EMAIL's account; its sessions end at once."""
    remove_admin(state.uow(), email)
    click.echo(f"removed {email}")


@admins.command()
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help=STDIN_HELP)
@pass_state
def reset(state: CliState, /, email: str, password_stdin: bool) -> None:
    """Forget EMAIL's password and end its sessions; print a new one-time link."""
    link = reset_admin(state.uow(), email, _password(password_stdin))
    _report(state, link, "reset")


def _password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise InvalidInput("password", "standard input held no password")
    return password


def _report(state: CliState, link: SetupLink, done: str) -> None:
    admin = link.admin
    click.echo(f"{done} {admin.email} ({admin.role})")
    if link.token is not None:
        url = f"{state.settings.base_url}/admin/password/{link.token}"
        click.echo(f"one-time link to set the password (valid 24 hours, once): {url}")
