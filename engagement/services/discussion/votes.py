"""Votes on comments: one per reader per comment (+1, -1 or none), with a score kept in step."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engagement.errors import CommentNotFound, Forbidden, InvalidInput
from engagement.models import Comment, Vote
from engagement.services.discussion.publication import load_comment
from engagement.services.discussion.reactions import reader_hash
from engagement.uow import UnitOfWork

VALUES = (1, -1, 0)


@dataclass(frozen=True)
class VoteState:
    score: int
    my_vote: int


def vote(uow: UnitOfWork, comment_id: int, reader_id: str | None, value: int) -> VoteState:
    """Set the reader's vote on an approved comment; 0 withdraws it."""
    if type(value) is not int or value not in VALUES:
        raise InvalidInput("value", "must be 1, -1 or 0")
    if isinstance(comment_id, bool) or not isinstance(comment_id, int) or comment_id < 1:
        raise InvalidInput("comment", "must be a comment id")
    reader = reader_hash(uow, reader_id)
    with uow:
        comment = _lock_comment(uow.session, comment_id)
        old = uow.session.scalars(
            sa.select(Vote).where(Vote.comment_id == comment.id, Vote.reader_hash == reader)
        ).one_or_none()
        old_value = old.value if old is not None else 0
        if value == 0:
            if old is not None:
                uow.session.delete(old)
        elif old is None:
            uow.session.add(
                Vote(comment_id=comment.id, reader_hash=reader, value=value, created_at=uow.now())
            )
        else:
            old.value = value
        comment.score += value - old_value
        state = VoteState(score=comment.score, my_vote=value)
        uow.commit()
        return state


def _lock_comment(session: Session, comment_id: int) -> Comment:
    """The published comment, its row locked until commit: votes on one comment apply one by one.

    Without the lock two readers could both read the score and both write score + 1.
    """
    try:
        comment = load_comment(session, comment_id)
    except CommentNotFound:
        raise CommentNotFound(f"no published comment {comment_id}") from None
    if comment.status in ("pending", "rejected", "spam"):
        raise CommentNotFound(f"no published comment {comment_id}")
    if comment.status != "approved":
        raise Forbidden("a deleted comment cannot be voted on")
    return comment
