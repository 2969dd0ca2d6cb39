"""The overview screen: comments per day as an SVG chart, what waits, pages, mail and digests."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from engagement.services.admin.admin_overview import overview as read_overview
from engagement.web.admin.auth import PREFIX, SignedIn, page
from engagement.web.deps import Uow

router = APIRouter(prefix=PREFIX, include_in_schema=False)
CHART_HEIGHT = 120


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, signed: SignedIn, uow: Uow) -> HTMLResponse:
    data = read_overview(uow, signed.admin)
    peak = max((n for _, n in data.per_day), default=0) or 1
    bars = [(day, n, round(n / peak * CHART_HEIGHT)) for day, n in data.per_day]
    return page(request, "admin/overview.html", signed, data=data, bars=bars, peak=peak, height=CHART_HEIGHT)
