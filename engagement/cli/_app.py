"""The root ``engagement`` group: settings loaded once when needed, errors turned into exit codes."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import click
import sqlalchemy as sa

from engagement import __version__, errors
from engagement.config import ConfigError, Settings, load_settings
from engagement.core import Core, build_core
from engagement.logs import configure_logging
from engagement.uow import OnCommit, UnitOfWork

# The one table from domain error to exit code, most specific first (click uses 2 for usage).
EXIT_CODES: tuple[tuple[type[errors.EngagementError], int], ...] = (
    (errors.InvalidInput, 2),
    (errors.InvalidToken, 2),
    (errors.NotFound, 3),
    (errors.Forbidden, 4),
    (errors.Conflict, 5),
    (errors.RateLimited, 6),
)
EXIT_CONFIG = 2
EXIT_FAILURE = 1


def exit_code_for(error: errors.EngagementError) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(error, cls):
            return code
    return EXIT_FAILURE


def fail(message: str, exit_code: int) -> NoReturn:
    """Stop with ``message`` as one line on stderr and ``exit_code``."""
    click.echo(f"Error: {message}", err=True)
    raise click.exceptions.Exit(exit_code)


class CliState:
    """What every command shares: the settings and the core, each made on first use.

    Settings wait for a command to ask because the embedded mode writes its secret into the
    data folder as they load: ``engagement demo --data-dir`` must not write the default one.
    """

    def __init__(
        self, settings: Settings | Callable[[], Settings], on_commit: OnCommit | None = None
    ) -> None:
        self._settings: Settings | None = None
        self._load: Callable[[], Settings] = (
            (lambda: settings) if isinstance(settings, Settings) else settings
        )
        self.on_commit = on_commit
        self._core: Core | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = self._load()
            configure_logging(self._settings)
        return self._settings

    @property
    def core(self) -> Core:
        if self._core is None:
            from engagement.live.wiring import publisher

            # With Redis, a moderator's approval here reaches the readers' live streams too.
            self._core = build_core(
                self.settings, on_commit=self.on_commit, broadcast=publisher(self.settings)
            )
        return self._core

    def uow(self) -> UnitOfWork:
        return self.core.uow()

    def close(self) -> None:
        if self._core is not None:
            self._core.dispose()
            self._core = None


def relay_handoff(state: CliState) -> OnCommit:
    """Hand committed outbox events to the relay at once, as the web process does.

    The Celery app is built on the first commit that wrote events, so commands that write
    none never load Celery. If the broker is down, the sweep relays the events later.
    """
    hand_over: OnCommit | None = None

    def on_commit(event_ids: Sequence[int]) -> None:
        nonlocal hand_over
        if hand_over is None:
            from workers import handoff, make_celery

            hand_over = handoff(make_celery(state.settings))
        hand_over(event_ids)

    return on_commit


class EngagementGroup(click.Group):
    """Turns what the core raises on purpose into a clear line and an exit code, never a trace.

    Commands are registered by name as ``module:attribute`` and imported when run or listed:
    ``engagement import`` need not load the web app, Celery and every other command's
    libraries (some 70 MB a process).
    """

    lazy: dict[str, str]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, attribute = self.lazy[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            fail(str(exc), EXIT_CONFIG)
        except errors.EngagementError as exc:
            fail(exc.reason, exit_code_for(exc))
        except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
            first = str(exc.orig or exc).strip().splitlines()[0]
            fail(
                f"database error: {first} (is the database reachable, and up to date with "
                "`engagement db upgrade`?)",
                EXIT_FAILURE,
            )


@click.group(cls=EngagementGroup)
@click.version_option(__version__, prog_name="engagement")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Self-hosted reader engagement: comments, reactions, inline feedback and e-mails.

    Settings come from ENGAGEMENT_* environment variables (see the README).
    """
    if ctx.obj is None:
        state = CliState(load_settings)
        state.on_commit = relay_handoff(state)
        ctx.obj = state
    ctx.call_on_close(ctx.obj.close)


main.lazy = {}
pass_state = click.make_pass_decorator(CliState)
