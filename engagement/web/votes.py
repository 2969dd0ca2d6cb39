"""PUT /api/v1/comments/{id}/vote: the reader's one vote on a comment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from engagement.services.audience.signin import identify_for_comment
from engagement.services.discussion.votes import vote
from engagement.web.deps import Uow
from engagement.web.errors import responses
from engagement.web.schemas import Strict
from engagement.web.signin import WriterDep

router = APIRouter(prefix="/api/v1", tags=["votes"], responses=responses(503))

MAX_ID = 2**31 - 1  # ids are 32-bit in the database; a larger one names no comment
CommentId = Annotated[int, Path(ge=1, le=MAX_ID, description="The comment's id")]


class VoteIn(Strict):
    value: int = Field(ge=-1, le=1, description="1 up, -1 down, 0 withdraws the vote")


class VoteOut(BaseModel):
    score: int
    my_vote: int


@router.put(
    "/comments/{comment_id}/vote", response_model=VoteOut, responses=responses(400, 401, 403, 404, 413, 422)
)
def put_vote(comment_id: CommentId, payload: VoteIn, uow: Uow, visitor: WriterDep) -> VoteOut:
    """Vote on an approved comment; the answer is its new score and the reader's vote.

    A reader signed in by the publisher's site votes once, from whichever device."""
    reader = identify_for_comment(uow, comment_id, visitor, writing=True).reader_id
    state = vote(uow, comment_id, reader, payload.value)
    return VoteOut(score=state.score, my_vote=state.my_vote)
