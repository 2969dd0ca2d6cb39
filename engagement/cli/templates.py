"""``engagement templates``: check the mail templates (with a publisher's overrides) and preview one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from engagement.cli._app import EXIT_CONFIG, EXIT_FAILURE, CliState, fail, pass_state
from engagement.errors import SiteNotFound
from engagement.i18n.locales import DEFAULT, SHIPPED, normalise
from engagement.mail.mailer import site_context
from engagement.mail.render import MailRenderer
from engagement.mail.template_check import check_templates, preview_template
from engagement.mail.templates import TEMPLATES, describe_error
from engagement.services.sites import is_site_key, list_sites, read_site


@click.group()
def templates() -> None:
    """The e-mail templates: the shipped ones and ENGAGEMENT_TEMPLATES_DIR's overrides."""


@templates.command()
@pass_state
def check(state: CliState, /) -> None:
    """Render every template with sample data, for every site with overrides; exit 1 on an error."""
    overrides = state.settings.templates_dir
    known = [site.key for site in list_sites(state.uow())] if overrides else []
    results = check_templates(overrides, known)
    for result in results:
        scope = f"site {result.site}" if result.site else "every site"
        origin = "override" if result.overridden else "shipped"
        status = f"FAIL {result.error}" if result.error else "ok"
        click.echo(f"{result.template:<22} {scope:<24} {origin:<9} {status}")
    failed = sum(1 for result in results if result.error)
    if failed:
        message = f"{failed} template(s) failed to render; their mail falls back to the shipped templates"
        fail(message, EXIT_FAILURE)
    click.echo(f"All {len(results)} renderings passed.")


@templates.command()
@click.argument("name", type=click.Choice(TEMPLATES))
@click.option("--site", "site", default=None, help="Render as this site's mail, with its own overrides.")
@click.option(
    "--locale", default=None, metavar="TAG", help="Render in this language (en, de, fr, … pt-BR, ar)."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="The folder to write NAME.html and NAME.txt into.",
)
@pass_state
def preview(state: CliState, /, name: str, site: str | None, locale: str | None, output: Path) -> None:
    """Write template NAME rendered with sample data as HTML and text, to look at."""
    if site is not None and not is_site_key(site):
        fail(f"{site!r} is not a site key", EXIT_CONFIG)
    shipped = normalise(locale) if locale is not None else None
    if locale is not None and shipped is None:
        fail(f"{locale!r} is not a shipped language: use one of {', '.join(SHIPPED)}", EXIT_CONFIG)
    site_values = _site_values(state, site, shipped or DEFAULT) if site is not None else None
    renderer = MailRenderer(state.settings.templates_dir)
    try:
        rendered = preview_template(renderer, name, site, site_values, locale=shipped)
    except Exception as exc:  # a template's own error, shown as the operator needs to fix it
        fail(describe_error(exc), EXIT_FAILURE)
    output.mkdir(parents=True, exist_ok=True)
    html, text = output / f"{name}.html", output / f"{name}.txt"
    html.write_text(rendered.html)
    text.write_text(f"Subject: {rendered.subject}\n\n{rendered.text}")
    click.echo(f"Subject: {rendered.subject}")
    click.echo(f"Wrote {html} and {text}")


def _site_values(state: CliState, key: str, locale: str) -> dict[str, Any] | None:
    """The site's own name and support call when the database knows it; sample ones otherwise."""
    try:
        return site_context(read_site(state.uow(), key), locale)
    except (SiteNotFound, sa.exc.SQLAlchemyError):
        return None
