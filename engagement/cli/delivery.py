"""``engagement worker | beat | deliveries | bounces | digest``: run and watch the mail."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from engagement.cli._app import CliState, pass_state
from engagement.config import MIN_RETENTION_DAYS
from engagement.mail.mailer import build_mailer
from engagement.metrics import enable_multiprocess
from engagement.models.delivery import DELIVERY_STATUSES
from engagement.services.delivery import bounces as bounce_service
from engagement.services.delivery.deliveries import (
    DeliveryView,
    list_deliveries,
    retry_failed,
    suppression_of,
)
from engagement.services.delivery.digests import PERIODS, run_lease_seconds, send_digest
from engagement.services.delivery.retention import prune_deliveries
from engagement.services.delivery.sending import chunk_sender

PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


@click.command(context_settings=PASS_THROUGH)
@click.option("--metrics-port", type=click.IntRange(1, 65535), help="Serve /metrics on this port.")
@click.option("--metrics-host", default="127.0.0.1", show_default=True, help="Address for --metrics-port.")
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@pass_state
def worker(
    state: CliState, /, metrics_port: int | None, metrics_host: str, celery_args: tuple[str, ...]
) -> None:
    """Run a worker: Celery's own ``worker`` command, configured from the settings.

    It waits out a broker outage of any length; on SIGTERM it finishes the mail on the wire,
    hands the rest of its batch back to the other workers and exits 0 (non-zero, with the
    reason, should it ever stop by itself).

    Extra arguments go to Celery (``--concurrency 4``, ``--help``…). The embedded mode uses
    a threads pool and also runs beat inside the worker unless ``--no-beat`` is given.
    ``--metrics-port`` serves the metrics of every pool process (ENGAGEMENT_METRICS_TOKEN applies).
    """
    from workers.run import run_worker

    if metrics_port is not None:
        from workers.metrics_server import serve_metrics

        enable_multiprocess(state.settings.data_dir, "worker")
        serve_metrics(metrics_host, metrics_port, state.settings.metrics_token)
    run_worker(state.settings, list(celery_args))


@click.command(context_settings=PASS_THROUGH)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@pass_state
def beat(state: CliState, /, celery_args: tuple[str, ...]) -> None:
    """Run beat, the scheduler (RedBeat with Redis, so a second beat cannot double-fire)."""
    from workers import make_celery

    make_celery(state.settings).start(["beat", f"--loglevel={state.settings.log_level}", *celery_args])


@click.group()
def deliveries() -> None:
    """The mails written down for sending, and what became of them."""


@deliveries.command("list")
@click.option("--status", type=click.Choice(DELIVERY_STATUSES), help="Only deliveries in this state.")
@click.option("--recipient", metavar="EMAIL", help="Only the mails to this address, and its suppression.")
@click.option("--limit", type=int, default=50, show_default=True)
@pass_state
def list_(state: CliState, /, status: str | None, recipient: str | None, limit: int) -> None:
    """The latest deliveries, newest first; ``--status failed`` shows what needs a look,
    ``--recipient EMAIL`` why someone got no mail (each skipped or failed one says why)."""
    rows = list_deliveries(state.uow(), status=status, recipient=recipient, limit=limit)
    if recipient is not None:
        _say_suppression(state, recipient)
    if not rows:
        which = " ".join(part for part in (status, "deliveries", recipient and f"to {recipient}") if part)
        click.echo(f"no {which}")
        return
    console = Console()
    if not console.is_terminal:
        console.width = 200
    console.print(_table(rows))


def _say_suppression(state: CliState, recipient: str) -> None:
    # A suppressed address gets no delivery row at all: the table alone would not say why.
    found = suppression_of(state.uow(), recipient)
    if found is not None:
        detail = f": {found.detail[:120]}" if found.detail else ""
        click.echo(
            f"{found.email} is suppressed since {found.created_at:%Y-%m-%d %H:%M} ({found.reason}{detail});"
            " nothing is sent to it"
        )


def _table(rows: list[DeliveryView]) -> Table:
    table = Table("id", "created", "recipient", "mail", "status", "reason", "attempts", "last error")
    for row in rows:
        table.add_row(
            str(row.id),
            row.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            row.recipient,
            row.template,
            row.status,
            row.reason or "-",
            str(row.attempts),
            (row.last_error or "-")[:80],
        )
    return table


@deliveries.command()
@click.argument("ids", nargs=-1, type=int)
@pass_state
def retry(state: CliState, /, ids: tuple[int, ...]) -> None:
    """Send failed deliveries again: those IDS, or every failed one."""
    reset = retry_failed(state.uow(), list(ids) if ids else None)
    if not reset:
        click.echo("no failed deliveries to retry")
        return
    click.echo(f"{len(reset)} deliveries queued again: {', '.join(map(str, reset))}")
    try:
        from workers import make_celery

        make_celery(state.settings).send_task("engagement.send", args=[reset], queue="send", retry=False)
    except Exception as exc:  # the workers' resume sweep sends them anyway
        click.echo(f"note: the broker did not take them ({exc}); the workers will find them", err=True)


@deliveries.command()
@click.option(
    "--older-than",
    "days",
    type=int,
    metavar="DAYS",
    help=f"Age in days (at least {MIN_RETENTION_DAYS}); default ENGAGEMENT_DELIVERY_RETENTION_DAYS.",
)
@pass_state
def prune(state: CliState, /, days: int | None) -> None:
    """Remove sent, skipped and failed deliveries older than DAYS, and the items they announced."""
    if days is None:
        days = state.settings.delivery_retention_days
        if days == 0:
            click.echo("ENGAGEMENT_DELIVERY_RETENTION_DAYS is 0: deliveries are kept; give --older-than DAYS")
            return
    report = prune_deliveries(state.uow(), days)
    click.echo(
        f"{report.deliveries} deliveries, {report.notification_items} notification items and "
        f"{report.outbox_events} relayed outbox events older than {days} days removed"
    )


@click.group()
def bounces() -> None:
    """Delivery status notifications (bounces) that suppress addresses."""


@bounces.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@pass_state
def ingest(state: CliState, /, path: Path) -> None:
    """Read the bounces in PATH (an mbox file or a maildir) and suppress the addresses they name."""
    report = bounce_service.ingest_bounces(state.uow(), path, secret_key=state.settings.secret_key)
    click.echo(
        f"{report.messages} messages read, {report.reports} delivery reports, "
        f"{len(report.suppressed)} addresses suppressed"
    )
    for address in report.suppressed:
        click.echo(f"  suppressed {address}")


@click.group()
def digest() -> None:
    """Site digests."""


@digest.command()
@click.option("--site", "site_key", required=True, help="The site's key.")
@click.option("--period", type=click.Choice(PERIODS), required=True)
@pass_state
def send(state: CliState, /, site_key: str, period: str) -> None:
    """Send (or finish sending) the site's digest for its latest period, now, from here."""
    core = state.core
    mailer = build_mailer(state.settings, core.keys)
    report = send_digest(
        core.uow(),
        site_key,
        period,
        chunk_sender(core.uow, mailer),
        lease_seconds=run_lease_seconds(state.settings),
    )
    if report.busy:
        click.echo("another runner is sending this digest right now; try again when it is done", err=True)
        raise click.exceptions.Exit(5)
    click.echo(f"{period} digest of {site_key}: {report.sent} sent, {report.skipped} skipped, done")
