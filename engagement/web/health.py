"""Liveness, and readiness: the database and the broker are reachable."""

from __future__ import annotations

import os
from typing import Literal

import sqlalchemy as sa
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from engagement.config import Settings
from engagement.core import Core

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
    url = settings.resolved_broker_url
    try:
        if url.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(
                url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS
            )
            try:
                return bool(client.ping())
            finally:
                client.close()
        if url.startswith("filesystem://"):
            # The serverless broker is a folder under the data folder: it must be writable.
            return settings.data_dir.is_dir() and os.access(settings.data_dir, os.W_OK)
        from kombu import Connection

        with Connection(url, connect_timeout=CHECK_TIMEOUT_SECONDS) as conn:
            conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure to reach the broker means "not ready", never a 500
        log.warning("ready.broker_unreachable", error=str(exc).splitlines()[0] if str(exc) else repr(exc))
        return False
    return True
