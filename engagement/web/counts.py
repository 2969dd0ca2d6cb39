"""Counts for listing pages (count.js) and per-passage counts for inline feedback badges."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from engagement.services.discussion.threads import MAX_COUNT_PAGES, cached_counts, passage_counts
from engagement.uow import UnitOfWork
from engagement.web.cors import bind_site
from engagement.web.deps import SiteKey, SiteQuery, Uow
from engagement.web.errors import responses
from engagement.web.responses import FastJSON, dumps, kept_answer
from engagement.web.schemas import Strict

router = APIRouter(prefix="/api/v1", tags=["counts"], responses=responses(503))
COUNTS_CACHE = "public, max-age=30"
GET_HEADERS = {"Cache-Control": COUNTS_CACHE}  # a POST's answer is not kept by caches anyway
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
) -> Response:
    """Comments and reactions of up to 500 pages, keyed by the references given."""
    return counts_response(request, uow, site, page, GET_HEADERS)


@router.post("/counts", response_model=CountsOut, responses=responses(400, 403, 404, 413, 422))
async def post_counts(payload: CountsIn, request: Request, uow: Uow) -> Response:
    """The same as the GET, for lists of pages too long for a URL."""
    return counts_response(request, uow, payload.site, payload.pages)


def counts_response(
    request: Request, uow: UnitOfWork, site: str, pages: list[str], headers: Mapping[str, str] | None = None
) -> Response:
    """The counts' answer; the routes and their fast path (``web/fast_reads.py``) answer with it.
    Its JSON is kept with the cached counts: a listing page asked again is not serialised again."""
    bind_site(request, site)
    entry = cached_counts(uow, site, pages)
    key = "get" if headers else "post"  # the GET's answer carries its Cache-Control
    return kept_answer(
        entry.rendered,
        key,
        lambda: Response(dumps({"counts": entry.counts}), media_type="application/json", headers=headers),
    )


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
