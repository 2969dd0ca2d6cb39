"""``engagement webhooks``: endpoints (add, list, disable, enable, remove, rotate-secret) and retries."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from engagement.cli._app import CliState, pass_state
from engagement.models.webhooks import WEBHOOK_FORMATS
from engagement.services.discussion.public import iso
from engagement.services.webhooks.addresses import AddressGuard
from engagement.services.webhooks.bodies import WEBHOOK_EVENTS
from engagement.services.webhooks.deliveries import STATUSES, list_webhook_deliveries, retry_failed_webhooks
from engagement.services.webhooks.endpoints import (
    EndpointView,
    add_endpoint,
    list_endpoints,
    remove_endpoint,
    rotate_secret,
    set_enabled,
)


@click.group()
def webhooks() -> None:
    """Signed webhooks from the outbox: a site's events to its own tools (Slack, Discord, a CRM…)."""


@webhooks.command()
@click.argument("site_key", metavar="SITE")
@click.argument("url")
@click.option(
    "--event",
    "events",
    multiple=True,
    type=click.Choice(WEBHOOK_EVENTS),
    help="An event to send (repeatable); default all.",
)
@click.option("--format", "fmt", type=click.Choice(WEBHOOK_FORMATS), default="standard", show_default=True)
@pass_state
def add(state: CliState, /, site_key: str, url: str, events: tuple[str, ...], fmt: str) -> None:
    """Send SITE's events to URL; prints the endpoint's signing secret, once."""
    guard = AddressGuard(allow_private=state.settings.webhooks_allow_private)
    endpoint = add_endpoint(state.uow(), guard, site_key, url, events, fmt)
    click.echo(f"webhook {endpoint.id} added for {endpoint.site}: {endpoint.url} ({endpoint.format})")
    click.echo(f"events: {', '.join(endpoint.events)}")
    if endpoint.format == "standard":
        _secret(endpoint)


@webhooks.command("list")
@click.option("--site", "site_key", metavar="KEY", help="Only this site's endpoints.")
@pass_state
def list_(state: CliState, /, site_key: str | None) -> None:
    """The endpoints, with whether they are on and how many deliveries failed in a row."""
    found = list_endpoints(state.uow(), site_key)
    if not found:
        click.echo("no webhook endpoints")
        return
    table = Table("id", "site", "url", "format", "events", "state", "failed in a row")
    for e in found:
        state_text = "on" if e.enabled else f"off ({e.disabled_reason})"
        table.add_row(
            str(e.id), e.site, e.url, e.format, ", ".join(e.events), state_text, str(e.failure_streak)
        )
    Console(width=200).print(table)


@webhooks.command()
@click.argument("endpoint_id", type=int, metavar="ID")
@pass_state
def disable(state: CliState, /, endpoint_id: int) -> None:
    """Stop sending to endpoint ID (events meanwhile are not kept for it)."""
    set_enabled(state.uow(), endpoint_id, False)
    click.echo(f"webhook {endpoint_id} disabled")


@webhooks.command()
@click.argument("endpoint_id", type=int, metavar="ID")
@pass_state
def enable(state: CliState, /, endpoint_id: int) -> None:
    """Send to endpoint ID again (``retry --endpoint ID`` sends what failed meanwhile)."""
    set_enabled(state.uow(), endpoint_id, True)
    click.echo(f"webhook {endpoint_id} enabled")


@webhooks.command()
@click.argument("endpoint_id", type=int, metavar="ID")
@pass_state
def remove(state: CliState, /, endpoint_id: int) -> None:
    """Delete endpoint ID and its deliveries."""
    remove_endpoint(state.uow(), endpoint_id)
    click.echo(f"webhook {endpoint_id} removed")


@webhooks.command("rotate-secret")
@click.argument("endpoint_id", type=int, metavar="ID")
@pass_state
def rotate(state: CliState, /, endpoint_id: int) -> None:
    """Give endpoint ID a new signing secret (printed once); the old one stops at once."""
    _secret(rotate_secret(state.uow(), endpoint_id))


@webhooks.command()
@click.option("--site", "site_key", metavar="KEY", help="Only this site's deliveries.")
@click.option("--endpoint", "endpoint_id", type=int, metavar="ID", help="Only this endpoint's deliveries.")
@click.option("--status", type=click.Choice(STATUSES), help="Only deliveries with this status.")
@click.option("--limit", type=int, default=50, show_default=True)
@pass_state
def deliveries(
    state: CliState, /, site_key: str | None, endpoint_id: int | None, status: str | None, limit: int
) -> None:
    """The latest deliveries, newest first."""
    found = list_webhook_deliveries(
        state.uow(), site=site_key, endpoint_id=endpoint_id, status=status, limit=limit
    )
    table = Table("id", "endpoint", "event", "webhook-id", "status", "attempts", "HTTP", "last error", "sent")
    for d in found:
        table.add_row(
            str(d.id), str(d.endpoint_id), d.event_type, d.message_id, d.status, str(d.attempts),
            str(d.response_status or ""), (d.last_error or "")[:80], iso(d.sent_at) or "",
        )  # fmt: skip
    Console(width=200).print(table)


@webhooks.command()
@click.argument("ids", nargs=-1, type=int)
@click.option("--site", "site_key", metavar="KEY", help="Only this site's failed deliveries.")
@click.option(
    "--endpoint", "endpoint_id", type=int, metavar="ID", help="Only this endpoint's failed deliveries."
)
@pass_state
def retry(state: CliState, /, ids: tuple[int, ...], site_key: str | None, endpoint_id: int | None) -> None:
    """Send failed deliveries again: those IDS, or every failed one (of a site, or an endpoint)."""
    reset = retry_failed_webhooks(
        state.uow(), ids=list(ids) if ids else None, site=site_key, endpoint_id=endpoint_id
    )
    if not reset:
        click.echo("no failed webhook deliveries to retry")
        return
    click.echo(f"{len(reset)} webhook deliveries queued again: {', '.join(map(str, reset))}")
    try:
        from workers import make_celery

        app = make_celery(state.settings)
        app.send_task("engagement.webhook_send", args=[reset], queue="send", retry=False)
    except Exception as exc:  # the workers' resume sweep sends them anyway
        click.echo(f"note: the broker did not take them ({exc}); the workers will find them", err=True)


def _secret(endpoint: EndpointView) -> None:
    click.echo(f"secret: {endpoint.secret}")
    click.echo("Keep it now: it is not shown again (rotate-secret gives a new one).", err=True)
