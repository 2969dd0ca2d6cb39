"""Liveness, and readiness: the database and the broker are reachable."""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from engagement.config import Settings
from engagement.core import Core
from workers.probes import broker_problem

log = structlog.get_logger(__name__)
router = APIRouter(tags=["operations"])

CHECK_TIMEOUT_SECONDS = 2


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    database: bool
    broker: bool


@router.get("/healthz", response_model=Health, summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="The database and the broker are reachable",
    responses={503: {"model": Readiness, "description": "The database or the broker is unreachable."}},
)
def readyz(request: Request) -> JSONResponse:
    core: Core = request.app.state.core
    database, broker = database_reachable(core), broker_reachable(request.app.state.settings)
    ok = database and broker
    body = {"status": "ok" if ok else "unavailable", "database": database, "broker": broker}
    return JSONResponse(body, status_code=200 if ok else 503, headers={"Cache-Control": "no-store"})


def database_reachable(core: Core) -> bool:
    try:
        with core.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        log.warning("ready.database_unreachable", error=str(exc).splitlines()[0])
        return False
    return True


def broker_reachable(settings: Settings) -> bool:
    problem = broker_problem(settings, CHECK_TIMEOUT_SECONDS)
    if problem is not None:
        log.warning("ready.broker_unreachable", error=problem)
    return problem is None
