"""``engagement moderation``: the queue, and approve / reject / spam / ban from a terminal."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import click
from rich.console import Console
from rich.table import Table

from engagement.cli._app import CliState, pass_state
from engagement.services.discussion import moderation as service
from engagement.services.discussion.public import CommentView
from engagement.uow import UnitOfWork

EXCERPT = 120


@click.group()
def moderation() -> None:
    """Review comments held for moderation or caught as spam."""


@moderation.command()
@click.argument("site")
@click.option("--spam", is_flag=True, help="Show comments caught as spam instead of those pending.")
@click.option("--limit", type=int, default=100, show_default=True)
@pass_state
def queue(state: CliState, /, site: str, spam: bool, limit: int) -> None:
    """List the comments of SITE waiting for a decision, oldest first."""
    items = service.moderation_queue(state.uow(), site, status="spam" if spam else "pending", limit=limit)
    if not items:
        click.echo("nothing caught as spam" if spam else "nothing waiting for moderation")
        return
    console = Console()
    if not console.is_terminal:
        console.width = 200
    console.print(_table(items))


def _table(items: Sequence[service.QueueItem]) -> Table:
    table = Table("id", "posted", "page", "author", "why held", "comment")
    for item in items:
        body = " ".join(item.body.split())
        table.add_row(
            str(item.comment.id),
            item.comment.created_at,
            item.page_title or item.page_url or item.page_key,
            item.comment.author.name or "-",
            item.reason or "-",
            body if len(body) <= EXCERPT else body[: EXCERPT - 1] + "…",
        )
    return table


def _decision(
    name: str, act: Callable[[UnitOfWork, int], CommentView], done: str, summary: str
) -> click.Command:
    @click.command(name, help=f"{summary} (COMMENT is the id the queue shows).")
    @click.argument("comment", type=int)
    @pass_state
    def command(state: CliState, /, comment: int) -> None:
        view = act(state.uow(), comment)
        click.echo(f"comment {view.id} {done}")

    return command


moderation.add_command(_decision("approve", service.approve_comment, "approved", "Publish a comment"))
moderation.add_command(_decision("reject", service.reject_comment, "rejected", "Refuse a comment"))
moderation.add_command(_decision("spam", service.mark_spam, "marked as spam", "Mark a comment as spam"))


@moderation.command()
@click.argument("site")
@click.argument("email")
@click.option("--reason", help="Kept with the ban, for the moderators.")
@pass_state
def ban(state: CliState, /, site: str, email: str, reason: str | None) -> None:
    """Refuse further comments from EMAIL on SITE."""
    service.ban_address(state.uow(), site, email, reason)
    click.echo(f"{email} may no longer comment on {site}")


@moderation.command("ban-author")
@click.argument("comment", type=int)
@click.option("--reason", help="Kept with the ban, for the moderators.")
@pass_state
def ban_author(state: CliState, /, comment: int, reason: str | None) -> None:
    """Ban the author of COMMENT by address and reader id, whichever are known."""
    service.ban_author(state.uow(), comment, reason)
    click.echo(f"the author of comment {comment} may no longer comment on this site")
