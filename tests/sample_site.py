"""A small site with every kind of row a publisher has: the sample that backups and exports move."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engagement import migrations
from engagement.config import Settings, load_settings
from engagement.core import build_core
from engagement.services.audience.subscriptions import SubscribeRequest, subscribe
from engagement.services.discussion.comments import PostComment, delete_comment, post_comment
from engagement.services.discussion.reactions import react
from engagement.services.discussion.votes import vote
from engagement.services.sites import SiteChanges, add_site

SECRET = "test-secret-" + "x" * 32
ARTICLE = "https://news.example.org/2026/11/the-article"


def settings_for(url: str, tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path, database_url=url, secret_key=SECRET, rate_limits_enabled=False)


def populate(url: str, tmp_path: Path) -> None:
    """A site with a thread (a reply, a removed comment with a reply), reactions, votes, a subscriber."""
    migrations.upgrade(url)
    settings = load_settings(
        data_dir=tmp_path, database_url=url, secret_key=SECRET, rate_limits_enabled=False
    )
    core = build_core(settings)
    try:
        add_site(core.uow(), "daily", SiteChanges(name="Daily", origins=["https://news.example.org"]))

        def post(**values: Any) -> int:
            base = {"site": "daily", "page": ARTICLE, "author_name": "Jane", "body": "A *comment*."}
            return post_comment(core.uow(), PostComment(**{**base, **values})).comment.id

        first = post(author_email="jane@example.org", notify="replies", reader_id="reader-one")
        removing = post_comment(
            core.uow(),
            PostComment(
                site="daily", page=ARTICLE, author_name="Al", body="To be removed.", reader_id="reader-two"
            ),
        )
        removed = removing.comment.id
        post(parent=first, author_name="Bob", body="A reply with ünïcode ✓.")
        post(parent=removed, author_name="Ann", body="Replying to what goes.")
        delete_comment(core.uow(), removed, removing.edit_token)
        react(core.uow(), "daily", ARTICLE, "reader-one", "love")
        vote(core.uow(), first, "reader-two", 1)
        subscribe(
            core.uow(), SubscribeRequest(site="daily", email="sub@example.org", kind="thread", page=ARTICLE)
        )
    finally:
        core.dispose()
