"""``engagement demo``: everything in one command, with nothing but Python.

A SQLite database in a data folder, the demo site and article with a seeded discussion, a
worker and beat on the serverless broker, mail written to a folder and shown at /demo/mail,
and the web server. Ctrl-C (or SIGTERM) stops it all cleanly.
"""

from __future__ import annotations

from pathlib import Path

import click
import uvicorn

from engagement import migrations
from engagement.cli._app import CliState, pass_state
from engagement.cli.serve import fast_io, run_server
from engagement.config import Settings, load_settings
from engagement.core import build_core
from engagement.demo import DemoInfo, seed_demo
from engagement.web import create_app
from workers import make_celery
from workers.app import Handoff
from workers.embedded import start_embedded

# New comments reach subscribers within seconds in the demo (the default waits two minutes
# to gather several comments into one mail).
DEMO_NOTIFY_WINDOW_SECONDS = 10


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the database, the secret and the mail (default: ENGAGEMENT_DATA_DIR or ./data).",
)
@pass_state
def demo(state: CliState, /, host: str, port: int, data_dir: Path | None) -> None:
    """Start the demo: an article with the widget, a worker, beat and a mailbox, on SQLite."""
    # The environment's settings are loaded only without --data-dir: loading writes the
    # embedded secret into their data folder.
    settings = demo_settings(data_dir or state.settings.data_dir, host, port)
    migrations.upgrade(settings.resolved_database_url)
    relay = Handoff(make_celery(settings), background=True)
    core = build_core(settings, on_commit=relay)
    workers = None
    try:
        info = seed_demo(core, settings.base_url)
        workers = start_embedded(settings)
        _banner(settings, info)
        config = uvicorn.Config(
            create_app(settings, core, demo=True),
            host=host,
            port=port,
            log_level="warning",
            server_header=False,
            **fast_io(),
        )
        run_server(uvicorn.Server(config))
    finally:
        relay.close()
        if workers is not None:
            workers.stop()
        core.dispose()
    click.echo("Demo stopped.")


def demo_settings(data_dir: Path, host: str, port: int) -> Settings:
    """The embedded mode in ``data_dir``, whatever the environment points at."""
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 -- a comparison
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    return load_settings(
        mode="embedded",
        data_dir=data_dir.resolve(),
        database_url="",
        broker_url="",
        smtp_url="",
        base_url=f"http://{shown_host}:{port}",
        notify_window_seconds=DEMO_NOTIFY_WINDOW_SECONDS,
        log_level="warning",
    )


def _banner(settings: Settings, info: DemoInfo) -> None:
    seeded = "seeded a demo site and discussion" if info.seeded else "using the demo data already there"
    click.echo(f"engagement demo: {settings.data_dir} ({seeded})")
    click.echo(f"  The article   {info.article_url}")
    click.echo(f"  A listing     {info.listing_url}")
    click.echo(f"  The mailbox   {settings.base_url}/demo/mail")
    click.echo(f"Open {settings.base_url}/ in a browser. Press Ctrl-C to stop.")
