"""``engagement sites``: add, change and list the sites a server hosts."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from engagement.cli._app import CliState, pass_state
from engagement.cli.sites_sso import SSO_OPTIONS, echo_generated, generate_secret, sso_changes
from engagement.errors import InvalidInput
from engagement.i18n.locales import SHIPPED
from engagement.models import Site
from engagement.services.audience.supporters import supporter_counts
from engagement.services.sites import MODERATION_POLICIES, SiteChanges, add_site, list_sites, update_site

F = TypeVar("F", bound=Callable[..., Any])
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
FIELD_OPTIONS = {
    "name": "--name",
    "origins": "--origin",
    "moderation": "--moderation",
    "moderator_emails": "--moderator-email",
    "edit_window_seconds": "--edit-window",
    "support_url": "--support-url",
    "support_text": "--support-text",
    "link_limit": "--link-limit",
    "reactions": "--reaction",
    "timezone": "--timezone",
    "language": "--language",
    "digest_hour": "--digest-hour",
    "digest_weekday": "--digest-weekday",
    "supporter_thanks": "--supporter-thanks",
    "supporter_badges": "--supporter-badges",
    "patreon_webhook_secret": "--patreon-webhook-secret",
    "report_threshold": "--report-threshold",
    "popular": "--popular",
    "popular_title": "--popular-title",
    "sso_secret": "--sso-secret",
    "sso_required": "--sso-required",
    "sso_login_url": "--sso-login-url",
}
LIST_HELP = "Repeat for several; on update the list given replaces the old one ('' clears it)."


def _reactions(_ctx: click.Context, _param: click.Parameter, values: Sequence[str]) -> list[dict[str, str]]:
    result = []
    for value in values:
        key, sep, label = value.partition("=")
        if not sep:
            raise click.BadParameter(f"{value!r} is not KEY=LABEL, such as 'like=👍 Like'")
        result.append({"key": key.strip(), "label": label.strip()})
    return result


SITE_OPTIONS: list[Callable[[Any], Any]] = [
    click.option("--name", help="The site's name, as readers and mail recipients see it."),
    click.option(
        "--origin",
        "origins",
        multiple=True,
        metavar="URL",
        help=f"An origin allowed to embed the widget. {LIST_HELP}",
    ),
    click.option(
        "--moderation",
        type=click.Choice(MODERATION_POLICIES),
        help="Hold no comment, each author's first, or all.",
    ),
    click.option(
        "--moderator-email",
        "moderator_emails",
        multiple=True,
        metavar="ADDRESS",
        help=f"Receives 'awaiting moderation' mail. {LIST_HELP}",
    ),
    click.option(
        "--edit-window",
        "edit_window_seconds",
        type=int,
        metavar="SECONDS",
        help="How long authors may edit or delete (default 900).",
    ),
    click.option("--support-url", metavar="URL", help="The support call to action's link ('' removes it)."),
    click.option(
        "--support-text", metavar="TEXT", help="Default: 'Help us grow. Support <name> on Patreon!'"
    ),
    click.option(
        "--banned-word",
        "banned_words",
        multiple=True,
        metavar="WORD",
        help=f"Sends a comment to the queue. {LIST_HELP}",
    ),
    click.option(
        "--link-limit", type=int, help="More links than this send a comment to the queue (default 3)."
    ),
    click.option(
        "--reaction",
        "reactions",
        multiple=True,
        metavar="KEY=LABEL",
        callback=_reactions,
        help="Replaces the reaction set (repeat, in order).",
    ),
    click.option(
        "--timezone", metavar="ZONE", help="Time zone of the digest schedule, such as Europe/Paris."
    ),
    click.option(
        "--language",
        metavar="TAG",
        help=f"Default language of widget, pages and mails: {', '.join(SHIPPED)} (default en).",
    ),
    click.option(
        "--digest-hour", type=int, metavar="0-23", help="Local hour when digests leave (default 8)."
    ),
    click.option(
        "--digest-weekday", type=int, metavar="0-6", help="Weekly digests' day, 0 = Monday (default 0)."
    ),
    click.option(
        "--supporter-thanks",
        metavar="TEXT",
        help="What supporters' mails say instead of the call (default: 'Thank you for supporting <name>!…').",
    ),
    click.option(
        "--supporter-badges",
        type=click.Choice(["on", "off"]),
        help="Show a 'Supporter' badge on supporters' comments (default off).",
    ),
    click.option(
        "--patreon-webhook-secret",
        metavar="SECRET",
        help="The secret Patreon signs webhooks with, for POST /hooks/patreon/KEY ('' removes it).",
    ),
    click.option(
        "--report-threshold",
        type=int,
        metavar="N",
        help="Readers' reports that send a published comment back to moderation (default 3).",
    ),
    click.option(
        "--popular/--no-popular",
        default=None,
        help="Show 'More discussions' (the site's most discussed pages) under the thread (default on).",
    ),
    click.option(
        "--popular-title",
        metavar="TEXT",
        help="Its heading (default: the widget's 'More discussions', translated; '' restores it).",
    ),
    *SSO_OPTIONS,
]


def site_options(command: F) -> F:
    """Every site setting as an option, for both ``add`` and ``update``."""
    for option in reversed(SITE_OPTIONS):
        command = option(command)
    return command


def _listed(values: Sequence[str]) -> list[str] | None:
    """None (leave as is) when the option was not given; '' entries drop out, so '' clears."""
    return [v for v in values if v.strip()] if values else None


def _changes(options: dict[str, Any]) -> SiteChanges:
    listed: dict[str, Any] = {
        name: _listed(options[name]) for name in ("origins", "moderator_emails", "banned_words")
    }
    badges = options["supporter_badges"]
    return SiteChanges(
        name=options["name"],
        moderation=options["moderation"],
        edit_window_seconds=options["edit_window_seconds"],
        support_url=options["support_url"],
        support_text=options["support_text"],
        link_limit=options["link_limit"],
        reactions=options["reactions"] or None,
        timezone=options["timezone"],
        language=options["language"],
        digest_hour=options["digest_hour"],
        digest_weekday=options["digest_weekday"],
        supporter_thanks=options["supporter_thanks"],
        supporter_badges=None if badges is None else badges == "on",
        patreon_webhook_secret=options["patreon_webhook_secret"],
        report_threshold=options["report_threshold"],
        popular=options["popular"],
        popular_title=options["popular_title"],
        **sso_changes(options),
        **listed,
    )


@click.group()
def sites() -> None:
    """Manage the sites this server hosts (each embeds the widget with its key)."""


@sites.command("add")
@click.argument("key")
@site_options
@pass_state
def add(state: CliState, /, key: str, **options: Any) -> None:
    """Add the site KEY; --name is required, every other setting has a default."""
    generated = generate_secret(options)
    with _option_names():
        site = add_site(state.uow(), key, _changes(options))
    echo_generated(generated)
    base = state.settings.base_url
    click.echo(f"added site {site.key} ({site.name}); embed it on a page with:")
    click.echo('  <div id="engagement-thread"></div>')
    click.echo(f'  <script src="{base}/widget.js" data-site="{site.key}" async></script>')


@sites.command("update")
@click.argument("key")
@site_options
@pass_state
def update(state: CliState, /, key: str, **options: Any) -> None:
    """Change settings of the site KEY; options not given stay as they are."""
    generated = generate_secret(options)
    with _option_names():
        site = update_site(state.uow(), key, _changes(options))
    click.echo(f"updated site {site.key} ({site.name})")
    echo_generated(generated)


@sites.command("list")
@pass_state
def list_(state: CliState, /) -> None:
    """List the sites with their main settings."""
    found = list_sites(state.uow())
    if not found:
        click.echo("no sites yet: add one with `engagement sites add KEY --name NAME --origin URL`")
        return
    console = Console()
    if not console.is_terminal:
        console.width = 200  # piped or captured: keep each value on one line
    console.print(_table(found, supporter_counts(state.uow())))


@contextmanager
def _option_names() -> Iterator[None]:
    """Name a refused value by the option that gave it, as the person typed it."""
    try:
        yield
    except InvalidInput as exc:
        option = FIELD_OPTIONS.get(exc.field)
        if option is None:
            raise
        raise InvalidInput(option, exc.detail) from None


def _table(found: Sequence[Site], supporters: dict[int, int]) -> Table:
    table = Table(
        "key",
        "name",
        "origins",
        "moderation",
        "moderators",
        "edit window",
        "support",
        "digests",
        "supporters",
    )
    for site in found:
        table.add_row(
            site.key,
            site.name,
            "\n".join(site.origins) or "-",
            site.moderation,
            "\n".join(site.moderator_emails) or "-",
            f"{site.edit_window_seconds}s",
            site.support_call + (f"\n{site.support_url}" if site.support_url else ""),
            f"{site.digest_hour:02d}:00, weekly on {WEEKDAYS[site.digest_weekday]}, {site.timezone}"
            f"\nlanguage {site.language}",
            f"{supporters.get(site.id, 0)}" + (", badges on" if site.supporter_badges else ""),
        )
    return table
