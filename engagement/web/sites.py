"""GET /api/v1/sites/{site}: what the widget may know of a site, and its most discussed pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from engagement.services.discussion import popular
from engagement.services.sites import cached_settings
from engagement.uow import UnitOfWork
from engagement.web.cors import bind_site
from engagement.web.deps import SitePath, Uow
from engagement.web.errors import responses
from engagement.web.responses import FastJSON, dumps, kept_answer

router = APIRouter(prefix="/api/v1", tags=["sites"], responses=responses(503))
SETTINGS_HEADERS = {"Cache-Control": "public, max-age=60"}


class ReactionChoice(BaseModel):
    key: str
    label: str


class Support(BaseModel):
    url: str | None
    text: str
    custom: bool = Field(
        description="The site's own text; otherwise the widget shows its default in its language"
    )


class PopularSetting(BaseModel):
    enabled: bool = Field(description="Whether the widget shows 'More discussions' under the thread")
    title: str | None = Field(description="The site's heading for it; null: the widget's own")


class SiteSettings(BaseModel):
    key: str
    name: str
    reactions: list[ReactionChoice]
    support: Support
    moderation: str
    edit_window_seconds: int
    language: str = Field(description="The site's default language (a shipped locale)")
    languages: list[str] = Field(description="Every shipped locale: GET /api/v1/strings/{locale}")
    popular: PopularSetting


class PopularPage(BaseModel):
    title: str | None
    url: str
    comments: int = Field(description="Comments published on it within the window")


class PopularOut(PopularSetting):
    days: int
    pages: list[PopularPage] = Field(description="Most discussed first; empty when turned off")


@router.get("/sites/{site}", response_model=SiteSettings, responses=responses(403, 404))
async def get_site_settings(site: SitePath, request: Request, uow: Uow) -> Response:
    """The site's reactions, support call to action, moderation policy and edit window."""
    return settings_response(request, uow, site)


def settings_response(request: Request, uow: UnitOfWork, site: str) -> Response:
    """The site settings' answer; the route and its fast path (``web/fast_reads.py``) answer
    with it. Kept whole with the cached settings: every widget load asks for it."""
    bind_site(request, site)
    entry = cached_settings(uow, site)
    return kept_answer(
        entry.rendered,
        "json",
        lambda: Response(dumps(entry.settings), media_type="application/json", headers=SETTINGS_HEADERS),
    )


@router.get("/sites/{site}/popular", response_model=PopularOut, responses=responses(400, 403, 404, 422))
async def get_popular(
    site: SitePath,
    request: Request,
    uow: Uow,
    days: Annotated[int, Query(ge=1, le=popular.MAX_DAYS, description="The window, in days")] = 7,
    limit: Annotated[int, Query(ge=1, le=popular.MAX_LIMIT)] = 5,
    page: Annotated[str | None, Query(max_length=2000, description="The reader's page, left out")] = None,
) -> FastJSON:
    """The site's most discussed pages of the last ``days`` (published comments only)."""
    bind_site(request, site)
    found = popular.popular_pages(uow, site, days=days, limit=limit, page=page)
    return FastJSON(found, headers={"Cache-Control": "public, max-age=30"})
