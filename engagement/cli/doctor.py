"""``engagement doctor``: one line per part of a running installation, and a hint for each that fails."""

from __future__ import annotations

from collections.abc import Iterator

import click

from engagement import diagnostics
from engagement.cli._app import EXIT_FAILURE, CliState, pass_state
from engagement.diagnostics import Check

STYLES = {"ok": ("ok", "green"), "fail": ("FAIL", "red"), "skip": ("skip", "yellow")}


@click.command()
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 120),
    default=diagnostics.DEFAULT_TIMEOUT_SECONDS,
    show_default=True,
    help="Seconds to wait for each service (and for workers to answer the ping).",
)
@click.option(
    "--max-outbox-lag",
    type=click.FloatRange(1),
    default=diagnostics.DEFAULT_MAX_OUTBOX_LAG_SECONDS,
    show_default=True,
    help="Seconds the oldest outbox event may wait for the relay.",
)
@pass_state
def doctor(state: CliState, /, timeout: float, max_outbox_lag: float) -> None:
    """Check settings, database and schema, broker, SMTP relay, workers, beat and outbox.

    Also lists the heartbeats workers and beat left in the data folder, with their ages.
    Nothing is changed and no mail is sent. Exit status 1 when any check fails.
    """
    failed = total = 0
    for check in _checks(state, timeout, max_outbox_lag):
        total += 1
        failed += check.failed
        click.echo(_line(check))
    if failed:
        click.echo(f"{failed} of {total} checks failed")
        raise click.exceptions.Exit(EXIT_FAILURE)
    click.echo(f"all {total} checks passed")


def _checks(state: CliState, timeout: float, max_outbox_lag: float) -> Iterator[Check]:
    """The checks in order, each as soon as it is done; what a failed one makes moot is skipped."""
    check, settings = diagnostics.check_settings(lambda: state.settings)
    yield check
    if settings is None:
        return
    from workers import make_celery
    from workers.probes import check_beat, check_broker, check_workers

    database = diagnostics.check_database(settings, timeout)
    yield from database
    broker = check_broker(settings, timeout)
    yield broker
    yield diagnostics.check_smtp(settings, timeout)
    if broker.failed:
        yield Check("worker", "skip", "the broker is unreachable")
        yield Check("beat", "skip", "the broker is unreachable")
    else:
        app = make_celery(settings)
        yield check_workers(app, timeout)
        yield check_beat(app, settings, timeout)
    yield diagnostics.check_heartbeats(settings)
    if database[0].failed:
        yield Check("outbox", "skip", "the database is unreachable")
    else:
        yield diagnostics.check_outbox(settings, max_outbox_lag, timeout=timeout)


def _line(check: Check) -> str:
    label, colour = STYLES[check.status]
    line = f"{click.style(f'{label:<4}', fg=colour, bold=check.failed)}  {check.name:<10}  {check.detail}"
    return f"{line} (hint: {check.hint})" if check.failed and check.hint else line
