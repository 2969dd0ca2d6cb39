"""PUT /api/v1/reactions: the reader's one reaction to a page, changed or removed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from engagement.services.audience.signin import identify
from engagement.services.discussion.reactions import react
from engagement.web.cors import bind_site
from engagement.web.deps import SiteKey, Uow
from engagement.web.errors import responses
from engagement.web.schemas import Strict
from engagement.web.signin import WriterDep

router = APIRouter(prefix="/api/v1", tags=["reactions"], responses=responses(503))


class ReactionIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"site": "demo", "page": "https://example.org/2026/11/article", "reaction": "like"}]
        },
    )

    site: SiteKey
    page: str = Field(max_length=2000)
    page_title: str | None = Field(default=None, max_length=300)
    reaction: str | None = Field(
        max_length=32, description="One of the site's reaction keys; null removes it"
    )


class ReactionsOut(BaseModel):
    reactions: dict[str, int]
    my_reaction: str | None


@router.put("/reactions", response_model=ReactionsOut, responses=responses(400, 401, 403, 404, 413, 422))
def put_reaction(payload: ReactionIn, request: Request, uow: Uow, visitor: WriterDep) -> ReactionsOut:
    """Set, change (the same call) or remove (``reaction: null``) the reader's reaction."""
    bind_site(request, payload.site)
    reader = identify(uow, payload.site, visitor, writing=True).reader_id
    state = react(uow, payload.site, payload.page, reader, payload.reaction, payload.page_title)
    return ReactionsOut(reactions=state.reactions, my_reaction=state.my_reaction)
