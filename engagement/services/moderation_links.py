"""What a signed moderation link would do, read without doing it: the page a moderator opens.

A link scanner that fetches the mail's links must change nothing, so the page shows the
comment and a button; the button calls :func:`~engagement.services.moderation.moderate_by_token`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from engagement.errors import CommentNotFound, InvalidToken
from engagement.models import Comment, Page
from engagement.services.moderation import ACTIONS, TOKEN_LIFETIME, QueueItem
from engagement.services.public import comment_view
from engagement.uow import UnitOfWork

DONE = {
    "approved": "already approved",
    "rejected": "already rejected",
    "spam": "already marked as spam",
    "deleted": "deleted by its author",
}


@dataclass(frozen=True)
class ModerationLink:
    """The link's action, the comment it concerns, and ``done`` when it was decided already."""

    action: str
    item: QueueItem
    done: str | None


def read_moderation_link(uow: UnitOfWork, token: str) -> ModerationLink:
    """Check a moderation link as ``moderate_by_token`` would, and show its comment; writes nothing."""
    data = uow.keys.unsign("moderate", token, max_age_seconds=int(TOKEN_LIFETIME.total_seconds()))
    comment_id, action, issued = data.get("comment"), data.get("action"), data.get("issued")
    if not isinstance(comment_id, int) or action not in ACTIONS or not isinstance(issued, int | float):
        raise InvalidToken("this link is not valid")
    with uow:
        if uow.now().timestamp() - issued > TOKEN_LIFETIME.total_seconds():
            raise InvalidToken("this link has expired")
        row = uow.session.execute(
            sa.select(Comment, Page).join(Page, Page.id == Comment.page_id).where(Comment.id == comment_id)
        ).one_or_none()
        if row is None:
            raise CommentNotFound(f"no comment {comment_id}")
        comment, page = row
        item = QueueItem(
            comment=comment_view(comment, public=False),
            body=comment.body,
            reason=comment.moderation_reason,
            page_key=page.key,
            page_url=page.url,
            page_title=page.title,
        )
        done = None if comment.status == "pending" else DONE.get(comment.status, comment.status)
        return ModerationLink(action=str(action), item=item, done=done)
