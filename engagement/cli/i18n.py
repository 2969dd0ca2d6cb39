"""``engagement i18n``: extract the messages, compile the catalogs, check that every one is translated."""

from __future__ import annotations

from pathlib import Path

import click

from engagement.cli._app import EXIT_FAILURE, fail
from engagement.i18n.catalogs import LOCALE_DIR
from engagement.i18n.extraction import compile_all, problems, update

CHECKOUT = LOCALE_DIR.parent.parent  # the repository root, when run from a checkout
ROOT_HELP = "The checkout whose sources are read (default: the one this package runs from)."


def _root(value: Path | None) -> Path:
    root = value or CHECKOUT
    if not (root / "engagement").is_dir() or not (root / "templates").is_dir():
        fail(f"{root} is not a checkout of engagement (no engagement/ and templates/ there)", 2)
    return root


@click.group()
def i18n() -> None:
    """The translations: gettext catalogs under engagement/locale (see README, Languages)."""


@i18n.command()
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), help=ROOT_HELP)
def extract(root: Path | None) -> None:
    """Extract every message into messages.pot and merge it into each language's .po."""
    for path in update(_root(root)):
        click.echo(f"wrote {path}")


@i18n.command("compile")
def compile_() -> None:
    """Compile each .po into the .mo the server reads (make bootstrap and the image do it)."""
    for path in compile_all():
        click.echo(f"wrote {path}")


@i18n.command()
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), help=ROOT_HELP)
@click.option("--installed", is_flag=True, help="Check the shipped catalogs only, without a checkout.")
def check(root: Path | None, installed: bool) -> None:
    """Exit 1 when extraction is out of date or a message is missing, fuzzy or broken in a language."""
    found = list(problems(None if installed else _root(root)))
    for problem in found:
        click.echo(problem)
    if found:
        fail(
            f"{len(found)} problem(s) in the catalogs: translate them, then run `make messages`", EXIT_FAILURE
        )
    click.echo("every catalog is complete and up to date")
