"""GET /api/v1/sites/{site}: what the widget may know of a site."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from engagement.services.sites import public_settings, read_site
from engagement.web.cors import bind_site
from engagement.web.deps import SitePath, Uow
from engagement.web.errors import responses

router = APIRouter(prefix="/api/v1", tags=["sites"], responses=responses(503))


class ReactionChoice(BaseModel):
    key: str
    label: str


class Support(BaseModel):
    url: str | None
    text: str
    custom: bool = Field(
        description="The site's own text; otherwise the widget shows its default in its language"
    )


class SiteSettings(BaseModel):
    key: str
    name: str
    reactions: list[ReactionChoice]
    support: Support
    moderation: str
    edit_window_seconds: int
    language: str = Field(description="The site's default language (a shipped locale)")
    languages: list[str] = Field(description="Every shipped locale: GET /api/v1/strings/{locale}")


@router.get("/sites/{site}", response_model=SiteSettings, responses=responses(403, 404))
async def get_site_settings(site: SitePath, request: Request, uow: Uow) -> JSONResponse:
    """The site's reactions, support call to action, moderation policy and edit window."""
    bind_site(request, site)
    found = read_site(uow, site)
    return JSONResponse(public_settings(found), headers={"Cache-Control": "public, max-age=60"})
