"""What a signed moderation link would do, read without doing it: the page a moderator opens.

A link scanner that fetches the mail's links must change nothing, so the page shows the
comment and a button; the button calls :func:`~engagement.services.discussion.moderation.moderate_by_token`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from engagement.errors import CommentNotFound
from engagement.models import Comment, Page, Site
from engagement.services.discussion.moderation import QueueItem, decided, queue_item, read_moderation_token
from engagement.uow import UnitOfWork


@dataclass(frozen=True)
class ModerationLink:
    """The link's action, the comment it concerns, and ``done`` when it was decided already."""

    action: str
    item: QueueItem
    done: str | None
    locale: str  # the site's language (a moderator's browser language goes first on the page)


def read_moderation_link(uow: UnitOfWork, token: str) -> ModerationLink:
    """Check a moderation link as ``moderate_by_token`` would, and show its comment; writes nothing."""
    comment_id, action = read_moderation_token(uow, token)
    with uow:
        row = uow.session.execute(
            sa.select(Comment, Page).join(Page, Page.id == Comment.page_id).where(Comment.id == comment_id)
        ).one_or_none()
        if row is None:
            raise CommentNotFound(f"no comment {comment_id}")
        comment, page = row
        language = uow.session.scalars(sa.select(Site.language).where(Site.id == page.site_id)).one()
        return ModerationLink(
            action=action, item=queue_item(comment, page), done=decided(comment), locale=language
        )
