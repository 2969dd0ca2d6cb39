"""POST /api/v1/preview: a comment body rendered as posting it would show it; nothing is stored."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from engagement.services.discussion.previews import preview_comment
from engagement.web.cors import bind_site
from engagement.web.deps import ClientIp, ReaderId, SiteKey, Uow
from engagement.web.errors import responses
from engagement.web.schemas import Strict

router = APIRouter(prefix="/api/v1", tags=["comments"], responses=responses(503))


class PreviewIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"site": "demo", "body": "A *thoughtful* comment."}]}
    )

    site: SiteKey
    body: str = Field(max_length=10_000, description="Markdown subset, as a comment's body")


class PreviewOut(BaseModel):
    html: str = Field(description="The sanitised HTML a posted comment with this body would show")


# A plain ``def``: the rate limit may wait on Redis, which must not hold up the event loop.
@router.post("/preview", response_model=PreviewOut, responses=responses(400, 403, 404, 413, 422, 429))
def preview_a_comment(
    payload: PreviewIn, request: Request, uow: Uow, ip: ClientIp, reader: ReaderId = None
) -> PreviewOut:
    """Render a comment body with the same markdown subset and sanitiser as a posted comment."""
    bind_site(request, payload.site)
    html = preview_comment(uow, payload.site, payload.body, reader_id=reader, client_ip=ip)
    return PreviewOut(html=html)
