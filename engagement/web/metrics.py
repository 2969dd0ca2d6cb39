"""``GET /metrics``: Prometheus's text format, behind ``ENGAGEMENT_METRICS_TOKEN`` when it is set."""

from __future__ import annotations

import sqlalchemy as sa
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from starlette.exceptions import HTTPException

from engagement.config import Settings
from engagement.core import Core
from engagement.metrics_scrape import Cached, Scrape, authorized, gauge_metrics
from engagement.services.operations.gauges import Gauges, read_gauges
from engagement.web.bearer import CHALLENGE
from workers import make_celery
from workers.queues import queue_lengths

log = structlog.get_logger(__name__)
router = APIRouter(tags=["operations"])


def web_scrape(settings: Settings, core: Core) -> Scrape:
    """What the web's ``/metrics`` shows: every web process's counters and the system's gauges."""
    broker = make_celery(settings)

    def gauges() -> list[Metric]:
        try:
            state = read_gauges(core.uow())
        except sa.exc.SQLAlchemyError as exc:  # the database away leaves its gauges out
            log.warning("metrics.database_unreachable", error=str(exc).splitlines()[0])
            state = None
        metrics = gauge_metrics(state or Gauges(), queue_lengths(broker))
        return metrics if state is not None else metrics[-1:]

    return Scrape(Cached(gauges))


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}},
        401: {"description": "ENGAGEMENT_METRICS_TOKEN is set and the request did not carry it"},
    },
)
def metrics(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    if not authorized(request.headers.get("authorization"), settings.metrics_token):
        raise HTTPException(401, detail="Authorization must be 'Bearer <metrics token>'", headers=CHALLENGE)
    scrape: Scrape = request.app.state.scrape
    return Response(scrape.render(), media_type=CONTENT_TYPE_LATEST)
