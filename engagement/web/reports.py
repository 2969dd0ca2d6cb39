"""POST /api/v1/comments/{id}/report: a reader reports a published comment to the moderators."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from engagement.services.audience.signin import identify_for_comment
from engagement.services.discussion.reports import MAX_NOTE, report_comment
from engagement.web.deps import ClientIp, Uow
from engagement.web.errors import responses
from engagement.web.schemas import Strict
from engagement.web.signin import WriterDep
from engagement.web.votes import CommentId

router = APIRouter(prefix="/api/v1", tags=["reports"], responses=responses(503))


class ReportIn(Strict):
    reason: Literal["spam", "abuse", "off_topic", "other"]
    note: str | None = Field(default=None, max_length=MAX_NOTE, description="What the moderators should know")


class ReportOut(BaseModel):
    reported: bool = Field(description="Always true: a second report by the same reader answers the same")


@router.post(
    "/comments/{comment_id}/report",
    response_model=ReportOut,
    responses=responses(400, 401, 403, 404, 413, 422, 429),
)
def post_report(
    comment_id: CommentId, payload: ReportIn, uow: Uow, ip: ClientIp, visitor: WriterDep
) -> ReportOut:
    """Report a published comment (once per reader; a reader's own comment cannot be reported)."""
    reader = identify_for_comment(uow, comment_id, visitor, writing=True).reader_id
    report_comment(uow, comment_id, reader, payload.reason, payload.note, ip)
    return ReportOut(reported=True)
