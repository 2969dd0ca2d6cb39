"""Counts for listing pages (count.js) and per-passage counts for inline feedback badges."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from engagement.services.threads import MAX_COUNT_PAGES, page_counts, passage_counts
from engagement.web.cors import bind_site
from engagement.web.deps import SiteKey, SiteQuery, Uow
from engagement.web.errors import responses
from engagement.web.responses import FastJSON
from engagement.web.schemas import Strict

router = APIRouter(prefix="/api/v1", tags=["counts"], responses=responses(503))
COUNTS_CACHE = "public, max-age=30"
PageRef = Annotated[str, Field(max_length=2000)]


class CountsIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"site": "demo", "pages": ["/2026/11/article", "/2026/11/other"]}]},
    )

    site: SiteKey
    pages: list[PageRef] = Field(max_length=MAX_COUNT_PAGES)


class PageCount(BaseModel):
    comments: int
    reactions: int


class CountsOut(BaseModel):
    counts: dict[str, PageCount]


class PassagesOut(BaseModel):
    passages: dict[str, int] = Field(description="Published comments per marked passage id")


@router.get("/counts", response_model=CountsOut, responses=responses(400, 403, 404, 422))
async def get_counts(
    request: Request,
    uow: Uow,
    site: SiteQuery,
    page: Annotated[list[PageRef], Query(max_length=MAX_COUNT_PAGES, description="Repeat for each page")],
) -> FastJSON:
    """Comments and reactions of up to 500 pages, keyed by the references given."""
    bind_site(request, site)
    counts = page_counts(uow, site, page)
    return FastJSON({"counts": counts}, headers={"Cache-Control": COUNTS_CACHE})


@router.post("/counts", response_model=CountsOut, responses=responses(400, 403, 404, 413, 422))
async def post_counts(payload: CountsIn, request: Request, uow: Uow) -> FastJSON:
    """The same as the GET, for lists of pages too long for a URL."""
    bind_site(request, payload.site)
    return FastJSON({"counts": page_counts(uow, payload.site, payload.pages)})


@router.get("/passages", response_model=PassagesOut, responses=responses(400, 403, 404, 422))
async def get_passages(
    request: Request,
    uow: Uow,
    site: SiteQuery,
    page: Annotated[str, Query(max_length=2000)],
) -> FastJSON:
    """How many comments point at each marked passage of a page (the inline feedback badges)."""
    bind_site(request, site)
    counts = passage_counts(uow, site, page)
    return FastJSON({"passages": counts}, headers={"Cache-Control": "public, max-age=5"})
