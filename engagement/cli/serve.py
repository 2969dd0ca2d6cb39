"""``engagement serve``: the web process (the HTTP API, the widget, the subscriber pages) on uvicorn."""

from __future__ import annotations

import signal
from importlib.util import find_spec
from types import FrameType
from typing import Any

import click
import uvicorn
from uvicorn.supervisors import Multiprocess

from engagement.cli._app import CliState, pass_state
from engagement.metrics import enable_multiprocess
from engagement.web import create_app
from engagement.web.collector import freeze_startup

GRACEFUL_SHUTDOWN_SECONDS = 10


WORKER_STARTUP_SECONDS = 60


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port.")
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    help="Proxies whose X-Forwarded-For/-Proto are trusted (the client address feeds rate limits).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes sharing the port; /metrics in any of them counts them all.",
)
@pass_state
def serve(state: CliState, /, host: str, port: int, forwarded_allow_ips: str, workers: int) -> None:
    """Serve the HTTP API, widget.js, count.js and the subscriber and moderation pages.

    One process, or ``--workers N``; run several behind a proxy to scale. The database must be
    migrated (`engagement db upgrade`), and a worker and beat must run for mail to leave.
    """
    settings = state.settings
    enable_multiprocess(settings.data_dir, "web")
    options: dict[str, Any] = dict(
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level=settings.log_level,
        server_header=False,
        # On SIGTERM (a deploy), requests in flight get this long to finish before connections close.
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        access_log=False,  # our own request line (engagement/web/observe.py): ids, routes, no paths
        log_config=None,  # uvicorn's own lines go through our formatter (engagement/logs.py) too
        **fast_io(),
    )
    if workers > 1:
        # uvicorn's supervisor spawns the processes; each builds its app from the environment,
        # which carries the metrics folder they share.
        config = uvicorn.Config(
            "engagement.web.asgi:app_from_environment",
            factory=True,
            workers=workers,
            # A process answers the supervisor's health pings only once its imports are done; on
            # a busy host that takes longer than uvicorn's 5 s, and it would be killed in a loop.
            timeout_worker_healthcheck=WORKER_STARTUP_SECONDS,
            **options,
        )
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    app = create_app(settings)
    freeze_startup()
    run_server(uvicorn.Server(uvicorn.Config(app, **options)))


def fast_io() -> dict[str, Any]:
    """uvicorn's C HTTP parser and event loop (``uvicorn[standard]``), the pure-Python ones without.

    Named rather than left to "auto" so a missing extra shows in the options, not in the figures.
    """
    return {
        "http": "httptools" if find_spec("httptools") else "h11",
        "loop": "uvloop" if find_spec("uvloop") else "asyncio",
    }


def run_server(server: uvicorn.Server) -> None:
    """Run until Ctrl-C or SIGTERM, shut down gracefully, and return (exit status 0).

    uvicorn catches both signals, drains its connections, then raises the signal again
    under the handler it found at start; a handler that merely returns lets us finish.
    """
    previous = {sig: signal.signal(sig, _ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _ignore(_signum: int, _frame: FrameType | None) -> None:
    """Stand in for the default handlers while uvicorn owns shutdown."""
